using System.Runtime.Intrinsics;
using Engine.Numerics;
using Engine.Util;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Backends.Cpu;

/// <summary>The fast CPU distance kernels: float32 SIMD cross products and DSA alignments, float64 FAQ, threads over pairs.</summary>
/// <remarks>
/// Cross products: states are packed as float32 (rows padded to 16) and either every X_iᵀ X_j runs through the
/// register-blocked <see cref="CrossGram"/> (2·S·N_i·N_j FLOP per pair), or, for ‖C‖²_F when S is small against N², all
/// of them come from the sample-space Grams (<see cref="CkaSampleSpace"/>); ‖C‖_* takes the eigenvalues of the smaller
/// Gram of C in float64 (<see cref="NuclearNorm"/>). DSA: the fast operator fit (<see cref="DsaOperator.Fit"/>) and the
/// alignments packed 16 (or 8) problems to a SIMD vector (<see cref="DsaBatch{TS, TV}"/>). FAQ: <see cref="FaqSolver"/>
/// per pair. Every result is independent of the thread count.
/// </remarks>
internal sealed class CpuDistanceKernels(int threads) : IDistanceKernels
{
    /// <inheritdoc />
    public double[] CrossProducts(IReadOnlyList<double[]> states, int samples, IReadOnlyList<int> widths, IReadOnlyList<(int I, int J)> pairs,
        CrossReduction reduction, Action<int, int>? progress = null, CkaMethod method = CkaMethod.Auto)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(pairs);
        int e = states.Count;
        using var packed = new PackedStates(samples, widths, (n, dst, pad) => Centering.Pack(states[n], samples, widths[n], dst, pad));
        var result = new double[pairs.Count];
        int widest = packed.Padded.Max();
        if (reduction == CrossReduction.SquaredFrobenius
            && (method == CkaMethod.Samples || (method == CkaMethod.Auto && CkaFlops.SampleSpace(e, samples, widest) < CkaFlops.FeatureSpace(e, samples, widest))))
        {
            var h = CkaSampleSpace.Hsic(packed, threads);
            for (int p = 0; p < pairs.Count; p++)
            {
                var (i, j) = pairs[p];
                result[p] = h[Math.Min(i, j) * e + Math.Max(i, j)];
            }

            progress?.Invoke(pairs.Count, pairs.Count);
            return result;
        }

        CrossGram.Run(packed, pairs, threads, (p, _, c, rows, cols, ldc) =>
        {
            result[p] = reduction == CrossReduction.Nuclear ? NuclearNorm(c, rows, cols, ldc) : SquaredNorm(c, rows, cols, ldc);
        }, done => progress?.Invoke(done, pairs.Count));
        return result;
    }

    /// <inheritdoc />
    public double[] FitDsaOperator(ReadOnlySpan<float> states, int trials, int steps, int width, DsaOptions options)
        => DsaOperator.Fit(states, trials, steps, width, options);

    /// <inheritdoc />
    public double[][] AlignDsa(IReadOnlyList<double[]> a, IReadOnlyList<double[]> b, int rank, int iterations, double learningRate,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return Vector512.IsHardwareAccelerated
            ? Align<Simd512, Vector512<float>>(a, b, rank, iterations, learningRate, progress)
            : Align<Simd256, Vector256<float>>(a, b, rank, iterations, learningRate, progress);
    }

    /// <inheritdoc />
    public PifResult[] Faq(IReadOnlyList<double[]> weights, int n, IReadOnlyList<(int I, int J)> pairs, int maxIterations = 30, double tolerance = 0.03,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(pairs);
        var results = new PifResult[pairs.Count];
        int done = 0;
        var gate = new object();
        Parallelism.For(pairs.Count, threads, p =>
        {
            results[p] = FaqSolver.Solve(weights[pairs[p].I], weights[pairs[p].J], n, maxIterations, tolerance);
            lock (gate)
            {
                progress?.Invoke(++done, pairs.Count);
            }
        });
        return results;
    }

    /// <summary>Σ σ_k of the rows × cols block of c, from the eigenvalues of its smaller Gram (float64).</summary>
    internal static double NuclearNorm(ReadOnlySpan<float> c, int rows, int cols, int ldc)
    {
        bool byRows = rows <= cols;
        int k = byRows ? rows : cols, inner = byRows ? cols : rows;
        var g = Matrix<double>.Build.Dense(k, k);
        for (int a = 0; a < k; a++)
        {
            for (int b = a; b < k; b++)
            {
                double sum = 0;
                for (int t = 0; t < inner; t++)
                {
                    sum += byRows ? (double)c[a * ldc + t] * c[b * ldc + t] : (double)c[t * ldc + a] * c[t * ldc + b];
                }

                g[a, b] = g[b, a] = sum;
            }
        }

        return g.Evd(Symmetricity.Symmetric).EigenValues.Sum(z => Math.Sqrt(Math.Max(z.Real, 0)));
    }

    private static double SquaredNorm(ReadOnlySpan<float> c, int rows, int cols, int ldc)
    {
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = c.Slice(r * ldc, cols);
            for (int k = 0; k < row.Length; k++)
            {
                sum += (double)row[k] * row[k];
            }
        }

        return sum;
    }

    /// <summary>The problems in lanes of <typeparamref name="TV"/>, batches spread over worker threads.</summary>
    private double[][] Align<TS, TV>(IReadOnlyList<double[]> a, IReadOnlyList<double[]> b, int r, int iterations, double lr,
        Action<int, int>? progress)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        int rr = r * r, lanes = TS.Lanes, problems = a.Count;
        var rotations = new float[(long)problems * rr];
        int batches = (problems + lanes - 1) / lanes;
        using var pool = new WorkerPool(threads <= 0 ? Environment.ProcessorCount : threads);
        var work = Enumerable.Range(0, pool.Workers).Select(_ => (new DsaBatch<TS, TV>(r), new float[lanes * rr], new float[lanes * rr])).ToArray();
        int done = 0;
        pool.Run(batches, (batch, w) =>
        {
            var (solver, pa, pb) = work[w];
            int first = batch * lanes, count = Math.Min(lanes, problems - first);
            for (int l = 0; l < count; l++)
            {
                for (int k = 0; k < rr; k++)
                {
                    pa[l * rr + k] = (float)a[first + l][k];
                    pb[l * rr + k] = (float)b[first + l][k];
                }
            }

            solver.Solve(pa, pb, count, iterations, (float)lr, rotations.AsSpan(first * rr, count * rr));
            int n = Interlocked.Add(ref done, count);
            if (w == 0)
            {
                progress?.Invoke(n, problems);
            }
        });
        progress?.Invoke(problems, problems); // worker 0 need not finish the last batch
        return Enumerable.Range(0, problems).Select(q => rotations.AsSpan(q * rr, rr).ToArray().Select(x => (double)x).ToArray()).ToArray();
    }
}
