using Engine.Backends.Cpu;
using Engine.Backends.Reference;
using Engine.Kernels.ClosedLoop;
using Engine.Model;
using Engine.Tasks.Control;
using ILGPU;
using ILGPU.Runtime;

namespace Engine.Backends.Ilgpu;

/// <summary>
/// Closed-loop losses and gradients of many agents at once on an ILGPU accelerator (CUDA, OpenCL, or the CPU
/// simulator for tests), float64, through <see cref="ClosedLoopKernels"/>; the same numbers as
/// <see cref="ClosedLoopReference.ClosedLoopLoss"/> up to summation order.
/// </summary>
/// <remarks>
/// All agents share the plant, the task and one horizon T. Each call uploads the E parameter blocks, runs the
/// forward pass (2 launches per time step) and, with gradients, the backward pass (3 per step) and one launch for
/// ∂W, ∂m, ∂z, then downloads E losses and gradients; the optimiser stays on the host. Device memory: about
/// 5 E B (T+1) N doubles of trajectories. A first version: one thread per (agent, trial, unit) and a launch per
/// phase, like the RNN training kernels. Single-agent queries and the open loop run on the host's fast CPU path.
/// </remarks>
internal sealed class IlgpuClosedLoop : IClosedLoopAgents
{
    private readonly IlgpuBackend _backend;
    private readonly ClosedLoopKernelSet _k;
    private readonly CpuClosedLoopAgents _host;
    private readonly ParameterLayout _layout;
    private readonly int _agents, _trials, _horizon, _activation;
    private readonly double _leak, _beta;
    private readonly ControlTask _task;
    private readonly Plant _plant;
    private readonly DeviceBuffer<double> _theta, _a, _b, _c, _x0, _targets, _weights, _x, _y, _r, _h, _u, _losses, _ga, _gh, _gu, _gx, _grad;
    private readonly double[] _hostTheta, _hostLoss, _hostGrad;
    private bool _disposed;

    /// <summary>Allocates the device buffers for every agent of <paramref name="problem"/> (one horizon for all).</summary>
    /// <exception cref="ArgumentException">The agents have different horizons, or the shapes do not match.</exception>
    public IlgpuClosedLoop(IlgpuBackend backend, ClosedLoopProblem problem)
    {
        Problem = problem.Validate();
        if (problem.Horizons.Distinct().Count() > 1)
        {
            throw new ArgumentException($"the ILGPU closed-loop path trains agents of one horizon, got T = {string.Join(", ", problem.Horizons.Distinct())}; " +
                "use one ensemble per horizon or the cpu backend.", "agents");
        }

        _backend = backend;
        _plant = problem.Plant;
        _task = problem.Task;
        _layout = problem.Layout;
        _agents = problem.Agents;
        _trials = problem.Task.Trials;
        _horizon = problem.Horizons[0];
        _activation = (int)problem.Activation;
        _leak = problem.Leak;
        _beta = problem.Beta;
        _host = new CpuClosedLoopAgents(problem, backend.Threads);
        var plant = _plant;
        var task = _task;
        var layout = _layout;
        int agents = _agents, horizon = _horizon;
        try
        {
            _k = _backend.Kernels.ClosedLoop;
            int n = plant.N, nh = layout.Hidden, T1 = horizon + 1;
            long slots = (long)agents * _trials;
            var targets = new double[_trials * T1 * n];
            task.FillTargets(horizon, targets);
            _theta = new DeviceBuffer<double>(_backend, (long)agents * layout.Length);
            _a = Upload(plant.A);
            _b = Upload(plant.B);
            _c = Upload(plant.C);
            _x0 = Upload(task.InitialStates);
            _targets = Upload(targets);
            _weights = Upload(task.StateWeights);
            _x = new DeviceBuffer<double>(_backend, slots * T1 * n);
            _y = new DeviceBuffer<double>(_backend, slots * T1 * layout.Observations);
            _r = new DeviceBuffer<double>(_backend, slots * T1 * nh);
            _h = new DeviceBuffer<double>(_backend, slots * T1 * nh);
            _u = new DeviceBuffer<double>(_backend, slots * T1 * plant.P);
            _losses = new DeviceBuffer<double>(_backend, slots);
            _ga = new DeviceBuffer<double>(_backend, slots * T1 * nh);
            _gh = new DeviceBuffer<double>(_backend, slots * T1 * nh);
            _gu = new DeviceBuffer<double>(_backend, slots * T1 * plant.P);
            _gx = new DeviceBuffer<double>(_backend, slots * (T1 + 1) * n);
            _grad = new DeviceBuffer<double>(_backend, (long)agents * layout.Length);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or EngineException or ArgumentException))
        {
            throw new EngineException(_backend.Name, "closed-loop buffers", e.Message, e);
        }

        _hostTheta = new double[agents * layout.Length];
        _hostLoss = new double[agents * _trials];
        _hostGrad = new double[agents * layout.Length];
    }

    /// <inheritdoc />
    public ClosedLoopProblem Problem { get; }

    /// <inheritdoc />
    public void ClosedLoop(IReadOnlyList<double[]> parameters, double[][]? gradients, ReadOnlySpan<bool> active, Span<double> losses, bool rankOne)
    {
        var all = Evaluate(parameters, gradients, rankOne);
        for (int e = 0; e < all.Length; e++)
        {
            if (active[e])
            {
                losses[e] = all[e];
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>On the host's fast CPU path: one agent is too little work for a device pass.</remarks>
    public double ClosedLoop(int agent, double[] parameters, double[]? gradient, bool rankOne, int? horizon = null)
        => _host.ClosedLoop(agent, parameters, gradient, rankOne, horizon);

    /// <inheritdoc />
    /// <remarks>On the host's fast CPU path: the kernels cover the closed loop only.</remarks>
    public double OpenLoop(int agent, double[] parameters, int trials, double[] ys, double[] us, double[]? gradient, bool rankOne, int? horizon = null)
        => _host.OpenLoop(agent, parameters, trials, ys, us, gradient, rankOne, horizon);

    /// <summary>
    /// Losses of every agent (and, when <paramref name="gradients"/> is non-null, ∂L/∂θ into
    /// <paramref name="gradients"/>[e], overwritten; the factor gradients of a rank-one agent are added on the host).
    /// </summary>
    internal double[] Evaluate(IReadOnlyList<double[]> thetas, double[][]? gradients, bool rankOne = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(thetas);
        Util.Guard.Length(thetas.Count, _agents, "parameter blocks", "one per agent");
        int len = _layout.Length;
        for (int e = 0; e < _agents; e++)
        {
            Util.Guard.Length(thetas[e].Length, len, "agent parameters", "agent layout");
            thetas[e].CopyTo(_hostTheta, e * len);
        }

        var stream = _backend.Accelerator.DefaultStream;
        try
        {
            _theta.CopyFrom(stream, _hostTheta);
            long slots = (long)_agents * _trials, units = slots * _layout.Hidden;
            Launch(_k.Start, slots, 0);
            Launch(_k.Hidden, units, 0);
            for (int t = 0; t < _horizon; t++)
            {
                Launch(_k.Plant, slots, t);
                Launch(_k.Hidden, units, t + 1);
            }

            _losses.CopyTo(stream, _hostLoss);
            if (gradients is not null)
            {
                Util.Guard.Length(gradients.Length, _agents, "gradients", "one per agent");
                _gx.Clear(stream);
                for (int t = _horizon; t >= 0; t--)
                {
                    Launch(_k.ControlAdjoint, slots, t);
                    Launch(_k.HiddenAdjoint, units, t);
                    Launch(_k.StateAdjoint, slots, t);
                }

                int nh = _layout.Hidden;
                Launch(_k.Gradients, (long)_agents * (nh * nh + nh * _layout.Observations + nh * _layout.Controls), 0);
                _grad.CopyTo(stream, _hostGrad);
            }
        }
        catch (Exception e) when (e is not (OutOfMemoryException or ObjectDisposedException or EngineException or ArgumentException))
        {
            throw new EngineException(_backend.Name, "closed-loop step", e.Message, e);
        }

        var loss = new double[_agents];
        for (int e = 0; e < _agents; e++)
        {
            double s = 0;
            for (int b = 0; b < _trials; b++)
            {
                s += _hostLoss[e * _trials + b];
            }

            loss[e] = s;
            if (gradients is not null)
            {
                var g = gradients[e];
                Util.Guard.Length(g.Length, len, "gradient", "agent layout");
                Array.Clear(g);
                Array.Copy(_hostGrad, e * len, g, 0, _layout.UOffset);
                if (rankOne)
                {
                    _layout.FactorGradients(thetas[e], g);
                }
            }
        }

        return loss;
    }

    /// <summary>Frees the device buffers.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var b in new[] { _theta, _a, _b, _c, _x0, _targets, _weights, _x, _y, _r, _h, _u, _losses, _ga, _gh, _gu, _gx, _grad })
        {
            b?.Dispose();
        }
    }

    private DeviceBuffer<double> Upload(double[] host)
    {
        var d = new DeviceBuffer<double>(_backend, host.Length);
        d.CopyFrom(_backend.Accelerator.DefaultStream, host);
        return d;
    }

    private void Launch(Action<KernelConfig, ClosedLoopArgs> kernel, long threads, int step)
    {
        var args = new ClosedLoopArgs(_agents, _trials, _horizon, _layout.Hidden, _plant.N, _plant.P, _plant.Q, _layout.Observations,
            _layout.Length, _layout.MOffset, _layout.ZOffset, _activation, _leak, _beta, _task.ObserveError ? 1 : 0, _task.ObserveReference ? 1 : 0, step,
            _theta.View, _a.View, _b.View, _c.View, _x0.View, _targets.View, _weights.View, _x.View, _y.View, _r.View, _h.View, _u.View,
            _losses.View, _ga.View, _gh.View, _gu.View, _gx.View, _grad.View);
        kernel(_backend.Kernels.Elementwise(threads), args);
    }
}
