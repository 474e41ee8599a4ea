using Engine.Kernels;
using Engine.Kernels.Rnn;
using Engine.Model;
using Engine.Util;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Backends.Ilgpu;

/// <summary>Runs one ensemble on an ILGPU accelerator with parameters, gradients, moments and workspaces on the device.</summary>
/// <remarks>
/// Parameters, gradient and Adam moments are [E][P] device blocks allocated once, as are the activity strengths λ [E]
/// (default 0; the regulariser λ_e · mean h² adds 2λ_e h_t / (B T N) to the gradient reaching every h_t and leaves the
/// reported masked MSE unchanged). Workspaces (inputs, targets, mask,
/// noise [S|E][B][T][·], states and activations [E][B][T][N], outputs and errors [E][B][T][O], deltas [E][B][T][N],
/// carry [E][B][N]) are sized on first use for a (S, B, T) and reused while it stays the same. Per-step kernels are
/// queued back to back on one stream; the host waits only once, when it copies results out.
/// </remarks>
internal sealed class IlgpuRunner : IEnsembleRunner
{
    private readonly IlgpuBackend _backend;
    private readonly IlgpuKernels _k;
    private readonly AcceleratorStream _stream;
    private readonly ParameterLayout _layout;
    private readonly long _blockSize;
    private readonly int[] _activeHost;
    private readonly DeviceBuffer<float> _parameters, _gradient, _firstMoment, _secondMoment, _loss, _denominator, _norm, _activity;
    private readonly DeviceBuffer<int> _allActive, _active;
    private readonly DeviceBuffer<AdamCoefficients> _coefficients;
    private readonly AdamCoefficients[] _perBlock;
    private Workspace? _work;
    private bool _disposed;

    // The state loss, its dL/dh [E][B][T][N] on the device (sized with the workspace) and the host copies it is computed from.
    private IStateLoss? _stateLoss;
    private DeviceBuffer<float>? _stateGradient;
    private float[] _hostStates = [], _hostStateGradient = [];

    public IlgpuRunner(IlgpuBackend backend, EnsembleSpec spec)
    {
        Spec = spec.Validate();
        _backend = backend;
        _k = backend.Kernels;
        _stream = backend.Accelerator.DefaultStream;
        _layout = spec.Layout;
        _blockSize = (long)spec.Networks * _layout.Stride;
        if (_blockSize > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), _blockSize, $"The ensemble has {_blockSize} parameters; at most {int.MaxValue} fit one device block.");
        }

        int e = spec.Networks;
        _activeHost = new int[e];
        _parameters = new DeviceBuffer<float>(backend, _blockSize);
        _gradient = new DeviceBuffer<float>(backend, _blockSize);
        _firstMoment = new DeviceBuffer<float>(backend, _blockSize);
        _secondMoment = new DeviceBuffer<float>(backend, _blockSize);
        _loss = new DeviceBuffer<float>(backend, e);
        _denominator = new DeviceBuffer<float>(backend, e);
        _norm = new DeviceBuffer<float>(backend, e);
        _activity = new DeviceBuffer<float>(backend, e);
        _allActive = new DeviceBuffer<int>(backend, e);
        _active = new DeviceBuffer<int>(backend, e);
        _coefficients = new DeviceBuffer<AdamCoefficients>(backend, e * _layout.BlockCount);
        _perBlock = new AdamCoefficients[e * _layout.BlockCount];
        Run("initialise", () =>
        {
            foreach (var b in new[] { _parameters, _gradient, _firstMoment, _secondMoment, _activity })
            {
                b.Clear(_stream);
            }

            Array.Fill(_activeHost, 1);
            _allActive.CopyFrom(_stream, _activeHost);
            _stream.Synchronize();
        });
    }

    /// <inheritdoc />
    public EnsembleSpec Spec { get; }

    private string Shape => $"[E={Spec.Networks}][P={_layout.Stride}]";

    /// <inheritdoc />
    public void SetParameters(ReadOnlySpan<float> parameters)
    {
        ThrowIfDisposed();
        Guard.Length(parameters.Length, _blockSize, nameof(parameters), Shape);
        Upload("copy parameters in", _parameters, parameters);
    }

    /// <inheritdoc />
    public void GetParameters(Span<float> parameters)
    {
        ThrowIfDisposed();
        Guard.Length(parameters.Length, _blockSize, nameof(parameters), Shape);
        Download("copy parameters out", _parameters, parameters);
    }

    /// <inheritdoc />
    public void SetOptimizerState(ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment)
    {
        ThrowIfDisposed();
        Guard.Length(firstMoment.Length, _blockSize, nameof(firstMoment), Shape);
        Guard.Length(secondMoment.Length, _blockSize, nameof(secondMoment), Shape);
        Upload("copy first moment in", _firstMoment, firstMoment);
        Upload("copy second moment in", _secondMoment, secondMoment);
    }

    /// <inheritdoc />
    public void GetOptimizerState(Span<float> firstMoment, Span<float> secondMoment)
    {
        ThrowIfDisposed();
        Guard.Length(firstMoment.Length, _blockSize, nameof(firstMoment), Shape);
        Guard.Length(secondMoment.Length, _blockSize, nameof(secondMoment), Shape);
        Download("copy first moment out", _firstMoment, firstMoment);
        Download("copy second moment out", _secondMoment, secondMoment);
    }

    /// <inheritdoc />
    public void GetGradients(Span<float> gradient)
    {
        ThrowIfDisposed();
        Guard.Length(gradient.Length, _blockSize, nameof(gradient), Shape);
        Download("copy gradient out", _gradient, gradient);
    }

    /// <inheritdoc />
    public void SetGradients(ReadOnlySpan<float> gradient)
    {
        ThrowIfDisposed();
        Guard.Length(gradient.Length, _blockSize, nameof(gradient), Shape);
        Upload("copy gradient in", _gradient, gradient);
    }

    /// <inheritdoc />
    public void SetActivityRegularization(ReadOnlySpan<float> strengths)
    {
        ThrowIfDisposed();
        Guard.Length(strengths.Length, Spec.Networks, nameof(strengths), "[E]");
        for (int e = 0; e < strengths.Length; e++)
        {
            if (!float.IsFinite(strengths[e]) || strengths[e] < 0f)
            {
                throw new ArgumentOutOfRangeException(nameof(strengths), strengths[e], $"activity strength of network {e} must be finite and ≥ 0, got {strengths[e]}.");
            }
        }

        Upload("copy activity strengths in", _activity, strengths);
    }

    /// <inheritdoc />
    public void SetStateLoss(IStateLoss? loss)
    {
        ThrowIfDisposed();
        StateLossChecks.Valid(loss);
        _stateLoss = loss;
    }

    /// <inheritdoc />
    public void Forward(TrialBatch batch, Span<float> outputs, Span<float> states)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(batch);
        batch.ValidateFor(Spec, checkValues: false);
        long rows = (long)Spec.Networks * batch.Trials * batch.Steps;
        Guard.Length(outputs.Length, rows * Spec.Outputs, nameof(outputs), $"[E={Spec.Networks}][B={batch.Trials}][T={batch.Steps}][O={Spec.Outputs}]");
        if (states.Length != 0)
        {
            Guard.Length(states.Length, rows * Spec.Hidden, nameof(states), $"[E={Spec.Networks}][B={batch.Trials}][T={batch.Steps}][N={Spec.Hidden}]");
        }

        var w = EnsureWorkspace(batch);
        var shape = ShapeOf(batch);
        UploadBatch(w, batch, withTargets: false);
        RunForward(w, shape, _allActive.View);
        Synchronize("forward");
        Download("copy outputs out", w.Outputs, outputs);
        if (states.Length != 0)
        {
            Download("copy states out", w.States, states);
        }
    }

    /// <inheritdoc />
    public void ComputeGradients(TrialBatch batch, ReadOnlySpan<byte> active, Span<float> loss, Span<float> gradientNormSquared)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(batch);
        batch.ValidateFor(Spec, checkValues: false);
        Guard.Length(active.Length, Spec.Networks, nameof(active), "[E]");
        Guard.Length(loss.Length, Spec.Networks, nameof(loss), "[E]");
        Guard.Length(gradientNormSquared.Length, Spec.Networks, nameof(gradientNormSquared), "[E]");
        StateLossChecks.ProbeFits(_stateLoss, batch);

        var w = EnsureWorkspace(batch);
        var shape = ShapeOf(batch);
        for (int e = 0; e < active.Length; e++)
        {
            _activeHost[e] = active[e] != 0 ? 1 : 0;
        }

        Upload("copy active flags in", _active, _activeHost);
        UploadBatch(w, batch, withTargets: true);
        var act = _active.View;
        RunForward(w, shape, act);

        var lossArgs = new LossArgs(shape, w.Outputs.View, w.Targets.View, w.Mask.View, act, _loss.View, _denominator.View, w.Errors.View);
        Launch("LossKernels.MaskedMse", _k.MaskedMse, _k.PerNetwork(Spec.Networks), lossArgs);
        Launch("LossKernels.OutputError", _k.OutputError, _k.Elementwise(w.Outputs.Length), lossArgs);

        try
        {
            w.Carry.Clear(_stream);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new EngineException(_backend.Name, "clear BPTT carry", e.Message, e);
        }

        int probe = StateGradients(w, batch, active);
        var extra = probe > 0 ? _stateGradient!.View : w.Carry.View;
        var hiddenThreads = _k.Elementwise((long)Spec.Networks * batch.Trials * Spec.Hidden);
        var p = _parameters.View;
        for (int t = batch.Steps - 1; t >= 0; t--)
        {
            var step = new BackwardStepArgs(
                shape, t, p, w.Errors.View, w.States.View, w.Activations.View, _activity.View, w.Carry.View, w.Deltas.View, act, extra, probe);
            Launch("BpttKernels.Delta", _k.Delta, hiddenThreads, step);
            if (t > 0 || _layout.LearnedInitialState)
            {
                Launch("BpttKernels.Carry", _k.Carry, hiddenThreads, step);
            }
        }

        var grad = new WeightGradientArgs(
            shape, p, w.Inputs.View, w.States.View, w.Activations.View, w.Deltas.View, w.Errors.View, w.Carry.View, act, _gradient.View);
        Launch("BpttKernels.WeightGradient", _k.WeightGradient, _k.Elementwise(_blockSize), grad);
        Launch("BpttKernels.NormSquared", _k.NormSquared, _k.PerNetwork(Spec.Networks), new NormArgs(Spec.Networks, _layout.Stride, _gradient.View, _norm.View));
        Synchronize("gradients");
        Download("copy loss out", _loss, loss);
        Download("copy gradient norms out", _norm, gradientNormSquared);
    }

    /// <summary>
    /// With a state loss: copies the states out, has the loss write dL/dh of every active network's probe trials (the first
    /// P trials of its [B][T][N] block, contiguous) on host threads, and copies that in; returns P (0: no state loss).
    /// </summary>
    private int StateGradients(Workspace w, TrialBatch batch, ReadOnlySpan<byte> active)
    {
        if (_stateLoss is not { } term)
        {
            return 0;
        }

        long length = w.States.Length;
        if (_stateGradient is null || _stateGradient.Length != length)
        {
            _stateGradient?.Dispose();
            _stateGradient = new DeviceBuffer<float>(_backend, length);
            _hostStates = new float[length];
            _hostStateGradient = new float[length];
        }

        Synchronize("forward");
        Download("copy states out for the state loss", w.States, _hostStates);
        int per = batch.Trials * batch.Steps * Spec.Hidden, probe = term.ProbeTrials * batch.Steps * Spec.Hidden;
        var act = active.ToArray();
        Parallelism.For(Spec.Networks, _backend.Threads, e =>
        {
            var dst = _hostStateGradient.AsSpan(e * per, probe);
            if (act[e] == 0 || !term.Gradient(e, _hostStates.AsSpan(e * per, probe), dst))
            {
                dst.Clear();
            }
        });
        Upload("copy state-loss gradient in", _stateGradient, _hostStateGradient);
        return term.ProbeTrials;
    }

    /// <inheritdoc />
    public void AdamStep(ReadOnlySpan<AdamCoefficients> coefficients)
    {
        ThrowIfDisposed();
        AdamBlocks.Expand(coefficients, Spec.Networks, _layout, _perBlock);
        Upload("copy Adam coefficients in", _coefficients, _perBlock);
        var l = _layout;
        var args = new AdamArgs(Spec.Networks, l.Stride, l.BlockCount, l.WInOffset, l.BiasOffset, l.WOutOffset, l.BOutOffset,
            l.LearnedInitialState ? l.H0Offset : l.Stride, _parameters.View, _gradient.View, _firstMoment.View, _secondMoment.View, _coefficients.View);
        Launch("AdamKernels.Update", _k.Adam, _k.Elementwise(_blockSize), args);
        Synchronize("AdamKernels.Update");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _work?.Dispose();
        _work = null;
        _stateGradient?.Dispose();
        foreach (var b in new[] { _parameters, _gradient, _firstMoment, _secondMoment, _loss, _denominator, _norm, _activity })
        {
            b.Dispose();
        }

        _allActive.Dispose();
        _active.Dispose();
        _coefficients.Dispose();
        _backend.RunnerClosed(this);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private RnnShape ShapeOf(TrialBatch batch)
    {
        float alpha = Spec.EffectiveAlpha;
        return new RnnShape(
            Spec.Networks, batch.Sets, batch.Trials, batch.Steps, Spec.Hidden, Spec.Inputs, Spec.Outputs,
            _layout.LearnedInitialState, alpha, Spec.NoiseStd * MathF.Sqrt(alpha), (int)Spec.Activation, Spec.Cell == CellType.Rate);
    }

    private void RunForward(Workspace w, RnnShape shape, ArrayView<int> active)
    {
        var hiddenThreads = _k.Elementwise((long)shape.Networks * shape.Trials * shape.Hidden);
        var p = _parameters.View;
        for (int t = 0; t < shape.Steps; t++)
        {
            var step = new ForwardStepArgs(shape, t, p, w.Inputs.View, w.Noise.View, w.States.View, w.Activations.View, active);
            Launch("RnnForwardKernels.Step", _k.ForwardStep, hiddenThreads, step);
        }

        Launch("RnnForwardKernels.Readout", _k.Readout, _k.Elementwise(w.Outputs.Length), new ReadoutArgs(shape, p, w.States.View, w.Activations.View, w.Outputs.View, active));
    }

    private void UploadBatch(Workspace w, TrialBatch batch, bool withTargets)
    {
        Upload("copy inputs in", w.Inputs, batch.Inputs);
        if (Spec.NoiseStd > 0f)
        {
            Upload("copy noise in", w.Noise, batch.Noise);
        }

        if (withTargets)
        {
            Upload("copy targets in", w.Targets, batch.Targets);
            Upload("copy mask in", w.Mask, batch.Mask);
        }
    }

    private Workspace EnsureWorkspace(TrialBatch batch)
    {
        if (_work is { } w && w.Sets == batch.Sets && w.Trials == batch.Trials && w.Steps == batch.Steps)
        {
            return w;
        }

        long rows = (long)Spec.Networks * batch.Trials * batch.Steps;
        long largest = rows * Math.Max(Spec.Hidden, Spec.Outputs);
        if (largest > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), largest, $"A workspace of {largest} elements ([E][B][T][max(N, O)]) exceeds the {int.MaxValue} a kernel can index.");
        }

        _work?.Dispose();
        _work = null;
        try
        {
            _work = new Workspace(_backend, Spec, batch.Sets, batch.Trials, batch.Steps);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not ObjectDisposedException)
        {
            throw new EngineException(_backend.Name, "allocate workspace", e.Message, e);
        }

        return _work;
    }

    private void Launch<TArgs>(string kernel, Action<KernelConfig, TArgs> launcher, KernelConfig config, TArgs args)
        where TArgs : struct
    {
        try
        {
            launcher(config, args);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new EngineException(_backend.Name, kernel, e.Message, e);
        }
    }

    private void Synchronize(string after)
    {
        try
        {
            _stream.Synchronize();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new EngineException(_backend.Name, after, e.Message, e);
        }
    }

    private void Upload<T>(string what, DeviceBuffer<T> buffer, ReadOnlySpan<T> source)
        where T : unmanaged
    {
        try
        {
            buffer.CopyFrom(_stream, source);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not ObjectDisposedException)
        {
            throw new EngineException(_backend.Name, what, e.Message, e);
        }
    }

    private void Download<T>(string what, DeviceBuffer<T> buffer, Span<T> destination)
        where T : unmanaged
    {
        try
        {
            buffer.CopyTo(_stream, destination);
            _stream.Synchronize();
        }
        catch (Exception e) when (e is not OutOfMemoryException and not ObjectDisposedException)
        {
            throw new EngineException(_backend.Name, what, e.Message, e);
        }
    }

    private void Run(string what, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is not OutOfMemoryException and not ObjectDisposedException)
        {
            throw new EngineException(_backend.Name, what, e.Message, e);
        }
    }

    /// <summary>The per-(S, B, T) device buffers.</summary>
    private sealed class Workspace : IDisposable
    {
        public Workspace(IlgpuBackend backend, EnsembleSpec spec, int sets, int trials, int steps)
        {
            Sets = sets;
            Trials = trials;
            Steps = steps;
            long setRows = (long)sets * trials * steps;
            long rows = (long)spec.Networks * trials * steps;
            try
            {
                Inputs = new DeviceBuffer<float>(backend, setRows * spec.Inputs);
                Targets = new DeviceBuffer<float>(backend, setRows * spec.Outputs);
                Mask = new DeviceBuffer<float>(backend, setRows * spec.Outputs);
                Noise = new DeviceBuffer<float>(backend, spec.NoiseStd > 0f ? rows * spec.Hidden : 0);
                States = new DeviceBuffer<float>(backend, rows * spec.Hidden);
                Activations = new DeviceBuffer<float>(backend, rows * spec.Hidden);
                Deltas = new DeviceBuffer<float>(backend, rows * spec.Hidden);
                Outputs = new DeviceBuffer<float>(backend, rows * spec.Outputs);
                Errors = new DeviceBuffer<float>(backend, rows * spec.Outputs);
                Carry = new DeviceBuffer<float>(backend, (long)spec.Networks * trials * spec.Hidden);
            }
            catch
            {
                Dispose(); // free what was allocated before the device ran out
                throw;
            }
        }

        public int Sets { get; }

        public int Trials { get; }

        public int Steps { get; }

        public DeviceBuffer<float> Inputs { get; }

        public DeviceBuffer<float> Targets { get; }

        public DeviceBuffer<float> Mask { get; }

        public DeviceBuffer<float> Noise { get; }

        public DeviceBuffer<float> States { get; }

        public DeviceBuffer<float> Activations { get; }

        public DeviceBuffer<float> Deltas { get; }

        public DeviceBuffer<float> Outputs { get; }

        public DeviceBuffer<float> Errors { get; }

        public DeviceBuffer<float> Carry { get; }

        public void Dispose()
        {
            foreach (DeviceBuffer<float>? b in new[] { Inputs, Targets, Mask, Noise, States, Activations, Deltas, Outputs, Errors, Carry })
            {
                b?.Dispose();
            }
        }
    }
}
