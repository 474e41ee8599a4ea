using System.Globalization;
using System.Numerics.Tensors;
using Engine.Backends;
using Engine.Model;
using Engine.Numerics;
using Engine.Util;

namespace Engine.Distances;

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
        return FaqSolver.Solve(w1.ToArray(), w2.ToArray(), n, maxIterations, tolerance);
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
                double r = FaqSolver.Residual(a, b, n, perm);
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

    /// <summary>The E × E d_PIF matrix of the recurrent weights of networks <paramref name="networks"/> of <paramref name="ensemble"/>, named by <paramref name="ids"/>.</summary>
    /// <param name="backend">The device whose distance kernels run FAQ (<see cref="IDistanceKernels.Faq"/>).</param>
    /// <param name="ensemble">The networks.</param>
    /// <param name="networks">Which networks of the ensemble.</param>
    /// <param name="ids">Their ids in the matrix (default: <paramref name="networks"/>).</param>
    /// <param name="permutations">Optional [pairs] destination for the permutation of each pair.</param>
    /// <param name="progress">Progress callback (done, total).</param>
    public static PairwiseMatrix Matrix(IEnsembleBackend backend, Ensemble ensemble, IReadOnlyList<int> networks, IReadOnlyList<int>? ids = null,
        int[][]? permutations = null, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        ArgumentNullException.ThrowIfNull(networks);
        var spec = ensemble.Spec;
        var w = networks.Select(e => spec.Layout.WRec(ensemble.Parameters, e).ToArray()).ToArray();
        return Matrix(backend, w, Enumerable.Repeat(spec.Hidden, w.Length).ToArray(), ids ?? networks, permutations, progress);
    }

    /// <summary>The E × E d_PIF matrix of recurrent weights W_e (row-major N_e × N_e, float32), zero-padded to the widest.</summary>
    /// <param name="backend">The device whose distance kernels run FAQ on every pair (<see cref="IDistanceKernels.Faq"/>).</param>
    /// <param name="weights">W per network.</param>
    /// <param name="widths">N_e per network.</param>
    /// <param name="ids">Network ids.</param>
    /// <param name="permutations">If not null, receives the permutation of each pair (i &lt; j), indexed like <see cref="PairwiseMatrix.Pairs"/>.</param>
    /// <param name="progress">Called with (pairs done, pairs).</param>
    public static PairwiseMatrix Matrix(IEnsembleBackend backend, IReadOnlyList<float[]> weights, IReadOnlyList<int> widths, IReadOnlyList<int> ids, int[][]? permutations = null, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
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
        var results = backend.Distances.Faq(w, n, pairs, progress: progress);
        var m = new PairwiseMatrix(ids, "pif");
        for (int p = 0; p < pairs.Length; p++)
        {
            m.Set(pairs[p].I, pairs[p].J, results[p].Distance);
            if (permutations is not null)
            {
                permutations[p] = results[p].Permutation;
            }
        }

        return m;
    }

    private static void Check(ReadOnlySpan<double> w1, ReadOnlySpan<double> w2, int n)
    {
        if (n < 1 || w1.Length != n * n || w2.Length != n * n)
        {
            throw new ArgumentException($"W₁ and W₂ must both be {n}×{n}; got {w1.Length} and {w2.Length} entries.", nameof(w2));
        }
    }
}
