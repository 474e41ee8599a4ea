using System.Globalization;
using System.Numerics.Tensors;

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
        var a = w1.ToArray();
        var b = w2.ToArray();
        var bt = Transpose(b, n);
        var p = new double[n * n];
        Array.Fill(p, 1.0 / n);
        var t1 = new double[n * n];
        var t2 = new double[n * n];
        var grad = new double[n * n];
        var d = new double[n * n];
        var bd = new double[n * n];
        var da = new double[n * n];
        var bp = new double[n * n];
        var pa = new double[n * n];
        int it = 0;
        while (it < maxIterations)
        {
            it++;
            // ∇f = (W₂ P) W₁ᵀ + (W₂ᵀ P) W₁
            Gemm(b, p, bp, n);
            GemmBt(bp, a, grad, n);
            Gemm(bt, p, t1, n);
            Gemm(t1, a, t2, n);
            TensorPrimitives.Add(grad, t2, grad);
            var q = LinearAssignment.Maximize(grad, n);
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    d[r * n + c] = (q[r] == c ? 1.0 : 0.0) - p[r * n + c];
                }
            }

            Gemm(b, d, bd, n);
            Gemm(d, a, da, n);
            Gemm(p, a, pa, n);
            double quad = TensorPrimitives.Dot<double>(da, bd);
            double lin = TensorPrimitives.Dot<double>(da, bp) + TensorPrimitives.Dot<double>(pa, bd);
            double step = quad < 0 ? Math.Clamp(-lin / (2 * quad), 0, 1) : (quad + lin > 0 ? 1 : 0);
            TensorPrimitives.MultiplyAdd(d, step, p, p);
            if (step * TensorPrimitives.Norm<double>(d) / Math.Sqrt(n) < tolerance)
            {
                break;
            }
        }

        // Row r of P is a unit of network 2; the permutation maps unit i of network 1 to the row matched to column i.
        var rowToCol = LinearAssignment.Maximize(p, n);
        var perm = new int[n];
        for (int r = 0; r < n; r++)
        {
            perm[rowToCol[r]] = r;
        }

        var identity = Enumerable.Range(0, n).ToArray();
        double dPerm = Residual(w1, w2, n, perm), dId = Residual(w1, w2, n, identity);
        return dPerm <= dId ? new PifResult(dPerm / ((double)n * n), perm, it) : new PifResult(dId / ((double)n * n), identity, it);
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
    public static PairwiseMatrix Matrix(IReadOnlyList<float[]> weights, IReadOnlyList<int> widths, IReadOnlyList<int> ids, int[][]? permutations = null, int threads = 0, Action<int, int>? progress = null)
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

    private static double[] Transpose(double[] x, int n)
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
    private static void Gemm(double[] x, double[] y, double[] c, int n)
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
    private static void GemmBt(double[] x, double[] y, double[] c, int n)
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
