using System.Numerics.Tensors;

namespace Engine.FixedPoints;

/// <summary>The float64 Newton / Levenberg–Marquardt polish of candidate fixed points.</summary>
/// <remarks>
/// On r(h) = F(h) − h with Jacobian A = ∂F/∂h − I: try the Newton step A δ = −r; if A is singular or the step does
/// not lower q = ½‖r‖², take damped steps (AᵀA + μ I) δ = −Aᵀ r with μ growing 100-fold (from 1e-6 · max diag AᵀA, at most
/// <see cref="MaxDampingTries"/> times) until q falls. A step is kept only if it lowers q, so the polish never makes a point worse. Stops when q is
/// below <see cref="TargetQ"/>, no step lowers q, convergence is merely linear (<see cref="SlowRatio"/>), or after the budget. O(N³) per iteration.
/// </remarks>
public static class Polish
{
    /// <summary>q below which the polish stops (the float64 noise floor for N up to a few hundred).</summary>
    public const double TargetQ = 1e-28;

    /// <summary>Damped (LM) solves tried per iteration, μ growing 100-fold each time.</summary>
    public const int MaxDampingTries = 5;

    /// <summary>After two iterations, stop once an iteration lowers q by less than half: no fixed point is near (a slow point).</summary>
    public const double SlowRatio = 0.5;

    /// <summary>Polishes <paramref name="h"/> [N] in place; returns its final q and the iterations taken.</summary>
    public static (double Q, int Iterations) Run(FrozenNetwork net, Span<double> h, int maxIterations)
    {
        ArgumentNullException.ThrowIfNull(net);
        int n = net.Hidden;
        var r = new double[n];
        var trial = new double[n];
        var rTrial = new double[n];
        var a = new double[n * n];
        var m = new double[n * n];
        var delta = new double[n];
        var pivots = new int[n];
        double q = net.Residual(h, r);
        int it = 0;
        for (; it < maxIterations && q > TargetQ && double.IsFinite(q); it++)
        {
            net.Jacobian(h, a);
            for (int i = 0; i < n; i++)
            {
                a[i * n + i] -= 1;
            }

            bool improved = false;
            double before = q;
            a.CopyTo(m, 0);
            for (int i = 0; i < n; i++)
            {
                delta[i] = -r[i];
            }

            if (Lu.Factor(m, n, pivots))
            {
                Lu.Solve(m, n, pivots, delta);
                improved = TryStep(net, h, delta, trial, rTrial, ref q, r);
            }

            if (!improved)
            {
                // Levenberg–Marquardt: (AᵀA + μ I) δ = −Aᵀ r.
                var ata = new double[n * n];
                var atr = new double[n];
                for (int k = 0; k < n; k++)
                {
                    var row = a.AsSpan(k * n, n);
                    for (int i = 0; i < n; i++)
                    {
                        if (row[i] != 0)
                        {
                            TensorPrimitives.MultiplyAdd(row, row[i], ata.AsSpan(i * n, n), ata.AsSpan(i * n, n));
                            atr[i] -= row[i] * r[k];
                        }
                    }
                }

                double maxDiag = 0;
                for (int i = 0; i < n; i++)
                {
                    maxDiag = Math.Max(maxDiag, ata[i * n + i]);
                }

                double mu = 1e-6 * Math.Max(maxDiag, 1e-300);
                for (int tries = 0; tries < MaxDampingTries && !improved; tries++, mu *= 100)
                {
                    ata.CopyTo(m, 0);
                    for (int i = 0; i < n; i++)
                    {
                        m[i * n + i] += mu;
                    }

                    atr.CopyTo(delta, 0);
                    if (Lu.Factor(m, n, pivots))
                    {
                        Lu.Solve(m, n, pivots, delta);
                        improved = TryStep(net, h, delta, trial, rTrial, ref q, r);
                    }
                }
            }

            if (!improved || (it >= 2 && q > SlowRatio * before))
            {
                it++;
                break;
            }
        }

        return (q, it);
    }

    private static bool TryStep(FrozenNetwork net, Span<double> h, double[] delta, double[] trial, double[] rTrial, ref double q, double[] r)
    {
        for (int i = 0; i < h.Length; i++)
        {
            trial[i] = h[i] + delta[i];
        }

        double qTrial = net.Residual(trial, rTrial);
        if (!(qTrial < q))
        {
            return false;
        }

        trial.CopyTo(h);
        rTrial.CopyTo(r, 0);
        q = qTrial;
        return true;
    }
}

/// <summary>Dense LU with partial pivoting in float64 (row-major, in place).</summary>
internal static class Lu
{
    /// <summary>Factors A = P L U in place; false if A is singular to working precision.</summary>
    public static bool Factor(double[] a, int n, int[] pivots)
    {
        double scale = 0;
        foreach (double x in a.AsSpan(0, n * n))
        {
            scale = Math.Max(scale, Math.Abs(x));
        }

        if (!(scale > 0) || !double.IsFinite(scale))
        {
            return false;
        }

        for (int k = 0; k < n; k++)
        {
            int p = k;
            double best = Math.Abs(a[k * n + k]);
            for (int i = k + 1; i < n; i++)
            {
                double v = Math.Abs(a[i * n + k]);
                if (v > best)
                {
                    (best, p) = (v, i);
                }
            }

            if (best <= 1e-14 * scale)
            {
                return false;
            }

            pivots[k] = p;
            if (p != k)
            {
                a.AsSpan(k * n, n).CopyTo(Swap(a, n));
                a.AsSpan(p * n, n).CopyTo(a.AsSpan(k * n, n));
                Swap(a, n).CopyTo(a.AsSpan(p * n, n));
            }

            double inv = 1.0 / a[k * n + k];
            var pivotRow = a.AsSpan(k * n + k + 1, n - k - 1);
            for (int i = k + 1; i < n; i++)
            {
                double l = a[i * n + k] * inv;
                a[i * n + k] = l;
                if (l != 0)
                {
                    var row = a.AsSpan(i * n + k + 1, n - k - 1);
                    TensorPrimitives.MultiplyAdd(pivotRow, -l, row, row);
                }
            }
        }

        return true;
    }

    /// <summary>Solves A x = b with the factors from <see cref="Factor"/>; b is overwritten by x.</summary>
    public static void Solve(double[] lu, int n, int[] pivots, double[] b)
    {
        for (int k = 0; k < n; k++)
        {
            if (pivots[k] != k)
            {
                (b[k], b[pivots[k]]) = (b[pivots[k]], b[k]);
            }
        }

        for (int i = 0; i < n; i++)
        {
            b[i] -= TensorPrimitives.Dot(lu.AsSpan(i * n, i), b.AsSpan(0, i));
        }

        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i] - TensorPrimitives.Dot(lu.AsSpan(i * n + i + 1, n - i - 1), b.AsSpan(i + 1, n - i - 1));
            b[i] = s / lu[i * n + i];
        }
    }

    [ThreadStatic]
    private static double[]? _swap;

    private static Span<double> Swap(double[] a, int n)
    {
        if (_swap is null || _swap.Length < n)
        {
            _swap = new double[n];
        }

        return _swap.AsSpan(0, n);
    }
}
