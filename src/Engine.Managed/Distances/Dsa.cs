using System.Numerics;
using Engine.Backends;
using Engine.Numerics;
using Engine.Util;

namespace Engine.Distances;

/// <summary>DSA matrices of an ensemble: angular and euclidean Procrustes-over-vector-fields scores and the eigenvalue Wasserstein score.</summary>
/// <param name="Angular">arccos⟨A, C B Cᵀ⟩ of unit-norm operators, in [0, π].</param>
/// <param name="Euclidean">‖A − C B Cᵀ‖_F of unit-norm operators, in [0, 2].</param>
/// <param name="Wasserstein">W₁ between the operators' eigenvalue sets (uniform weights, |λ − μ| in ℂ).</param>
/// <param name="Operators">The fitted r × r operators per network (row-major float64).</param>
/// <param name="Optimizer">The alignment's optimiser: "optimal" or "published".</param>
/// <param name="Alignments">Per pair i &lt; j (in <see cref="PairwiseMatrix.Pairs"/> order), the kept alignment: C, scores and the winning start.</param>
public sealed record DsaResult(PairwiseMatrix Angular, PairwiseMatrix Euclidean, PairwiseMatrix Wasserstein, double[][] Operators, string Optimizer,
    IReadOnlyList<DsaAlignmentResult> Alignments);

/// <summary>Dynamical Similarity Analysis (Ostrow et al. 2023) for whole ensembles.</summary>
/// <remarks>
/// Operators come from <see cref="DsaOperator"/> through the backend's distance kernels (the full-SVD fit on the reference,
/// the Gram fit elsewhere). Each pair i &lt; j is aligned by the optimiser the options name: by default
/// <see cref="DsaDescent"/> (multi-start Riemannian ascent in float64 on the backend's host threads, which reaches the
/// optimum), or the published one as in <see cref="DsaAlignment"/> (both the det +1 and the swapped det −1 problem) by
/// the backend's kernels: scalar float64 Adam on the reference, SIMD lanes on the CPU, a thread per problem on an ILGPU
/// device. Either way the kept C is scored in float64 by <see cref="DsaDescent.Score"/>, so a network against itself or
/// a rotated copy reads 0 to rounding on every path. The eigenvalue
/// score: with spectra {λ_k}, {μ_k} of equal count r, W₁ = (1/r) min over assignments σ of Σ_k |λ_k − μ_σ(k)|, solved
/// exactly by <see cref="LinearAssignment"/>.
/// </remarks>
public static class Dsa
{
    /// <summary>The three DSA matrices: operators fitted on the backend's host threads, alignments on its distance kernels.</summary>
    /// <param name="backend">The device whose distance kernels fit the operators and align every pair.</param>
    /// <param name="states">Recorded states.</param>
    /// <param name="options">DSA's settings.</param>
    /// <param name="progress">Called with (pairs aligned, pairs).</param>
    public static DsaResult Compute(IEnsembleBackend backend, StateSet states, DsaOptions options, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(options); // validated by the fits (DsaOperator.Embed) and again by FromOperators
        int e = states.Networks;
        var ops = new double[e][];
        Parallelism.For(e, backend.Threads, n => ops[n] = backend.Distances.FitDsaOperator(states.States[n], states.Trials, states.Steps, states.Widths[n], options));
        return FromOperators(backend, ops, states.Ids, options, progress);
    }

    /// <summary>The three DSA matrices of already fitted r × r operators (row-major float64).</summary>
    /// <remarks>
    /// Every pair i &lt; j is two alignment problems (A = Â_i with B = Â_j, and with B = P Â_j Pᵀ, coordinates 0 and 1
    /// swapped, for det C = −1; one problem at rank 1), all sent to the backend's kernels in one batch; the lower loss wins.
    /// </remarks>
    public static DsaResult FromOperators(IEnsembleBackend backend, IReadOnlyList<double[]> operators, IReadOnlyList<int> ids, DsaOptions options, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(operators);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (operators.Count == 0)
        {
            throw new ArgumentException("The ensemble is empty: DSA needs at least one operator.", nameof(operators));
        }

        var ops = operators.ToArray();
        foreach (var op in ops)
        {
            Util.Guard.Length(op.Length, (long)options.Rank * options.Rank, nameof(operators), $"[r={options.Rank}][r]");
        }

        int r = options.Rank;
        var pairs = PairwiseMatrix.Pairs(ops.Length);
        var unit = ops.Select(op => DsaAlignment.Normalized(op, "A")).ToArray();
        var kept = options.Optimizer == DsaOptimizer.Published
            ? AlignPublished(backend, unit, pairs, options, progress)
            : AlignOptimal(backend, unit, pairs, options, progress);
        return Assemble(ids, ops, pairs, kept, options.Optimizer == DsaOptimizer.Published ? "published" : "optimal");
    }

    /// <summary>
    /// Every pair by <see cref="DsaDescent"/> on the backend's host threads, each pair's random starts seeded by its index,
    /// with the published optimiser's C (from the backend's kernels) as one more finalist start: the kept score is then
    /// never above the published one (on 496 pairs of a trained 32-network flip-flop run, the descent's own starts alone
    /// were above it on a few pairs, by up to 3e-3 rad).
    /// </summary>
    private static DsaAlignmentResult[] AlignOptimal(IEnsembleBackend backend, double[][] unit, (int I, int J)[] pairs, DsaOptions options, Action<int, int>? progress)
    {
        var published = AlignPublished(backend, unit, pairs, options, progress is null ? null : (done, total) => progress(done / 4, total));
        var kept = new DsaAlignmentResult[pairs.Length];
        int done = 0;
        var gate = new object();
        Parallelism.For(pairs.Length, backend.Threads, p =>
        {
            var (i, j) = pairs[p];
            kept[p] = DsaDescent.Align(unit[i], unit[j], options.Rank, options.RandomStarts, options.MaxSteps, 0xD5A0_0000UL + (ulong)p, published[p].Rotation);
            lock (gate)
            {
                done++;
                int head = pairs.Length / 4; // the published pass counts as the first quarter
                progress?.Invoke(head + (int)((long)done * (pairs.Length - head) / pairs.Length), pairs.Length);
            }
        });
        return kept;
    }

    /// <summary>
    /// Every pair i &lt; j as two problems of the published optimiser (A = Â_i with B = Â_j, and with B = P Â_j Pᵀ, coordinates
    /// 0 and 1 swapped, for det C = −1; one problem at rank 1), all sent to the backend's kernels in one batch; each C is
    /// scored in float64 and the lower loss wins.
    /// </summary>
    private static DsaAlignmentResult[] AlignPublished(IEnsembleBackend backend, double[][] unit, (int I, int J)[] pairs, DsaOptions options, Action<int, int>? progress)
    {
        int r = options.Rank, variants = r >= 2 ? 2 : 1;
        var swapped = r >= 2 ? unit.Select(u => DsaAlignment.Swapped(u, r)).ToArray() : unit;
        var a = new double[pairs.Length * variants][];
        var b = new double[pairs.Length * variants][];
        for (int q = 0; q < a.Length; q++)
        {
            var (i, j) = pairs[q / variants];
            a[q] = unit[i];
            b[q] = (q % variants == 0 ? unit : swapped)[j];
        }

        var rotations = backend.Distances.AlignDsa(a, b, r, options.Iterations, options.LearningRate,
            progress is null ? null : (done, _) => progress(Math.Min(pairs.Length, done / variants), pairs.Length));
        var kept = new DsaAlignmentResult[pairs.Length];
        Parallelism.For(pairs.Length, backend.Threads, p =>
        {
            int q = p * variants;
            var first = DsaDescent.Score(a[q], b[q], rotations[q], r, "published");
            if (variants == 2)
            {
                var second = DsaDescent.Score(a[q + 1], b[q + 1], rotations[q + 1], r, "published-swap");
                if (second.Loss < first.Loss)
                {
                    // C' aligns P B Pᵀ; C' P aligns B.
                    first = second with { Rotation = DsaAlignment.Swapped(second.Rotation, r, columnsOnly: true) };
                }
            }

            kept[p] = first;
        });
        return kept;
    }

    /// <summary>Eigenvalues of an r × r operator (row-major), in Schur order (<see cref="Eigen"/>).</summary>
    public static Complex[] Eigenvalues(ReadOnlySpan<double> a, int r)
    {
        var values = new Complex[r];
        Eigen.Values(a, r, values);
        return values;
    }

    /// <summary>W₁ between two equally large eigenvalue sets with uniform weights.</summary>
    public static double SpectralWasserstein(IReadOnlyList<Complex> x, IReadOnlyList<Complex> y)
    {
        if (x.Count != y.Count || x.Count == 0)
        {
            throw new ArgumentException($"Spectra must be non-empty and equally long, got {x.Count} and {y.Count}.", nameof(y));
        }

        int n = x.Count;
        var cost = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                cost[i * n + j] = Complex.Abs(x[i] - y[j]);
            }
        }

        var assignment = LinearAssignment.Minimize(cost, n);
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += cost[i * n + assignment[i]];
        }

        return sum / n;
    }

    private static DsaResult Assemble(IReadOnlyList<int> ids, double[][] ops, (int I, int J)[] pairs, DsaAlignmentResult[] kept, string optimizer)
    {
        int r = (int)Math.Round(Math.Sqrt(ops[0].Length));
        var spectra = ops.Select(a => Eigenvalues(a, r)).ToArray();
        var ang = new PairwiseMatrix(ids, "dsa_angular");
        var eu = new PairwiseMatrix(ids, "dsa_euclidean");
        var ws = new PairwiseMatrix(ids, "dsa_wasserstein");
        for (int p = 0; p < pairs.Length; p++)
        {
            var (i, j) = pairs[p];
            ang.Set(i, j, kept[p].Angle);
            eu.Set(i, j, Math.Sqrt(Math.Max(kept[p].Loss, 0)));
            ws.Set(i, j, SpectralWasserstein(spectra[i], spectra[j]));
        }

        return new DsaResult(ang, eu, ws, ops, optimizer, kept);
    }
}
