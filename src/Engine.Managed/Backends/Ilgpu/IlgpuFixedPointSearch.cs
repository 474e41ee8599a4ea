using Engine.Backends;
using Engine.Kernels;
using Engine.Kernels.FixedPoints;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Backends.Ilgpu;

/// <summary>The Adam search as ILGPU kernels (<see cref="FixedPointKernel"/>) on an ILGPU backend's accelerator.</summary>
/// <remarks>
/// Three launches per iteration (residual, assess, update; the rate cell adds one that writes φ(h) first) over device-resident states and moments; the host reads
/// q and statuses back once per schedule check and uploads each chunk's Adam coefficients [count][E] in one copy.
/// Kernels come from the backend's one loader (<see cref="IlgpuKernels"/>), loaded once and shared by every search on it.
/// </remarks>
public sealed class IlgpuFixedPointSearch : FixedPointSearch
{
    private readonly IlgpuBackend _backend;
    private readonly FixedPointKernelSet _k;
    private DeviceBuffer<float>? _params, _drive, _h, _m, _v, _r, _d, _q;
    private DeviceBuffer<int>? _status, _iterations;
    private DeviceBuffer<AdamCoefficients>? _coefficients;
    private int _e, _s, _n, _stride, _activation, _rate, _maxIterations;
    private float _alpha, _tolerance, _epsilon;

    /// <summary>Runs on <paramref name="backend"/>'s accelerator (which stays owned by the caller); made by <see cref="IlgpuBackend.CreateFixedPointSearch"/>.</summary>
    internal IlgpuFixedPointSearch(IlgpuBackend backend)
    {
        _backend = backend;
        try
        {
            _k = backend.Kernels.FixedPoints;
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
            var elementwise = _backend.Kernels.Elementwise(cells);
            var perSeed = _backend.Kernels.Elementwise((long)_e * _s);
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
}
