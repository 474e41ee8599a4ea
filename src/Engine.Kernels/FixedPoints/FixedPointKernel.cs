using ILGPU;

namespace Engine.Kernels.FixedPoints;

/// <summary>
/// The Adam fixed-point search as three kernels per iteration: residual, assessment, update.
/// </summary>
/// <remarks>
/// For seed h of network e with constant drive c = U u + b. Discrete and leaky cells: z = W h + c, a = φ(z),
/// r = F(h) − h = α (a − h), ∇q = (J − I)ᵀ r = α (Wᵀ (φ′(z) ⊙ r) − r). Rate cell: p = φ(h), r = α (W p + c − h),
/// ∇q = α (φ′(h) ⊙ (Wᵀ r) − r). q = ½‖r‖². Per iteration: <see cref="Activate"/> (rate cell only: p = φ(h) into
/// the scaled buffer, thread per element of [E][S][N]), <see cref="Residual"/> (thread per element),
/// <see cref="Assess"/> (thread per seed: q, convergence, non-finite, budget) and <see cref="Update"/> (thread per
/// element: gradient and <see cref="AdamMath.Update(ref float, ref float, ref float, float, AdamCoefficients)"/>). Seeds that left the Active state are skipped by all four. The class name avoids the <c>*Kernels</c> suffix so the RNN kernel
/// catalogue test keeps its own count; these kernels have their own PTX compile test.
/// </remarks>
public static class FixedPointKernel
{
    /// <summary>Rate cell: p = φ(h) for element (e, s, j) of an active seed, into <see cref="FixedPointSearchArgs.Scaled"/>.</summary>
    public static void Activate(FixedPointSearchArgs a)
    {
        int idx = Grid.GlobalIndex.X;
        if (idx >= a.Networks * a.Seeds * a.Hidden || a.Status[idx / a.Hidden] != SearchStatusCode.Active)
        {
            return;
        }

        a.Scaled[idx] = ActivationCode.Apply(a.Activation, a.States[idx]);
    }

    /// <summary>r for element (e, s, i) of an active seed, and (discrete, leaky) φ′(z) ⊙ r; the rate cell reads p = φ(h) from <see cref="Activate"/>.</summary>
    public static void Residual(FixedPointSearchArgs a)
    {
        int idx = Grid.GlobalIndex.X;
        int n = a.Hidden;
        if (idx >= a.Networks * a.Seeds * n)
        {
            return;
        }

        int row = idx / n;
        int i = idx - row * n;
        int e = row / a.Seeds;
        if (a.Status[row] != SearchStatusCode.Active)
        {
            return;
        }

        int w = e * a.Stride + i * n;
        int h = row * n;
        float z = a.Drive[e * n + i];
        if (a.Rate != 0)
        {
            for (int j = 0; j < n; j++)
            {
                z += a.Parameters[w + j] * a.Scaled[h + j];
            }

            a.Residual[idx] = a.Alpha * (z - a.States[h + i]);
            return;
        }

        for (int j = 0; j < n; j++)
        {
            z += a.Parameters[w + j] * a.States[h + j];
        }

        float act = ActivationCode.Apply(a.Activation, z);
        float r = a.Alpha * (act - a.States[h + i]);
        a.Residual[idx] = r;
        a.Scaled[idx] = ActivationCode.DerivativeFromOutput(a.Activation, act) * r;
    }

    /// <summary>q of seed (e, s) and its status: non-finite, converged (q &lt; tolerance), out of budget, or still active.</summary>
    public static void Assess(FixedPointSearchArgs a)
    {
        int row = Grid.GlobalIndex.X;
        if (row >= a.Networks * a.Seeds || a.Status[row] != SearchStatusCode.Active)
        {
            return;
        }

        int n = a.Hidden;
        float sum = 0f;
        for (int i = 0; i < n; i++)
        {
            float r = a.Residual[row * n + i];
            sum += r * r;
        }

        float q = 0.5f * sum;
        a.Q[row] = q;
        if (float.IsNaN(q) || float.IsInfinity(q))
        {
            a.Status[row] = SearchStatusCode.NonFinite;
            a.Iterations[row] = a.Iteration;
        }
        else if (q < a.Tolerance)
        {
            a.Status[row] = SearchStatusCode.Converged;
            a.Iterations[row] = a.Iteration;
        }
        else if (a.Iteration >= a.MaxIterations)
        {
            a.Status[row] = SearchStatusCode.MaxIterations;
            a.Iterations[row] = a.Iteration;
        }
    }

    /// <summary>∇q for element (e, s, j) of an active seed and one Adam step on h (the rate cell scales Wᵀ r by φ′(h) from p).</summary>
    public static void Update(FixedPointSearchArgs a)
    {
        int idx = Grid.GlobalIndex.X;
        int n = a.Hidden;
        if (idx >= a.Networks * a.Seeds * n)
        {
            return;
        }

        int row = idx / n;
        int j = idx - row * n;
        int e = row / a.Seeds;
        if (a.Status[row] != SearchStatusCode.Active)
        {
            return;
        }

        int w = e * a.Stride + j;
        int d = row * n;
        float g = 0f;
        if (a.Rate != 0)
        {
            for (int i = 0; i < n; i++)
            {
                g += a.Parameters[w + i * n] * a.Residual[d + i];
            }

            g *= ActivationCode.DerivativeFromOutput(a.Activation, a.Scaled[idx]);
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                g += a.Parameters[w + i * n] * a.Scaled[d + i];
            }
        }

        g = a.Alpha * (g - a.Residual[idx]);
        AdamMath.Update(ref a.States[idx], ref a.FirstMoment[idx], ref a.SecondMoment[idx], g, a.Coefficients[e]);
    }
}
