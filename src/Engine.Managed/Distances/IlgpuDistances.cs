using System.Runtime.CompilerServices;
using Engine.Backends;
using Engine.Backends.Ilgpu;
using Engine.Kernels;
using Engine.Kernels.Distances;
using Engine.Util;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Distances;

/// <summary>The heavy parts of the distance matrices on an ILGPU accelerator: CKA cross products, batched DSA alignments and the d_PIF Frank–Wolfe gradients.</summary>
/// <remarks>
/// Kernels (<see cref="DistanceKernel"/>) are loaded once per accelerator and shared. CKA: centred states of all networks
/// are uploaded once ([E][S][N], one width), pairs i ≤ j go through <see cref="DistanceKernel.CrossProducts"/> and
/// <see cref="DistanceKernel.SquaredNorms"/> in chunks that bound the [P][N][N] product buffer. DSA: every alignment
/// problem (both det variants of each pair) is one thread of <see cref="DistanceKernel.DsaAlign"/>. d_PIF: FAQ runs all
/// pairs in lockstep, the gradients of the unfinished pairs batched through <see cref="DistanceKernel.FaqGradients"/>. The ILGPU CPU
/// accelerator is a slow simulator, for tests on tiny shapes only.
/// </remarks>
public sealed class IlgpuDistances
{
    private static readonly ConditionalWeakTable<Accelerator, Launchers> Loaded = new();
    private readonly IlgpuBackend _backend;
    private readonly Launchers _k;

    /// <summary>Runs on <paramref name="backend"/>'s accelerator (owned by the caller).</summary>
    /// <exception cref="ArgumentException">The backend is not an ILGPU backend.</exception>
    public IlgpuDistances(IEnsembleBackend backend)
    {
        _backend = backend as IlgpuBackend ?? throw new ArgumentException($"Backend '{backend?.Name}' is not an ILGPU backend.", nameof(backend));
        try
        {
            _k = Loaded.GetValue(_backend.Accelerator, a => new Launchers(a));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new EngineException(_backend.Name, "load distance kernels", e.Message, e);
        }
    }

    private AcceleratorStream Stream => _backend.Accelerator.DefaultStream;

    /// <summary>The arccos(CKA) matrix with the cross products on the accelerator (every network must have the same width).</summary>
    public PairwiseMatrix Cka(StateSet states, int pairsPerLaunch = 4096)
    {
        ArgumentNullException.ThrowIfNull(states);
        int e = states.Networks, s = states.Samples, n = states.Widths[0];
        if (states.Widths.Any(w => w != n))
        {
            throw new ArgumentException("The ILGPU CKA path needs one width for all networks; use the CPU path for mixed widths.", nameof(states));
        }

        var host = new float[(long)e * s * n];
        for (int k = 0; k < e; k++)
        {
            var c = Centering.Centered(states.States[k], s, n);
            for (int t = 0; t < c.Length; t++)
            {
                host[(long)k * s * n + t] = (float)c[t];
            }
        }

        var pairs = new List<(int I, int J)>();
        for (int i = 0; i < e; i++)
        {
            for (int j = i; j < e; j++)
            {
                pairs.Add((i, j));
            }
        }

        int chunk = Math.Max(1, Math.Min(pairsPerLaunch, pairs.Count));
        var hsic = new double[pairs.Count];
        try
        {
            using var x = new DeviceBuffer<float>(_backend, host.Length);
            using var first = new DeviceBuffer<int>(_backend, chunk);
            using var second = new DeviceBuffer<int>(_backend, chunk);
            using var products = new DeviceBuffer<float>(_backend, (long)chunk * n * n);
            using var norms = new DeviceBuffer<float>(_backend, chunk);
            x.CopyFrom(Stream, host);
            var got = new float[chunk];
            for (int start = 0; start < pairs.Count; start += chunk)
            {
                int count = Math.Min(chunk, pairs.Count - start);
                first.CopyFrom(Stream, pairs.Skip(start).Take(count).Select(p => p.I).ToArray());
                second.CopyFrom(Stream, pairs.Skip(start).Take(count).Select(p => p.J).ToArray());
                var args = new CrossProductArgs(count, s, n, x.View, first.View, second.View, products.View, norms.View);
                _k.CrossProducts(_k.Config((long)count * n * n), args);
                _k.SquaredNorms(_k.Config(count), args);
                norms.CopyTo(Stream, got.AsSpan(0, count));
                for (int k = 0; k < count; k++)
                {
                    hsic[start + k] = got[k];
                }
            }
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or ObjectDisposedException or EngineException or ArgumentException))
        {
            throw new EngineException(_backend.Name, "cka cross products", ex.Message, ex);
        }

        var self = new double[e];
        for (int p = 0; p < pairs.Count; p++)
        {
            if (pairs[p].I == pairs[p].J)
            {
                self[pairs[p].I] = hsic[p];
            }
        }

        var m = new PairwiseMatrix(states.Ids, "cka");
        for (int p = 0; p < pairs.Count; p++)
        {
            var (i, j) = pairs[p];
            if (i != j)
            {
                m.Set(i, j, Distances.Cka.Angle(hsic[p] / Math.Sqrt(self[i] * self[j])));
            }
        }

        return m;
    }

    /// <summary>The DSA matrices of fitted operators with every alignment problem on the accelerator.</summary>
    public DsaResult Dsa(IReadOnlyList<double[]> operators, IReadOnlyList<int> ids, DsaOptions options)
    {
        ArgumentNullException.ThrowIfNull(operators);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int r = options.Rank, rr = r * r, e = operators.Count;
        var pairs = PairwiseMatrix.Pairs(e);
        int variants = r >= 2 ? 2 : 1, problems = pairs.Length * variants;
        var unit = operators.Select(o => DsaAlignment.Normalized(o, "A")).ToArray();
        var swapped = r >= 2 ? unit.Select(u => DsaAlignment.Swapped(u, r)).ToArray() : unit;
        var a = new float[Math.Max(1, problems) * rr];
        var b = new float[Math.Max(1, problems) * rr];
        for (int q = 0; q < problems; q++)
        {
            var (i, j) = pairs[q / variants];
            for (int k = 0; k < rr; k++)
            {
                a[q * rr + k] = (float)unit[i][k];
                b[q * rr + k] = (float)(q % variants == 0 ? unit : swapped)[j][k];
            }
        }

        var loss = new float[Math.Max(1, problems)];
        var inner = new float[Math.Max(1, problems)];
        if (problems > 0)
        {
            try
            {
                using var da = new DeviceBuffer<float>(_backend, a.Length);
                using var db = new DeviceBuffer<float>(_backend, b.Length);
                using var work = new DeviceBuffer<float>(_backend, (long)problems * 10 * rr);
                using var dl = new DeviceBuffer<float>(_backend, problems);
                using var di = new DeviceBuffer<float>(_backend, problems);
                using var dc = new DeviceBuffer<AdamCoefficients>(_backend, Math.Max(1, options.Iterations));
                da.CopyFrom(Stream, a);
                db.CopyFrom(Stream, b);
                dc.CopyFrom(Stream, Enumerable.Range(1, options.Iterations).Select(it => AdamMath.Coefficients((float)options.LearningRate, it, 1f)).ToArray());
                _k.DsaAlign(_k.Config(problems), new DsaAlignArgs(problems, r, options.Iterations, dc.View, da.View, db.View, work.View, dl.View, di.View));
                dl.CopyTo(Stream, loss.AsSpan(0, problems));
                di.CopyTo(Stream, inner.AsSpan(0, problems));
            }
            catch (Exception ex) when (ex is not (OutOfMemoryException or ObjectDisposedException or EngineException))
            {
                throw new EngineException(_backend.Name, "dsa alignment", ex.Message, ex);
            }
        }

        var bestLoss = new double[pairs.Length];
        var bestInner = new double[pairs.Length];
        for (int p = 0; p < pairs.Length; p++)
        {
            int q = p * variants, k = variants == 2 && loss[q + 1] < loss[q] ? q + 1 : q;
            (bestLoss[p], bestInner[p]) = (loss[k], inner[k]);
        }

        return Distances.Dsa.Assemble(ids, operators.ToArray(), pairs, bestLoss, bestInner);
    }

    /// <summary>FAQ d_PIF of every pair with the Frank–Wolfe gradients of all unfinished pairs batched on the accelerator.</summary>
    /// <remarks>
    /// Weights are uploaded once; each iteration uploads the plans P of the pairs still running, launches
    /// <see cref="DistanceKernel.FaqGradients"/> (stages 0 and 1: ∇f = W₂ P W₁ᵀ + W₂ᵀ P W₁ in float64), downloads ∇f and
    /// W₂ P, and takes the assignment and line search of each pair on the CPU, exactly as <see cref="WeightDistance.Faq"/>.
    /// </remarks>
    /// <param name="weights">Zero-padded W per network, row-major n × n, float64.</param>
    /// <param name="n">The common width.</param>
    /// <param name="pairs">(W₁, W₂) network indices.</param>
    /// <param name="maxIterations">Frank–Wolfe iterations at most.</param>
    /// <param name="tolerance">Stop a pair when ‖ΔP‖_F/√n is below this.</param>
    /// <param name="threads">CPU threads for the assignment steps (0: all cores).</param>
    public PifResult[] Faq(IReadOnlyList<double[]> weights, int n, IReadOnlyList<(int I, int J)> pairs, int maxIterations = 30, double tolerance = 0.03, int threads = 0)
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
                    Parallelism.For(count, threads, k =>
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

        return solvers.Select(s => s.Result()).ToArray();
    }

    /// <summary>The FAQ gradients ∇f = W₂ P W₁ᵀ + W₂ᵀ P W₁ of a batch of pairs (W₁ = weights[I], W₂ = weights[J]) with plans P, on the accelerator.</summary>
    public double[][] FaqGradients(IReadOnlyList<double[]> weights, int n, IReadOnlyList<(int I, int J)> pairs, IReadOnlyList<double[]> plans)
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
        var config = _k.Config((long)count * n * n);
        _k.FaqGradients(config, new FaqGradientArgs(count, n, 0, w, first, second, plans, work, grad));
        _k.FaqGradients(config, new FaqGradientArgs(count, n, 1, w, first, second, plans, work, grad));
    }

    /// <summary>The kernels of one accelerator and the group size they launch with.</summary>
    private sealed class Launchers
    {
        private readonly int _group;
        private readonly Action<KernelConfig, CrossProductArgs> _cross, _norms;
        private readonly Action<KernelConfig, DsaAlignArgs> _align;
        private readonly Action<KernelConfig, FaqGradientArgs> _faq;

        public Launchers(Accelerator accelerator)
        {
            int warp = accelerator.WarpSize;
            _group = Math.Max(warp, accelerator.MaxNumThreadsPerGroup / warp * warp);
            _cross = accelerator.LoadStreamKernel<CrossProductArgs>(DistanceKernel.CrossProducts);
            _norms = accelerator.LoadStreamKernel<CrossProductArgs>(DistanceKernel.SquaredNorms);
            _align = accelerator.LoadStreamKernel<DsaAlignArgs>(DistanceKernel.DsaAlign);
            _faq = accelerator.LoadStreamKernel<FaqGradientArgs>(DistanceKernel.FaqGradients);
        }

        public KernelConfig Config(long threads) => new(new Index1D((int)Math.Max(1, (threads + _group - 1) / _group)), new Index1D(_group));

        public void CrossProducts(KernelConfig c, CrossProductArgs a) => _cross(c, a);

        public void SquaredNorms(KernelConfig c, CrossProductArgs a) => _norms(c, a);

        public void DsaAlign(KernelConfig c, DsaAlignArgs a) => _align(c, a);

        public void FaqGradients(KernelConfig c, FaqGradientArgs a) => _faq(c, a);
    }
}
