using Engine.Backends.Cpu;
using Engine.Kernels;
using Engine.Kernels.Distances;
using Engine.Util;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Backends.Ilgpu;

/// <summary>The distance kernels on an ILGPU accelerator: CKA and shape-metric cross products, batched DSA alignments and the d_PIF Frank–Wolfe gradients.</summary>
/// <remarks>
/// Kernels (<see cref="DistanceKernel"/>) come from the backend's loader. Cross products: states of all networks are
/// uploaded once as float32 ([E][S][N], one width), pairs go through <see cref="DistanceKernel.CrossProducts"/> in chunks
/// that bound the [P][N][N] product buffer; ‖C‖²_F is reduced on the device (<see cref="DistanceKernel.SquaredNorms"/>),
/// ‖C‖_* on the host from the downloaded products. Networks of different widths take the host's CPU kernels. DSA: every
/// alignment problem is one thread of <see cref="DistanceKernel.DsaAlign"/>; operators are fitted on the host. d_PIF: FAQ
/// runs all pairs in lockstep, the gradients of the unfinished pairs batched on the device. The ILGPU CPU accelerator is a
/// slow simulator, for tests on tiny shapes only.
/// </remarks>
internal sealed class IlgpuDistanceKernels(IlgpuBackend backend) : IDistanceKernels
{
    private readonly IlgpuBackend _backend = backend;

    private AcceleratorStream Stream => _backend.Accelerator.DefaultStream;

    private DistanceKernelSet K => _backend.Kernels.Distances;

    /// <summary>Pairs per cross-product launch (bounds the [P][N][N] buffer; tests lower it to exercise chunking).</summary>
    internal static int PairsPerLaunch { get; set; } = 4096;

    /// <inheritdoc />
    public double[] CrossProducts(IReadOnlyList<double[]> states, int samples, IReadOnlyList<int> widths, IReadOnlyList<(int I, int J)> pairs,
        CrossReduction reduction, Action<int, int>? progress = null, CkaMethod method = CkaMethod.Auto)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(pairs);
        int e = states.Count, s = samples, n = widths[0];
        if (widths.Any(w => w != n))
        {
            // one launch shape needs one width: mixed widths take the host's CPU kernels
            return new CpuDistanceKernels(_backend.Threads).CrossProducts(states, samples, widths, pairs, reduction, progress, method);
        }

        var host = new float[(long)e * s * n];
        for (int k = 0; k < e; k++)
        {
            var xk = states[k]; // once: the caller may compute it on demand
            for (int t = 0; t < s * n; t++)
            {
                host[(long)k * s * n + t] = (float)xk[t];
            }
        }

        int chunk = Math.Max(1, Math.Min(PairsPerLaunch, pairs.Count));
        var result = new double[pairs.Count];
        try
        {
            using var x = new DeviceBuffer<float>(_backend, host.Length);
            using var first = new DeviceBuffer<int>(_backend, chunk);
            using var second = new DeviceBuffer<int>(_backend, chunk);
            using var products = new DeviceBuffer<float>(_backend, (long)chunk * n * n);
            using var norms = new DeviceBuffer<float>(_backend, chunk);
            x.CopyFrom(Stream, host);
            var got = new float[chunk];
            var block = reduction == CrossReduction.Nuclear ? new float[(long)chunk * n * n] : [];
            for (int start = 0; start < pairs.Count; start += chunk)
            {
                int count = Math.Min(chunk, pairs.Count - start);
                first.CopyFrom(Stream, pairs.Skip(start).Take(count).Select(p => p.I).ToArray());
                second.CopyFrom(Stream, pairs.Skip(start).Take(count).Select(p => p.J).ToArray());
                var args = new CrossProductArgs(count, s, n, x.View, first.View, second.View, products.View, norms.View);
                K.CrossProducts(_backend.Kernels.Elementwise((long)count * n * n), args);
                if (reduction == CrossReduction.Nuclear)
                {
                    products.CopyTo(Stream, block.AsSpan(0, count * n * n));
                    Parallelism.For(count, _backend.Threads, k => result[start + k] = CpuDistanceKernels.NuclearNorm(block.AsSpan(k * n * n, n * n), n, n, n));
                }
                else
                {
                    K.SquaredNorms(_backend.Kernels.Elementwise(count), args);
                    norms.CopyTo(Stream, got.AsSpan(0, count));
                    for (int k = 0; k < count; k++)
                    {
                        result[start + k] = got[k];
                    }
                }

                progress?.Invoke(start + count, pairs.Count);
            }
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or ObjectDisposedException or EngineException or ArgumentException))
        {
            throw new EngineException(_backend.Name, "cross products", ex.Message, ex);
        }

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
        int rr = rank * rank, problems = a.Count;
        var ha = new float[Math.Max(1, problems) * rr];
        var hb = new float[Math.Max(1, problems) * rr];
        for (int q = 0; q < problems; q++)
        {
            for (int k = 0; k < rr; k++)
            {
                ha[q * rr + k] = (float)a[q][k];
                hb[q * rr + k] = (float)b[q][k];
            }
        }

        var rotations = new double[problems][];
        if (problems > 0)
        {
            try
            {
                using var da = new DeviceBuffer<float>(_backend, ha.Length);
                using var db = new DeviceBuffer<float>(_backend, hb.Length);
                using var work = new DeviceBuffer<float>(_backend, (long)problems * 10 * rr);
                using var dl = new DeviceBuffer<float>(_backend, problems);
                using var di = new DeviceBuffer<float>(_backend, problems);
                using var dc = new DeviceBuffer<AdamCoefficients>(_backend, Math.Max(1, iterations));
                da.CopyFrom(Stream, ha);
                db.CopyFrom(Stream, hb);
                dc.CopyFrom(Stream, Enumerable.Range(1, iterations).Select(it => AdamMath.Coefficients((float)learningRate, it, 1f)).ToArray());
                K.DsaAlign(_backend.Kernels.Elementwise(problems), new DsaAlignArgs(problems, rank, iterations, dc.View, da.View, db.View, work.View, dl.View, di.View));
                // The kernel leaves each problem's final C in its work block at offset 5 r² (DistanceKernel.DsaAlign).
                var hw = new float[(long)problems * 10 * rr];
                work.CopyTo(Stream, hw);
                for (int q = 0; q < problems; q++)
                {
                    rotations[q] = hw.AsSpan((q * 10 + 5) * rr, rr).ToArray().Select(x => (double)x).ToArray();
                }
            }
            catch (Exception ex) when (ex is not (OutOfMemoryException or ObjectDisposedException or EngineException))
            {
                throw new EngineException(_backend.Name, "dsa alignment", ex.Message, ex);
            }
        }

        progress?.Invoke(problems, problems);
        return rotations;
    }

    /// <summary>FAQ d_PIF of every pair with the Frank–Wolfe gradients of all unfinished pairs batched on the accelerator.</summary>
    /// <remarks>
    /// Weights are uploaded once; each iteration uploads the plans P of the pairs still running, launches
    /// <see cref="DistanceKernel.FaqGradients"/> (stages 0 and 1: ∇f = W₂ P W₁ᵀ + W₂ᵀ P W₁ in float64), downloads ∇f and
    /// W₂ P, and takes the assignment and line search of each pair on the host, exactly as <see cref="FaqSolver"/> does.
    /// </remarks>
    /// <param name="weights">Zero-padded W per network, row-major n × n, float64.</param>
    /// <param name="n">The common width.</param>
    /// <param name="pairs">(W₁, W₂) network indices.</param>
    /// <param name="maxIterations">Frank–Wolfe iterations at most.</param>
    /// <param name="tolerance">Stop a pair when ‖ΔP‖_F/√n is below this.</param>
    /// <param name="progress">Called with (pairs done, pairs) after each lockstep iteration.</param>
    public PifResult[] Faq(IReadOnlyList<double[]> weights, int n, IReadOnlyList<(int I, int J)> pairs, int maxIterations = 30, double tolerance = 0.03, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(pairs);
        int nn = n * n;
        if (n < 1 || weights.Any(w => w.Length != nn))
        {
            throw new ArgumentException($"Every W must be {n}×{n}.", nameof(weights));
        }

        var solvers = pairs.Select(p => new FaqSolver(weights[p.I], weights[p.J], n, tolerance)).ToArray();
        if (solvers.Length > 0 && maxIterations > 0)
        {
            var grad = new double[solvers.Length * nn];
            var work = new double[solvers.Length * 2 * nn];
            var plans = new double[solvers.Length * nn];
            try
            {
                using var w = new DeviceBuffer<double>(_backend, (long)weights.Count * nn);
                using var first = new DeviceBuffer<int>(_backend, solvers.Length);
                using var second = new DeviceBuffer<int>(_backend, solvers.Length);
                using var dp = new DeviceBuffer<double>(_backend, plans.Length);
                using var dw = new DeviceBuffer<double>(_backend, work.Length);
                using var dg = new DeviceBuffer<double>(_backend, grad.Length);
                w.CopyFrom(Stream, weights.SelectMany(x => x).ToArray());
                while (true)
                {
                    var active = Enumerable.Range(0, solvers.Length).Where(k => !solvers[k].Done && solvers[k].Iterations < maxIterations).ToArray();
                    if (active.Length == 0)
                    {
                        break;
                    }

                    int count = active.Length;
                    for (int k = 0; k < count; k++)
                    {
                        solvers[active[k]].P.CopyTo(plans, k * nn);
                    }

                    first.CopyFrom(Stream, active.Select(k => pairs[k].I).ToArray());
                    second.CopyFrom(Stream, active.Select(k => pairs[k].J).ToArray());
                    dp.CopyFrom(Stream, plans.AsSpan(0, count * nn));
                    Gradients(count, n, w.View, first.View, second.View, dp.View, dw.View, dg.View);
                    dg.CopyTo(Stream, grad.AsSpan(0, count * nn));
                    dw.CopyTo(Stream, work.AsSpan(0, count * 2 * nn));
                    Parallelism.For(count, _backend.Threads, k =>
                    {
                        solvers[active[k]].Step(grad.AsSpan(k * nn, nn).ToArray(), work.AsSpan(2 * k * nn, nn).ToArray());
                    });
                }
            }
            catch (Exception ex) when (ex is not (OutOfMemoryException or ObjectDisposedException or EngineException or ArgumentException))
            {
                throw new EngineException(_backend.Name, "pif frank-wolfe gradients", ex.Message, ex);
            }
        }

        progress?.Invoke(solvers.Length, solvers.Length);
        return solvers.Select(s => s.Result()).ToArray();
    }

    /// <summary>The FAQ gradients ∇f = W₂ P W₁ᵀ + W₂ᵀ P W₁ of a batch of pairs (W₁ = weights[I], W₂ = weights[J]) with plans P, on the accelerator.</summary>
    internal double[][] FaqGradients(IReadOnlyList<double[]> weights, int n, IReadOnlyList<(int I, int J)> pairs, IReadOnlyList<double[]> plans)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(plans);
        int nn = n * n, count = pairs.Count;
        if (n < 1 || weights.Any(w => w.Length != nn) || plans.Count != count || plans.Any(p => p.Length != nn))
        {
            throw new ArgumentException($"Every W and P must be {n}×{n}, one P per pair.", nameof(plans));
        }

        var grad = new double[Math.Max(1, count) * nn];
        if (count > 0)
        {
            try
            {
                using var w = new DeviceBuffer<double>(_backend, (long)weights.Count * nn);
                using var first = new DeviceBuffer<int>(_backend, count);
                using var second = new DeviceBuffer<int>(_backend, count);
                using var dp = new DeviceBuffer<double>(_backend, (long)count * nn);
                using var dw = new DeviceBuffer<double>(_backend, 2L * count * nn);
                using var dg = new DeviceBuffer<double>(_backend, (long)count * nn);
                w.CopyFrom(Stream, weights.SelectMany(x => x).ToArray());
                first.CopyFrom(Stream, pairs.Select(p => p.I).ToArray());
                second.CopyFrom(Stream, pairs.Select(p => p.J).ToArray());
                dp.CopyFrom(Stream, plans.SelectMany(x => x).ToArray());
                Gradients(count, n, w.View, first.View, second.View, dp.View, dw.View, dg.View);
                dg.CopyTo(Stream, grad.AsSpan(0, count * nn));
            }
            catch (Exception ex) when (ex is not (OutOfMemoryException or ObjectDisposedException or EngineException))
            {
                throw new EngineException(_backend.Name, "pif frank-wolfe gradients", ex.Message, ex);
            }
        }

        return Enumerable.Range(0, count).Select(k => grad.AsSpan(k * nn, nn).ToArray()).ToArray();
    }

    private void Gradients(int count, int n, ArrayView<double> w, ArrayView<int> first, ArrayView<int> second, ArrayView<double> plans, ArrayView<double> work, ArrayView<double> grad)
    {
        var config = _backend.Kernels.Elementwise((long)count * n * n);
        K.FaqGradients(config, new FaqGradientArgs(count, n, 0, w, first, second, plans, work, grad));
        K.FaqGradients(config, new FaqGradientArgs(count, n, 1, w, first, second, plans, work, grad));
    }
}
