using Engine.Kernels;
using Engine.Model;

namespace Engine.Backends.Cpu;

/// <summary>
/// The fast CPU runner: float32, SIMD micro-kernels, long-lived workers over networks (and over trial blocks
/// when there are fewer networks than workers).
/// </summary>
/// <remarks>
/// With E ≥ 2 × workers (or one worker) each task is one whole network, run start to finish on the worker's own
/// workspace, so the network's data stays in that core's caches. Otherwise every network has a workspace and the
/// pass runs in phases (pack, forward per trial block, errors, backward per trial block, weight gradients per
/// row block, finish) so that all workers share each network. Each network's arithmetic is the same sequence
/// of operations in both schedules, so results never depend on the worker count or on the other networks.
/// </remarks>
internal sealed unsafe partial class CpuRunner : HostRunner
{
    private readonly WorkerPool _pool;
    private readonly bool _wide;
    private readonly bool _phased;
    private readonly float[] _loss;
    private readonly float[] _norm;
    private readonly byte[] _active;
    private readonly AdamCoefficients[] _coefficients;
    private readonly Action<int, int> _wholeNetwork, _pack, _forwardBlock, _errors, _backwardBlock, _weights, _finish, _adam;
    private NetworkWorkspace[] _workspaces = [];
    private int _trials = -1, _steps = -1, _blocks = 1, _parts = 1;

    // Per-call state read by the task bodies.
    private TrialBatch? _batch;
    private bool _gradients;
    private float* _outputs;
    private float* _states;

    public CpuRunner(EnsembleSpec spec, int threads, bool wide)
        : base(spec)
    {
        _pool = new WorkerPool(threads);
        _wide = wide;
        int e = spec.Networks;
        _phased = _pool.Workers > 1 && e < 2 * _pool.Workers;
        _loss = new float[e];
        _norm = new float[e];
        _active = new byte[e];
        _coefficients = new AdamCoefficients[e * Layout.BlockCount];
        _wholeNetwork = WholeNetwork;
        _pack = PackTask;
        _forwardBlock = ForwardBlock;
        _errors = ErrorsTask;
        _backwardBlock = BackwardBlock;
        _weights = WeightsTask;
        _finish = FinishTask;
        _adam = AdamTask;
    }

    /// <inheritdoc />
    public override void Forward(TrialBatch batch, Span<float> outputs, Span<float> states)
    {
        CheckForward(batch, outputs.Length, states.Length);
        Array.Fill(_active, (byte)1);
        fixed (float* y = outputs, h = states)
        {
            _outputs = y;
            _states = states.IsEmpty ? null : h;
            Execute(batch, gradients: false);
        }
    }

    /// <inheritdoc />
    public override void ComputeGradients(TrialBatch batch, ReadOnlySpan<byte> active, Span<float> loss, Span<float> gradientNormSquared)
    {
        CheckGradients(batch, active.Length, loss.Length, gradientNormSquared.Length);
        active.CopyTo(_active);
        Execute(batch, gradients: true);
        _loss.CopyTo(loss);
        _norm.CopyTo(gradientNormSquared);
    }

    private void Execute(TrialBatch batch, bool gradients)
    {
        EnsureShape(batch.Trials, batch.Steps);
        _batch = batch;
        _gradients = gradients;
        try
        {
            int e = Spec.Networks;
            if (!_phased)
            {
                _pool.Run(e, _wholeNetwork);
                return;
            }

            _pool.Run(e, _pack);
            _pool.Run(e * _blocks, _forwardBlock);
            if (gradients)
            {
                _pool.Run(e, _errors);
                _pool.Run(e * _blocks, _backwardBlock);
                _pool.Run(e * _parts, _weights);
            }

            _pool.Run(e, _finish);
        }
        finally
        {
            _batch = null;
            _outputs = null;
            _states = null;
        }
    }

    private void EnsureShape(int trials, int steps)
    {
        if (trials == _trials && steps == _steps)
        {
            return;
        }

        int count = _phased ? Spec.Networks : Math.Min(Spec.Networks, _pool.Workers);
        if (_workspaces.Length != count)
        {
            _workspaces = new NetworkWorkspace[count];
            for (int i = 0; i < count; i++)
            {
                _workspaces[i] = new NetworkWorkspace(Spec, _wide);
            }
        }

        foreach (var ws in _workspaces)
        {
            ws.EnsureShape(trials, steps);
        }

        int tiles = _workspaces[0].PaddedTrials / TileKernel.Rows;
        _blocks = Math.Min(tiles, _pool.Workers);
        _parts = Math.Min(NetworkWorkspace.RoundUp(Spec.Hidden, TileKernel.Rows) / TileKernel.Rows, _pool.Workers);
        _trials = trials;
        _steps = steps;
    }

    private Span<float> ParametersOf(int e) => Parameters.AsSpan(e * Layout.Stride, Layout.Stride);

    private Span<float> GradientOf(int e) => Gradient.AsSpan(e * Layout.Stride, Layout.Stride);

    private bool Skip(int e)
    {
        if (!_gradients || _active[e] != 0)
        {
            return false;
        }

        GradientOf(e).Clear();
        _loss[e] = 0f;
        _norm[e] = 0f;
        return true;
    }

    private void WholeNetwork(int e, int worker)
    {
        if (Skip(e))
        {
            return;
        }

        var ws = _workspaces[worker];
        int rows = ws.PaddedTrials;
        ws.Pack(ParametersOf(e));
        ws.Load(_batch!, e, 0, rows);
        ws.Forward(0, rows, _gradients);
        if (_gradients)
        {
            ws.Errors(_batch!, e);
            ws.Backward(0, rows);
            ws.WeightGradients(0, 1);
        }

        Complete(ws, e);
    }

    private void Complete(NetworkWorkspace ws, int e)
    {
        if (_gradients)
        {
            _norm[e] = (float)ws.Finish(GradientOf(e));
            _loss[e] = (float)ws.Loss;
        }
        else
        {
            long rows = (long)_batch!.Trials * _batch.Steps;
            ws.WriteOutputs(_outputs + e * rows * Spec.Outputs, _states == null ? null : _states + e * rows * Spec.Hidden);
        }
    }

    private (int From, int To) Block(int block)
    {
        int tiles = _workspaces[0].PaddedTrials / TileKernel.Rows;
        return (block * tiles / _blocks * TileKernel.Rows, (block + 1) * tiles / _blocks * TileKernel.Rows);
    }

    private void PackTask(int e, int worker)
    {
        if (!_gradients || _active[e] != 0)
        {
            _workspaces[e].Pack(ParametersOf(e));
        }
    }

    private void ForwardBlock(int task, int worker)
    {
        int e = task / _blocks;
        if (_gradients && _active[e] == 0)
        {
            return;
        }

        var (from, to) = Block(task % _blocks);
        _workspaces[e].Load(_batch!, e, from, to);
        _workspaces[e].Forward(from, to, _gradients);
    }

    private void ErrorsTask(int e, int worker)
    {
        if (_active[e] != 0)
        {
            _workspaces[e].Errors(_batch!, e);
        }
    }

    private void BackwardBlock(int task, int worker)
    {
        int e = task / _blocks;
        if (_active[e] != 0)
        {
            var (from, to) = Block(task % _blocks);
            _workspaces[e].Backward(from, to);
        }
    }

    private void WeightsTask(int task, int worker)
    {
        int e = task / _parts;
        if (_active[e] != 0)
        {
            _workspaces[e].WeightGradients(task % _parts, _parts);
        }
    }

    private void FinishTask(int e, int worker)
    {
        if (!Skip(e))
        {
            Complete(_workspaces[e], e);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pool.Dispose();
        }
    }

    /// <inheritdoc />
    public override void SetActivityRegularization(ReadOnlySpan<float> strengths)
    {
        base.SetActivityRegularization(strengths);
        foreach (float s in strengths)
        {
            if (s != 0f)
            {
                throw new NotSupportedException("The cpu backend does not apply the activity regulariser yet; use --backend reference.");
            }
        }
    }
}
