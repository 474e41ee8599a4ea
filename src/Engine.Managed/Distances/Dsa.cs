using System.Numerics;
using System.Runtime.Intrinsics;
using Engine.Numerics;
using Engine.Util;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Distances;

/// <summary>DSA matrices of an ensemble: angular and euclidean Procrustes-over-vector-fields scores and the eigenvalue Wasserstein score.</summary>
/// <param name="Angular">arccos⟨A, C B Cᵀ⟩ of unit-norm operators, in [0, π].</param>
/// <param name="Euclidean">‖A − C B Cᵀ‖_F of unit-norm operators, in [0, 2].</param>
/// <param name="Wasserstein">W₁ between the operators' eigenvalue sets (uniform weights, |λ − μ| in ℂ).</param>
/// <param name="Operators">The fitted r × r operators per network (row-major float64).</param>
public sealed record DsaResult(PairwiseMatrix Angular, PairwiseMatrix Euclidean, PairwiseMatrix Wasserstein, double[][] Operators);

/// <summary>Dynamical Similarity Analysis (Ostrow et al. 2023) for whole ensembles.</summary>
/// <remarks>
/// Operators come from <see cref="DsaOperator"/>; each pair i &lt; j is aligned by <see cref="DsaAlignment"/> (both the
/// det +1 and the swapped det −1 problem). The fast path fits operators in parallel, then packs all 2·E(E−1)/2 alignment
/// problems into SIMD lanes (<see cref="DsaBatch{TS, TV}"/>) and spreads the batches over worker threads. The eigenvalue
/// score: with spectra {λ_k}, {μ_k} of equal count r, W₁ = (1/r) min over assignments σ of Σ_k |λ_k − μ_σ(k)|, solved
/// exactly by <see cref="LinearAssignment"/>.
/// </remarks>
public static class Dsa
{
    /// <summary>The three DSA matrices, fast path.</summary>
    public static DsaResult Compute(StateSet states, DsaOptions options, int threads = 0, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(options); // validated by the fits (DsaOperator.Embed) and again by FromOperators
        int e = states.Networks;
        var ops = new double[e][];
        Parallelism.For(e, threads, n => ops[n] = DsaOperator.Fit(states.States[n], states.Trials, states.Steps, states.Widths[n], options));
        return FromOperators(ops, states.Ids, options, threads, progress);
    }

    /// <summary>The three DSA matrices of already fitted r × r operators (row-major float64), fast path.</summary>
    public static DsaResult FromOperators(IReadOnlyList<double[]> operators, IReadOnlyList<int> ids, DsaOptions options, int threads = 0, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(operators);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (operators.Count == 0)
        {
            throw new ArgumentException("The ensemble is empty: DSA needs at least one operator.", nameof(operators));
        }

        var ops = operators.ToArray();
        foreach (var a in ops)
        {
            Util.Guard.Length(a.Length, (long)options.Rank * options.Rank, nameof(operators), $"[r={options.Rank}][r]");
        }

        var pairs = PairwiseMatrix.Pairs(ops.Length);
        var (loss, inner) = Vector512.IsHardwareAccelerated
            ? AlignAll<Simd512, Vector512<float>>(ops, pairs, options, threads, progress)
            : AlignAll<Simd256, Vector256<float>>(ops, pairs, options, threads, progress);
        return Assemble(ids, ops, pairs, loss, inner);
    }

    /// <summary>The three DSA matrices by the float64 oracles (full SVD fit, scalar Adam per pair).</summary>
    public static DsaResult Reference(StateSet states, DsaOptions options)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(options); // validated by the fits (DsaOperator.Embed)
        int e = states.Networks, r = options.Rank;
        var ops = Enumerable.Range(0, e).Select(n => DsaOperator.FitReference(states.States[n], states.Trials, states.Steps, states.Widths[n], options)).ToArray();
        var pairs = PairwiseMatrix.Pairs(e);
        var loss = new double[pairs.Length];
        var inner = new double[pairs.Length];
        for (int p = 0; p < pairs.Length; p++)
        {
            var (eu, ang) = DsaAlignment.Reference(ops[pairs[p].I], ops[pairs[p].J], r, options.Iterations, options.LearningRate);
            loss[p] = eu * eu;
            inner[p] = Math.Cos(ang);
        }

        return Assemble(states.Ids, ops, pairs, loss, inner);
    }

    /// <summary>Eigenvalues of an r × r operator.</summary>
    public static Complex[] Eigenvalues(ReadOnlySpan<double> a, int r)
    {
        var arr = a.ToArray();
        return Matrix<double>.Build.Dense(r, r, (i, j) => arr[i * r + j]).Evd().EigenValues.ToArray();
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

    internal static DsaResult Assemble(IReadOnlyList<int> ids, double[][] ops, (int I, int J)[] pairs, double[] loss, double[] inner)
    {
        int r = (int)Math.Round(Math.Sqrt(ops[0].Length));
        var spectra = ops.Select(a => Eigenvalues(a, r)).ToArray();
        var ang = new PairwiseMatrix(ids, "dsa_angular");
        var eu = new PairwiseMatrix(ids, "dsa_euclidean");
        var ws = new PairwiseMatrix(ids, "dsa_wasserstein");
        for (int p = 0; p < pairs.Length; p++)
        {
            var (i, j) = pairs[p];
            ang.Set(i, j, Cka.Angle(inner[p]));
            eu.Set(i, j, Math.Sqrt(Math.Max(loss[p], 0)));
            ws.Set(i, j, SpectralWasserstein(spectra[i], spectra[j]));
        }

        return new DsaResult(ang, eu, ws, ops);
    }

    /// <summary>Loss ‖A − C B Cᵀ‖² and ⟨A, C B Cᵀ⟩ per pair, the better of the det +1 and det −1 problems.</summary>
    private static (double[] Loss, double[] Inner) AlignAll<TS, TV>(double[][] ops, (int I, int J)[] pairs, DsaOptions options, int threads, Action<int, int>? progress)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        int r = options.Rank, rr = r * r, lanes = TS.Lanes;
        int variants = r >= 2 ? 2 : 1;
        int problems = pairs.Length * variants;
        var unit = ops.Select(a => DsaAlignment.Normalized(a, "A").Select(v => (float)v).ToArray()).ToArray();
        var swapped = r >= 2 ? ops.Select(a => DsaAlignment.Swapped(DsaAlignment.Normalized(a, "B"), r).Select(v => (float)v).ToArray()).ToArray() : unit;
        var loss = new float[problems];
        var inner = new float[problems];
        int batches = (problems + lanes - 1) / lanes;
        using var pool = new WorkerPool(threads <= 0 ? Environment.ProcessorCount : threads);
        var work = Enumerable.Range(0, pool.Workers).Select(_ => (new DsaBatch<TS, TV>(r), new float[lanes * rr], new float[lanes * rr])).ToArray();
        int done = 0;
        pool.Run(batches, (batch, w) =>
        {
            var (solver, a, b) = work[w];
            int first = batch * lanes, count = Math.Min(lanes, problems - first);
            for (int l = 0; l < count; l++)
            {
                int q = first + l, p = q / variants;
                unit[pairs[p].I].CopyTo(a, l * rr);
                (q % variants == 0 ? unit : swapped)[pairs[p].J].CopyTo(b, l * rr);
            }

            solver.Solve(a, b, count, options.Iterations, (float)options.LearningRate, loss.AsSpan(first, count), inner.AsSpan(first, count));
            int n = Interlocked.Add(ref done, count);
            if (w == 0)
            {
                progress?.Invoke(Math.Min(pairs.Length, n / variants), pairs.Length);
            }
        });
        progress?.Invoke(pairs.Length, pairs.Length); // worker 0 need not finish the last batch
        var bestLoss = new double[pairs.Length];
        var bestInner = new double[pairs.Length];
        for (int p = 0; p < pairs.Length; p++)
        {
            int q = p * variants;
            int k = variants == 2 && loss[q + 1] < loss[q] ? q + 1 : q;
            bestLoss[p] = loss[k];
            bestInner[p] = inner[k];
        }

        return (bestLoss, bestInner);
    }
}
