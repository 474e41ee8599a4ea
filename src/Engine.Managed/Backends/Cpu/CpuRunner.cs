using Engine.Kernels;
using Engine.Model;
using Engine.Numerics;

namespace Engine.Backends.Cpu;

/// <summary>
/// The fast CPU runner: float32, SIMD micro-kernels, long-lived workers over networks (and over trial blocks
/// for the networks left over when E is not a multiple of the worker count).
/// </summary>
/// <remarks>
/// The first ⌊E/W⌋·W networks (W workers) run whole: each task is one network, start to finish, on its worker's
/// own workspace, so its data stays in that core's caches. The remaining E mod W networks (all of them when
/// E &lt; W) run in phases that all workers share: pack, forward per trial block, errors, backward per trial
/// block, weight gradients per row block, finish. Each network's arithmetic is the same sequence of operations
/// in both schedules, so results never depend on the worker count or on the other networks. Each network's activity
/// strength λ_e (<see cref="HostRunner.ActivityStrength"/>) reaches its backward pass as s_e = 2λ_e / (B T N).
/// </remarks>
internal sealed unsafe partial class CpuRunner : HostRunner
{
    private readonly WorkerPool _pool;
    private readonly bool _wide;
    private readonly int _whole;
    private readonly float[] _loss;
    private readonly float[] _norm;
    private readonly byte[] _active;
    private readonly AdamCoefficients[] _coefficients;
    private readonly Action<int, int> _wholeNetwork, _pack, _forwardBlock, _errors, _backwardBlock, _weights, _finish, _adam;
    private readonly NetworkWorkspace[] _perWorker;
    private readonly NetworkWorkspace[] _shared;
    private int _trials = -1, _steps = -1, _paddedTrials, _blocks = 1, _parts = 1;

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
        int e = spec.Networks, workers = _pool.Workers;
        _whole = workers == 1 ? e : e / workers * workers;
        _perWorker = new NetworkWorkspace[_whole > 0 ? Math.Min(e, workers) : 0];
        _shared = new NetworkWorkspace[e - _whole];
        for (int i = 0; i < _perWorker.Length; i++)
        {
            _perWorker[i] = new NetworkWorkspace(spec, wide);
        }

        for (int i = 0; i < _shared.Length; i++)
        {
            _shared[i] = new NetworkWorkspace(spec, wide);
        }

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
            _pool.Run(_whole, _wholeNetwork);
            int rest = _shared.Length;
            if (rest == 0)
            {
                return;
            }

            _pool.Run(rest, _pack);
            _pool.Run(rest * _blocks, _forwardBlock);
            if (gradients)
            {
                _pool.Run(rest, _errors);
                _pool.Run(rest * _blocks, _backwardBlock);
                _pool.Run(rest * _parts, _weights);
            }

            _pool.Run(rest, _finish);
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

        foreach (var ws in _perWorker.Concat(_shared))
        {
            ws.EnsureShape(trials, steps);
        }

        _paddedTrials = NetworkWorkspace.RoundUp(trials, TileKernel.Rows);
        _blocks = Math.Min(_paddedTrials / TileKernel.Rows, _pool.Workers);
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

        var ws = _perWorker[worker];
        int rows = _paddedTrials;
        ws.Pack(ParametersOf(e));
        ws.Load(_batch!, e, 0, rows);
        ws.Forward(0, rows, _gradients);
        if (_gradients)
        {
            ws.Errors(_batch!, e);
            ws.ApplyStateLoss(StateLoss, e);
            ws.Backward(0, rows, ActivityStrength[e]);
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
        int tiles = _paddedTrials / TileKernel.Rows;
        return (block * tiles / _blocks * TileKernel.Rows, (block + 1) * tiles / _blocks * TileKernel.Rows);
    }

    private void PackTask(int i, int worker)
    {
        int e = _whole + i;
        if (!_gradients || _active[e] != 0)
        {
            _shared[i].Pack(ParametersOf(e));
        }
    }

    private void ForwardBlock(int task, int worker)
    {
        int i = task / _blocks, e = _whole + i;
        if (_gradients && _active[e] == 0)
        {
            return;
        }

        var (from, to) = Block(task % _blocks);
        _shared[i].Load(_batch!, e, from, to);
        _shared[i].Forward(from, to, _gradients);
    }

    private void ErrorsTask(int i, int worker)
    {
        if (_active[_whole + i] != 0)
        {
            _shared[i].Errors(_batch!, _whole + i);
            _shared[i].ApplyStateLoss(StateLoss, _whole + i);
        }
    }

    private void BackwardBlock(int task, int worker)
    {
        int i = task / _blocks;
        if (_active[_whole + i] != 0)
        {
            var (from, to) = Block(task % _blocks);
            _shared[i].Backward(from, to, ActivityStrength[_whole + i]);
        }
    }

    private void WeightsTask(int task, int worker)
    {
        int i = task / _parts;
        if (_active[_whole + i] != 0)
        {
            _shared[i].WeightGradients(task % _parts, _parts);
        }
    }

    private void FinishTask(int i, int worker)
    {
        if (!Skip(_whole + i))
        {
            Complete(_shared[i], _whole + i);
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
}
