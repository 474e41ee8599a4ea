using ILGPU;

namespace Engine.Kernels.Rnn;

/// <summary>Arguments of <see cref="AdamKernels.Update"/>.</summary>
public readonly struct AdamArgs
{
    /// <summary>Creates the pack.</summary>
    public AdamArgs(int networks, int stride, ArrayView<float> parameters, ArrayView<float> gradient,
        ArrayView<float> firstMoment, ArrayView<float> secondMoment, ArrayView<AdamCoefficients> coefficients)
    {
        Networks = networks;
        Stride = stride;
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

    /// <summary>[E][P], updated.</summary>
    public readonly ArrayView<float> Parameters;

    /// <summary>[E][P].</summary>
    public readonly ArrayView<float> Gradient;

    /// <summary>m, [E][P], updated.</summary>
    public readonly ArrayView<float> FirstMoment;

    /// <summary>v, [E][P], updated.</summary>
    public readonly ArrayView<float> SecondMoment;

    /// <summary>[E].</summary>
    public readonly ArrayView<AdamCoefficients> Coefficients;
}

/// <summary>The optimizer as one elementwise pass over the flat parameter block.</summary>
public static class AdamKernels
{
    /// <summary>One Adam update per element with its network's coefficients.</summary>
    /// <remarks>Thread (e, k) of E×P: <see cref="AdamMath.Update"/>; a network with StepSize 0 is left untouched.</remarks>
    public static void Update(AdamArgs a)
    {
        int idx = Grid.GlobalIndex.X;
        if (idx >= a.Networks * a.Stride)
        {
            return;
        }

        var c = a.Coefficients[idx / a.Stride];
        if (c.StepSize == 0f)
        {
            return;
        }

        AdamMath.Update(ref a.Parameters[idx], ref a.FirstMoment[idx], ref a.SecondMoment[idx], a.Gradient[idx], c);
    }
}
