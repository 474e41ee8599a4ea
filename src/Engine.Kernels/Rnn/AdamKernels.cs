using ILGPU;

namespace Engine.Kernels.Rnn;

/// <summary>Arguments of <see cref="AdamKernels.Update"/>.</summary>
public readonly struct AdamArgs
{
    /// <summary>Creates the pack.</summary>
    public AdamArgs(int networks, int stride, int blocks, int startU, int startB, int startC, int startD, int startH0,
        ArrayView<float> parameters, ArrayView<float> gradient,
        ArrayView<float> firstMoment, ArrayView<float> secondMoment, ArrayView<AdamCoefficients> coefficients)
    {
        Networks = networks;
        Stride = stride;
        Blocks = blocks;
        StartU = startU;
        StartB = startB;
        StartC = startC;
        StartD = startD;
        StartH0 = startH0;
        Parameters = parameters;
        Gradient = gradient;
        FirstMoment = firstMoment;
        SecondMoment = secondMoment;
        Coefficients = coefficients;
    }

    /// <summary>E.</summary>
    public readonly int Networks;

    /// <summary>P.</summary>
    public readonly int Stride;

    /// <summary>Parameter blocks per network (5, or 6 with a learned h₀).</summary>
    public readonly int Blocks;

    /// <summary>Start of U within a network's slice (W starts at 0).</summary>
    public readonly int StartU;

    /// <summary>Start of b.</summary>
    public readonly int StartB;

    /// <summary>Start of C.</summary>
    public readonly int StartC;

    /// <summary>Start of d.</summary>
    public readonly int StartD;

    /// <summary>Start of h₀ (= P when not learned).</summary>
    public readonly int StartH0;

    /// <summary>[E][P], updated.</summary>
    public readonly ArrayView<float> Parameters;

    /// <summary>[E][P].</summary>
    public readonly ArrayView<float> Gradient;

    /// <summary>m, [E][P], updated.</summary>
    public readonly ArrayView<float> FirstMoment;

    /// <summary>v, [E][P], updated.</summary>
    public readonly ArrayView<float> SecondMoment;

    /// <summary>[E][Blocks].</summary>
    public readonly ArrayView<AdamCoefficients> Coefficients;
}

/// <summary>The optimizer as one elementwise pass over the flat parameter block.</summary>
public static class AdamKernels
{
    /// <summary>One Adam update per element with the coefficients of its network and block.</summary>
    /// <remarks>Thread (e, k) of E×P: <see cref="AdamMath.Update(ref float, ref float, ref float, float, AdamCoefficients)"/>; a block with StepSize 0 is left untouched.</remarks>
    public static void Update(AdamArgs a)
    {
        int idx = Grid.GlobalIndex.X;
        if (idx >= a.Networks * a.Stride)
        {
            return;
        }

        int e = idx / a.Stride, k = idx - e * a.Stride;
        int block = k >= a.StartH0 ? 5 : k >= a.StartD ? 4 : k >= a.StartC ? 3 : k >= a.StartB ? 2 : k >= a.StartU ? 1 : 0;
        var c = a.Coefficients[e * a.Blocks + block];
        if (c.StepSize == 0f)
        {
            return;
        }

        AdamMath.Update(ref a.Parameters[idx], ref a.FirstMoment[idx], ref a.SecondMoment[idx], a.Gradient[idx], c);
    }
}
