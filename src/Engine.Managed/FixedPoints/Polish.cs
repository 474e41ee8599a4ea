using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

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
        var ws = Workspace.For(n);
        double[] r = ws.R, trial = ws.Trial, rTrial = ws.RTrial, a = ws.A, m = ws.M, delta = ws.Delta, ata = ws.Ata, atr = ws.Atr;
        int[] pivots = ws.Pivots;
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
                Gram.Upper(a, n, ata);
                Array.Clear(atr, 0, n);
                for (int k = 0; k < n; k++)
                {
                    TensorPrimitives.MultiplyAdd(a.AsSpan(k * n, n), -r[k], atr.AsSpan(0, n), atr.AsSpan(0, n));
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

    /// <summary>One thread's buffers for N (made anew when N changes): the polish of a point allocates nothing.</summary>
    private sealed class Workspace
    {
        [ThreadStatic]
        private static Workspace? _current;

        private Workspace(int n)
        {
            N = n;
            (R, Trial, RTrial, Delta, Atr) = (new double[n], new double[n], new double[n], new double[n], new double[n]);
            (A, M, Ata) = (new double[n * n], new double[n * n], new double[n * n]);
            Pivots = new int[n];
        }

        public int N { get; }

        public double[] R { get; }

        public double[] Trial { get; }

        public double[] RTrial { get; }

        public double[] Delta { get; }

        public double[] Atr { get; }

        public double[] A { get; }

        public double[] M { get; }

        public double[] Ata { get; }

        public int[] Pivots { get; }

        public static Workspace For(int n)
        {
            if (_current is not { } ws || ws.N != n)
            {
                ws = new Workspace(n);
                _current = ws;
            }

            return ws;
        }
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
/// <remarks>
/// Panels of <see cref="Panel"/> columns: within a panel, each column is brought up to date with the panel's earlier
/// pivots before its pivot search (and the pivot row before it becomes a row of U); the rows below the panel are then
/// updated once with all its pivot rows, A[i, k₀+b:] −= Σ_p L[i, p] U[p, k₀+b:] in one pass of fused multiply-adds
/// (five loads and a store per four FMAs instead of three memory operations per FMA). 2/3 N³ FLOP.
/// </remarks>
internal static class Lu
{
    /// <summary>Columns per panel.</summary>
    public const int Panel = 4;

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

        for (int k0 = 0; k0 < n; k0 += Panel)
        {
            int kEnd = Math.Min(n, k0 + Panel);
            for (int k = k0; k < kEnd; k++)
            {
                // column k, rows k.., brought up to date with the panel's pivots k0..k−1
                for (int i = k; i < n; i++)
                {
                    double v = a[i * n + k];
                    for (int p = k0; p < k; p++)
                    {
                        v -= a[i * n + p] * a[p * n + k];
                    }

                    a[i * n + k] = v;
                }

                int piv = k;
                double best = Math.Abs(a[k * n + k]);
                for (int i = k + 1; i < n; i++)
                {
                    double v = Math.Abs(a[i * n + k]);
                    if (v > best)
                    {
                        (best, piv) = (v, i);
                    }
                }

                if (best <= 1e-14 * scale)
                {
                    return false;
                }

                pivots[k] = piv;
                if (piv != k)
                {
                    a.AsSpan(k * n, n).CopyTo(Swap(a, n));
                    a.AsSpan(piv * n, n).CopyTo(a.AsSpan(k * n, n));
                    Swap(a, n).CopyTo(a.AsSpan(piv * n, n));
                }

                // the pivot row's U part, up to date with the panel's pivots k0..k−1
                var urow = a.AsSpan(k * n + k + 1, n - k - 1);
                for (int p = k0; p < k; p++)
                {
                    TensorPrimitives.MultiplyAdd(a.AsSpan(p * n + k + 1, n - k - 1), -a[k * n + p], urow, urow);
                }

                double inv = 1.0 / a[k * n + k];
                for (int i = k + 1; i < n; i++)
                {
                    a[i * n + k] *= inv;
                }
            }

            TrailingUpdate(a, n, k0, kEnd);
        }

        return true;
    }

    /// <summary>A[i, kEnd:] −= Σ_{p ∈ [k0, kEnd)} A[i, p] A[p, kEnd:] for the rows i ≥ kEnd.</summary>
    private static unsafe void TrailingUpdate(double[] a, int n, int k0, int kEnd)
    {
        int len = n - kEnd;
        if (len <= 0)
        {
            return;
        }

        fixed (double* pa = a)
        {
            for (int i = kEnd; i < n; i++)
            {
                double* row = pa + i * n + kEnd;
                if (kEnd - k0 == 4)
                {
                    double* u0 = pa + k0 * n + kEnd;
                    double* l = pa + i * n + k0;
                    Axpy4(row, len, u0, n, -l[0], -l[1], -l[2], -l[3]);
                    continue;
                }

                for (int p = k0; p < kEnd; p++)
                {
                    double l = pa[i * n + p];
                    if (l != 0)
                    {
                        var span = new Span<double>(row, len);
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(pa + p * n + kEnd, len), -l, span, span);
                    }
                }
            }
        }
    }

    /// <summary>dst[j] += c0 r0[j] + c1 r1[j] + c2 r2[j] + c3 r3[j] for j &lt; len, rows r_k = r0 + k·stride; fused multiply-adds in that order (five loads and a store per four FMAs).</summary>
    internal static unsafe void Axpy4(double* dst, int len, double* r0, int stride, double c0, double c1, double c2, double c3)
    {
        double* r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> v0 = Vector256.Create(c0), v1 = Vector256.Create(c1), v2 = Vector256.Create(c2), v3 = Vector256.Create(c3);
            for (; j <= len - 4; j += 4)
            {
                var v = Vector256.Load(dst + j);
                v = Vector256.FusedMultiplyAdd(v0, Vector256.Load(r0 + j), v);
                v = Vector256.FusedMultiplyAdd(v1, Vector256.Load(r1 + j), v);
                v = Vector256.FusedMultiplyAdd(v2, Vector256.Load(r2 + j), v);
                v = Vector256.FusedMultiplyAdd(v3, Vector256.Load(r3 + j), v);
                Vector256.Store(v, dst + j);
            }
        }

        for (; j < len; j++)
        {
            double v = Math.FusedMultiplyAdd(c0, r0[j], dst[j]);
            v = Math.FusedMultiplyAdd(c1, r1[j], v);
            v = Math.FusedMultiplyAdd(c2, r2[j], v);
            dst[j] = Math.FusedMultiplyAdd(c3, r3[j], v);
        }
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

/// <summary>AᵀA of a row-major N×N matrix, for the LM step.</summary>
internal static class Gram
{
    /// <summary>G = AᵀA [N×N]: the upper triangle row by row, G[i, i:] = Σ_k A[k, i] A[k, i:], four rows of A per pass, then mirrored. N³ FLOP.</summary>
    public static unsafe void Upper(double[] a, int n, double[] g)
    {
        Array.Clear(g, 0, n * n);
        fixed (double* pa = a, pg = g)
        {
            for (int k0 = 0; k0 < n; k0 += 4)
            {
                int kb = Math.Min(4, n - k0);
                for (int i = 0; i < n; i++)
                {
                    int len = n - i;
                    double* dst = pg + i * n + i;
                    if (kb == 4)
                    {
                        double* r0 = pa + k0 * n + i;
                        Lu.Axpy4(dst, len, r0, n, r0[0], r0[n], r0[2 * n], r0[3 * n]);
                        continue;
                    }

                    for (int k = k0; k < k0 + kb; k++)
                    {
                        double* r = pa + k * n + i;
                        for (int j = 0; j < len; j++)
                        {
                            dst[j] += r[0] * r[j];
                        }
                    }
                }
            }

            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    pg[i * n + j] = pg[j * n + i];
                }
            }
        }
    }
}
