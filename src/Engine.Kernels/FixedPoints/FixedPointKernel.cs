using ILGPU;

namespace Engine.Kernels.FixedPoints;

/// <summary>
/// The Adam fixed-point search as three kernels per iteration: residual, assessment, update.
/// </summary>
/// <remarks>
/// For seed h of network e with constant drive c = U u + b: z = W h + c, a = φ(z), r = F(h) − h = α (a − h),
/// q = ½‖r‖², ∇q = (J − I)ᵀ r = α (Wᵀ (φ′(z) ⊙ r) − r). Per iteration: <see cref="Residual"/> (thread per
/// element of [E][S][N]), <see cref="Assess"/> (thread per seed: q, convergence, non-finite, budget) and
/// <see cref="Update"/> (thread per element: gradient and <see cref="AdamMath.Update"/>). Seeds that left the
/// Active state are skipped by all three. The class name avoids the <c>*Kernels</c> suffix so the RNN kernel
/// catalogue test keeps its own count; these kernels have their own PTX compile test.
/// </remarks>
public static class FixedPointKernel
{
    /// <summary>r and φ′ ⊙ r for element (e, s, i) of an active seed.</summary>
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

    /// <summary>∇q for element (e, s, j) of an active seed and one Adam step on h.</summary>
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
        for (int i = 0; i < n; i++)
        {
            g += a.Parameters[w + i * n] * a.Scaled[d + i];
        }

        g = a.Alpha * (g - a.Residual[idx]);
        AdamMath.Update(ref a.States[idx], ref a.FirstMoment[idx], ref a.SecondMoment[idx], g, a.Coefficients[e]);
    }
}
