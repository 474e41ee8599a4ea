using System.Globalization;
using System.Numerics.Tensors;
using Engine.Backends;
using Engine.Numerics;
using Engine.Util;

namespace Engine.Distances;

/// <summary>d_PIF between two recurrent weight matrices and the unit permutation that realises it.</summary>
/// <param name="Distance">‖W₁ − Pᵀ W₂ P‖_F divided by the number of entries n².</param>
/// <param name="Permutation">π with (Pᵀ W₂ P)[i, j] = W₂[π(i), π(j)]: unit i of network 1 is matched to unit π(i) of network 2.</param>
/// <param name="Iterations">Frank–Wolfe iterations used (0 for the exact search).</param>
public sealed record PifResult(double Distance, int[] Permutation, int Iterations);

/// <summary>Permutation-invariant weight distance d_PIF (Huang et al. 2025): min over permutations of ‖W₁ − Pᵀ W₂ P‖_F.</summary>
/// <remarks>
/// A quadratic assignment problem: ‖W₁ − Pᵀ W₂ P‖²_F = ‖W₁‖² + ‖W₂‖² − 2 f(P), f(P) = tr(W₁ᵀ Pᵀ W₂ P), so d_PIF maximises f.
/// <see cref="Faq"/> is the FAQ algorithm (Vogelstein et al. 2015): Frank–Wolfe over doubly-stochastic P from the
/// barycentre J/n; each step takes the gradient ∇f = W₂ P W₁ᵀ + W₂ᵀ P W₁, the permutation Q maximising ⟨∇f, Q⟩ (a linear
/// assignment), and the exact line search of the quadratic f(P + t(Q − P)) = f(P) + t b + t² a on [0, 1]; it stops when
/// ‖ΔP‖_F/√n &lt; tol or after maxIterations, then projects P onto the nearest permutation (another assignment). The
/// result is the better of that permutation and the identity. Networks of different widths are zero-padded to the
/// wider one. <see cref="Exact"/> tries all n! permutations (the oracle for n ≤ 9). Matrices are row-major n × n.
/// The distance is normalised by the number of entries: d_PIF = min_P ‖W₁ − Pᵀ W₂ P‖_F / n².
/// </remarks>
public static class WeightDistance
{
    /// <summary>Approximate d_PIF by FAQ (defaults of scipy's quadratic_assignment: 30 iterations, tol 0.03).</summary>
    public static PifResult Faq(ReadOnlySpan<double> w1, ReadOnlySpan<double> w2, int n, int maxIterations = 30, double tolerance = 0.03)
    {
        Check(w1, w2, n);
        var s = new FaqSolver(w1.ToArray(), w2.ToArray(), n, tolerance);
        var grad = new double[n * n];
        var bp = new double[n * n];
        while (!s.Done && s.Iterations < maxIterations)
        {
            s.Gradient(grad, bp);
            s.Step(grad, bp);
        }

        return s.Result();
    }

    /// <summary>The Frank–Wolfe gradient ∇f = W₂ P W₁ᵀ + W₂ᵀ P W₁ of f(P) = tr(W₁ᵀ Pᵀ W₂ P) (row-major n × n), as <see cref="Faq"/> computes it.</summary>
    /// <remarks>The CPU reference of <see cref="Engine.Kernels.Distances.DistanceKernel.FaqGradients"/>.</remarks>
    public static double[] FaqGradient(ReadOnlySpan<double> w1, ReadOnlySpan<double> w2, ReadOnlySpan<double> p, int n)
    {
        Check(w1, w2, n);
        if (p.Length != n * n)
        {
            throw new ArgumentException($"P must be {n}×{n}; got {p.Length} entries.", nameof(p));
        }

        var s = new FaqSolver(w1.ToArray(), w2.ToArray(), n, 0);
        p.CopyTo(s.P);
        var grad = new double[n * n];
        s.Gradient(grad, new double[n * n]);
        return grad;
    }

    /// <summary>Exact d_PIF by trying every permutation (the oracle; n ≤ 9).</summary>
    public static PifResult Exact(ReadOnlySpan<double> w1, ReadOnlySpan<double> w2, int n)
    {
        Check(w1, w2, n);
        if (n > 9)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, $"The exact search tries n! permutations; n must be at most 9, got {n}.");
        }

        var perm = Enumerable.Range(0, n).ToArray();
        var best = perm.ToArray();
        double bestD = double.PositiveInfinity;
        var a = w1.ToArray();
        var b = w2.ToArray();
        void Visit(int k)
        {
            if (k == n)
            {
                double r = Residual(a, b, n, perm);
                if (r < bestD)
                {
                    bestD = r;
                    perm.CopyTo(best, 0);
                }

                return;
            }

            for (int i = k; i < n; i++)
            {
                (perm[k], perm[i]) = (perm[i], perm[k]);
                Visit(k + 1);
                (perm[k], perm[i]) = (perm[i], perm[k]);
            }
        }

        Visit(0);
        return new PifResult(bestD / ((double)n * n), best, 0);
    }

    /// <summary>‖W₁ − W₂[π, π]‖_F.</summary>
    public static double Residual(ReadOnlySpan<double> w1, ReadOnlySpan<double> w2, int n, ReadOnlySpan<int> perm)
    {
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double diff = w1[i * n + j] - w2[perm[i] * n + perm[j]];
                sum += diff * diff;
            }
        }

        return Math.Sqrt(sum);
    }

    /// <summary>The E × E d_PIF matrix of recurrent weights W_e (row-major N_e × N_e, float32), zero-padded to the widest; pairs in parallel.</summary>
    /// <param name="weights">W per network.</param>
    /// <param name="widths">N_e per network.</param>
    /// <param name="ids">Network ids.</param>
    /// <param name="permutations">If not null, receives the permutation of each pair (i &lt; j), indexed like <see cref="PairwiseMatrix.Pairs"/>.</param>
    /// <param name="threads">Threads (0: all cores).</param>
    /// <param name="progress">Called with (pairs done, pairs).</param>
    /// <param name="backend">If an ILGPU backend, the FAQ gradients of all pairs run batched on its accelerator (<see cref="IlgpuDistances.Faq"/>); otherwise pairs run on the CPU.</param>
    public static PairwiseMatrix Matrix(IReadOnlyList<float[]> weights, IReadOnlyList<int> widths, IReadOnlyList<int> ids, int[][]? permutations = null, int threads = 0, Action<int, int>? progress = null, IEnsembleBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(widths);
        if (weights.Count == 0)
        {
            throw new ArgumentException("The ensemble is empty: d_PIF needs at least one network.", nameof(weights));
        }

        int n = widths.Max();
        var w = new double[weights.Count][];
        for (int e = 0; e < weights.Count; e++)
        {
            if (weights[e].Length != widths[e] * widths[e])
            {
                throw new ArgumentException($"W of network {ids[e]} has {weights[e].Length} entries, expected {widths[e]}×{widths[e]}.", nameof(weights));
            }

            w[e] = new double[n * n];
            for (int i = 0; i < widths[e]; i++)
            {
                for (int j = 0; j < widths[e]; j++)
                {
                    float v = weights[e][i * widths[e] + j];
                    if (!float.IsFinite(v))
                    {
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"W of network {ids[e]} has a non-finite entry ({v}) at [{i}, {j}]."), nameof(weights));
                    }

                    w[e][i * n + j] = v;
                }
            }
        }

        var pairs = PairwiseMatrix.Pairs(weights.Count);
        var m = new PairwiseMatrix(ids, "pif");
        if (backend is Engine.Backends.Ilgpu.IlgpuBackend)
        {
            var results = new IlgpuDistances(backend).Faq(w, n, pairs, threads: threads);
            for (int p = 0; p < pairs.Length; p++)
            {
                m.Set(pairs[p].I, pairs[p].J, results[p].Distance);
                if (permutations is not null)
                {
                    permutations[p] = results[p].Permutation;
                }
            }

            progress?.Invoke(pairs.Length, pairs.Length);
            return m;
        }

        int done = 0;
        Parallelism.For(pairs.Length, threads, p =>
        {
            var (i, j) = pairs[p];
            var r = Faq(w[i], w[j], n);
            lock (m)
            {
                m.Set(i, j, r.Distance);
                done++;
                progress?.Invoke(done, pairs.Length);
            }

            if (permutations is not null)
            {
                permutations[p] = r.Permutation;
            }
        });
        return m;
    }

    private static void Check(ReadOnlySpan<double> w1, ReadOnlySpan<double> w2, int n)
    {
        if (n < 1 || w1.Length != n * n || w2.Length != n * n)
        {
            throw new ArgumentException($"W₁ and W₂ must both be {n}×{n}; got {w1.Length} and {w2.Length} entries.", nameof(w2));
        }
    }

    internal static double[] Transpose(double[] x, int n)
    {
        var t = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                t[j * n + i] = x[i * n + j];
            }
        }

        return t;
    }

    /// <summary>c = x·y (n × n, row-major): rows of c accumulate scaled rows of y.</summary>
    internal static void Gemm(double[] x, double[] y, double[] c, int n)
    {
        Array.Clear(c);
        for (int i = 0; i < n; i++)
        {
            var ci = c.AsSpan(i * n, n);
            for (int k = 0; k < n; k++)
            {
                double s = x[i * n + k];
                if (s != 0)
                {
                    TensorPrimitives.MultiplyAdd(y.AsSpan(k * n, n), s, ci, ci);
                }
            }
        }
    }

    /// <summary>c = x·yᵀ (n × n, row-major): dot products of rows.</summary>
    internal static void GemmBt(double[] x, double[] y, double[] c, int n)
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                c[i * n + j] = TensorPrimitives.Dot<double>(x.AsSpan(i * n, n), y.AsSpan(j * n, n));
            }
        }
    }
}

/// <summary>The state of one FAQ run: P, the iteration count and the CPU parts of a Frank–Wolfe step.</summary>
/// <remarks>
/// One iteration is <see cref="Gradient"/> (or the same products from the accelerator) then <see cref="Step"/>: the
/// assignment Q maximising ⟨∇f, Q⟩ and the exact line search on P + t(Q − P), where with D = Q − P,
/// f(P + tD) = f(P) + t (⟨D W₁, W₂ P⟩ + ⟨P W₁, W₂ D⟩) + t² ⟨D W₁, W₂ D⟩.
/// </remarks>
internal sealed class FaqSolver
{
    private readonly double[] _a, _b, _bt, _t1, _t2, _d, _bd, _da, _pa;
    private readonly int _n;
    private readonly double _tolerance;

    public FaqSolver(double[] w1, double[] w2, int n, double tolerance)
    {
        (_a, _b, _n, _tolerance) = (w1, w2, n, tolerance);
        _bt = WeightDistance.Transpose(w2, n);
        P = new double[n * n];
        Array.Fill(P, 1.0 / n);
        _t1 = new double[n * n];
        _t2 = new double[n * n];
        _d = new double[n * n];
        _bd = new double[n * n];
        _da = new double[n * n];
        _pa = new double[n * n];
    }

    /// <summary>The current doubly-stochastic P (row-major n × n).</summary>
    public double[] P { get; }

    /// <summary>Steps taken.</summary>
    public int Iterations { get; private set; }

    /// <summary>Whether the last step moved P by less than the tolerance.</summary>
    public bool Done { get; private set; }

    /// <summary>∇f = (W₂ P) W₁ᵀ + (W₂ᵀ P) W₁ into <paramref name="grad"/>, W₂ P into <paramref name="bp"/>.</summary>
    public void Gradient(double[] grad, double[] bp)
    {
        WeightDistance.Gemm(_b, P, bp, _n);
        WeightDistance.GemmBt(bp, _a, grad, _n);
        WeightDistance.Gemm(_bt, P, _t1, _n);
        WeightDistance.Gemm(_t1, _a, _t2, _n);
        TensorPrimitives.Add(grad, _t2, grad);
    }

    /// <summary>One Frank–Wolfe step from the gradient and W₂ P of the current P.</summary>
    public void Step(double[] grad, double[] bp)
    {
        int n = _n;
        Iterations++;
        var q = LinearAssignment.Maximize(grad, n);
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                _d[r * n + c] = (q[r] == c ? 1.0 : 0.0) - P[r * n + c];
            }
        }

        WeightDistance.Gemm(_b, _d, _bd, n);
        WeightDistance.Gemm(_d, _a, _da, n);
        WeightDistance.Gemm(P, _a, _pa, n);
        double quad = TensorPrimitives.Dot<double>(_da, _bd);
        double lin = TensorPrimitives.Dot<double>(_da, bp) + TensorPrimitives.Dot<double>(_pa, _bd);
        double step = quad < 0 ? Math.Clamp(-lin / (2 * quad), 0, 1) : (quad + lin > 0 ? 1 : 0);
        TensorPrimitives.MultiplyAdd(_d, step, P, P);
        Done = step * TensorPrimitives.Norm<double>(_d) / Math.Sqrt(n) < _tolerance;
    }

    /// <summary>Projects P onto the nearest permutation and returns the better of it and the identity.</summary>
    public PifResult Result()
    {
        int n = _n;
        // Row r of P is a unit of network 2; the permutation maps unit i of network 1 to the row matched to column i.
        var rowToCol = LinearAssignment.Maximize(P, n);
        var perm = new int[n];
        for (int r = 0; r < n; r++)
        {
            perm[rowToCol[r]] = r;
        }

        var identity = Enumerable.Range(0, n).ToArray();
        double dPerm = WeightDistance.Residual(_a, _b, n, perm), dId = WeightDistance.Residual(_a, _b, n, identity);
        return dPerm <= dId ? new PifResult(dPerm / ((double)n * n), perm, Iterations) : new PifResult(dId / ((double)n * n), identity, Iterations);
    }
}
