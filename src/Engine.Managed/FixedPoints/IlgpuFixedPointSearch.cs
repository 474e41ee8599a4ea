using System.Runtime.CompilerServices;
using Engine.Backends;
using Engine.Backends.Ilgpu;
using Engine.Kernels;
using Engine.Kernels.FixedPoints;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.FixedPoints;

/// <summary>The Adam search as ILGPU kernels (<see cref="FixedPointKernel"/>) on an ILGPU backend's accelerator.</summary>
/// <remarks>
/// Three launches per iteration (residual, assess, update; the rate cell adds one that writes φ(h) first) over device-resident states and moments; the host reads
/// q and statuses back once per schedule check and uploads each chunk's Adam coefficients [count][E] in one copy.
/// Kernels are loaded once per accelerator and shared by every search on it.
/// </remarks>
public sealed class IlgpuFixedPointSearch : FixedPointSearch
{
    private static readonly ConditionalWeakTable<Accelerator, Launchers> Loaded = new();
    private readonly IlgpuBackend _backend;
    private readonly Launchers _k;
    private DeviceBuffer<float>? _params, _drive, _h, _m, _v, _r, _d, _q;
    private DeviceBuffer<int>? _status, _iterations;
    private DeviceBuffer<AdamCoefficients>? _coefficients;
    private int _e, _s, _n, _stride, _activation, _rate, _maxIterations;
    private float _alpha, _tolerance, _epsilon;

    /// <summary>Runs on <paramref name="backend"/>'s accelerator (which stays owned by the caller).</summary>
    /// <exception cref="ArgumentException">The backend is not an ILGPU backend.</exception>
    public IlgpuFixedPointSearch(IEnsembleBackend backend)
    {
        _backend = backend as IlgpuBackend ?? throw new ArgumentException($"Backend '{backend?.Name}' is not an ILGPU backend.", nameof(backend));
        try
        {
            _k = Loaded.GetValue(_backend.Accelerator, a => new Launchers(a));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new EngineException(_backend.Name, "load fixed-point kernels", e.Message, e);
        }
    }

    /// <inheritdoc />
    public override string Name => _backend.Name;

    private AcceleratorStream Stream => _backend.Accelerator.DefaultStream;

    /// <inheritdoc />
    protected override void Load(FixedPointProblem problem, AdamSearchOptions options)
    {
        FreeBuffers();
        var spec = problem.Spec;
        (_e, _s, _n, _stride) = (spec.Networks, problem.SeedsPerNetwork, spec.Hidden, spec.Layout.Stride);
        _rate = spec.Cell == Model.CellType.Rate ? 1 : 0;
        (_activation, _alpha, _tolerance, _maxIterations) = ((int)spec.Activation, spec.EffectiveAlpha, (float)options.Tolerance, options.MaxIterations);
        _epsilon = (float)options.Epsilon;
        long cells = (long)_e * _s * _n;
        _params = new DeviceBuffer<float>(_backend, problem.Parameters.Length);
        _drive = new DeviceBuffer<float>(_backend, _e * _n);
        _h = new DeviceBuffer<float>(_backend, cells);
        _m = new DeviceBuffer<float>(_backend, cells);
        _v = new DeviceBuffer<float>(_backend, cells);
        _r = new DeviceBuffer<float>(_backend, cells);
        _d = new DeviceBuffer<float>(_backend, cells);
        _q = new DeviceBuffer<float>(_backend, _e * _s);
        _status = new DeviceBuffer<int>(_backend, _e * _s);
        _iterations = new DeviceBuffer<int>(_backend, _e * _s);
        _coefficients = new DeviceBuffer<AdamCoefficients>(_backend, (long)Math.Max(1, options.CheckInterval) * _e);
        _params.CopyFrom(Stream, problem.Parameters);
        _drive.CopyFrom(Stream, problem.Drive().Select(x => (float)x).ToArray());
        _h.CopyFrom(Stream, problem.Seeds);
        _m.Clear(Stream);
        _v.Clear(Stream);
        _q.Clear(Stream);
        _status.Clear(Stream);
        _iterations.Clear(Stream);
        Stream.Synchronize();
    }

    /// <inheritdoc />
    protected override void Iterate(int first, int count, ReadOnlySpan<double> learningRates)
    {
        var coefficients = new AdamCoefficients[count * _e];
        for (int k = 0; k < count; k++)
        {
            for (int e = 0; e < _e; e++)
            {
                coefficients[k * _e + e] = AdamMath.Coefficients((float)learningRates[e], first + k + 1, 1f, _epsilon);
            }
        }

        try
        {
            _coefficients!.CopyFrom(Stream, coefficients);
            long cells = (long)_e * _s * _n;
            var elementwise = _k.Elementwise(cells);
            var perSeed = _k.Elementwise((long)_e * _s);
            for (int k = 0; k < count; k++)
            {
                var args = Args(first + k, _coefficients.View.SubView(k * _e, _e));
                if (_rate != 0)
                {
                    _k.Activate(elementwise, args);
                }

                _k.Residual(elementwise, args);
                _k.Assess(perSeed, args);
                if (first + k < _maxIterations)
                {
                    _k.Update(elementwise, args);
                }
            }

            Stream.Synchronize();
        }
        catch (Exception e) when (e is not (OutOfMemoryException or ObjectDisposedException or EngineException))
        {
            throw new EngineException(Name, "fixed-point search", e.Message, e);
        }
    }

    /// <inheritdoc />
    protected override void ReadProgress(Span<float> q, Span<int> status, Span<int> iterations)
    {
        _q!.CopyTo(Stream, q);
        _status!.CopyTo(Stream, status);
        _iterations!.CopyTo(Stream, iterations);
    }

    /// <inheritdoc />
    protected override void ReadStates(Span<float> states) => _h!.CopyTo(Stream, states);

    /// <inheritdoc />
    public override void Dispose()
    {
        FreeBuffers();
        base.Dispose();
    }

    private FixedPointSearchArgs Args(int iteration, ArrayView<AdamCoefficients> coefficients) => new(
        _e, _s, _n, _stride, _activation, _rate, _alpha, _tolerance, iteration, _maxIterations,
        _params!.View, _drive!.View, _h!.View, _m!.View, _v!.View, _r!.View, _d!.View, _q!.View,
        _status!.View, _iterations!.View, coefficients);

    private void FreeBuffers()
    {
        foreach (var b in new IDisposable?[] { _params, _drive, _h, _m, _v, _r, _d, _q, _status, _iterations, _coefficients })
        {
            b?.Dispose();
        }

        (_params, _drive, _h, _m, _v, _r, _d, _q, _status, _iterations, _coefficients) = (null, null, null, null, null, null, null, null, null, null, null);
    }

    /// <summary>The four kernels of one accelerator (on its default stream) and the group size they launch with.</summary>
    private sealed class Launchers
    {
        private readonly int _group;

        public Launchers(Accelerator accelerator)
        {
            int warp = accelerator.WarpSize;
            _group = Math.Max(warp, accelerator.MaxNumThreadsPerGroup / warp * warp);
            ActivateKernel = accelerator.LoadStreamKernel<FixedPointSearchArgs>(FixedPointKernel.Activate);
            ResidualKernel = accelerator.LoadStreamKernel<FixedPointSearchArgs>(FixedPointKernel.Residual);
            AssessKernel = accelerator.LoadStreamKernel<FixedPointSearchArgs>(FixedPointKernel.Assess);
            UpdateKernel = accelerator.LoadStreamKernel<FixedPointSearchArgs>(FixedPointKernel.Update);
        }

        private Action<KernelConfig, FixedPointSearchArgs> ActivateKernel { get; }

        private Action<KernelConfig, FixedPointSearchArgs> ResidualKernel { get; }

        private Action<KernelConfig, FixedPointSearchArgs> AssessKernel { get; }

        private Action<KernelConfig, FixedPointSearchArgs> UpdateKernel { get; }

        public KernelConfig Elementwise(long threads)
            => new(new Index1D((int)Math.Max(1, (threads + _group - 1) / _group)), new Index1D(_group));

        public void Activate(KernelConfig c, FixedPointSearchArgs a) => ActivateKernel(c, a);

        public void Residual(KernelConfig c, FixedPointSearchArgs a) => ResidualKernel(c, a);

        public void Assess(KernelConfig c, FixedPointSearchArgs a) => AssessKernel(c, a);

        public void Update(KernelConfig c, FixedPointSearchArgs a) => UpdateKernel(c, a);
    }
}
