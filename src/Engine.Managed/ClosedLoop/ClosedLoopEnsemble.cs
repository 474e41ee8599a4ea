using Engine.Backends;
using Engine.Kernels;
using Engine.Model;
using Engine.Tasks.Control;
using Engine.Training;
using Engine.Util;

namespace Engine.ClosedLoop;

/// <summary>Where an agent stands.</summary>
public enum AgentStatus
{
    /// <summary>Training normally.</summary>
    Training = 0,

    /// <summary>Its loss or gradient overflowed or turned NaN; frozen at its last finite parameters.</summary>
    Diverged = 1,
}

/// <summary>The inputs an open-loop student sees.</summary>
public enum OpenLoopInputs
{
    /// <summary>The observations of the teacher's own closed-loop trajectories (fixed).</summary>
    TeacherDriven = 0,

    /// <summary>Fresh white noise 𝒩(0, σ²) every step; the targets are the teacher's responses to it.</summary>
    WhiteNoise = 1,
}

/// <summary>
/// Many agents (seeds, horizons, learning rates) trained at once through one plant, closed loop (BPTT through the
/// joint system) or open loop (imitating a teacher); SGD or Adam, global-norm clipping, a per-agent diverged status.
/// </summary>
/// <remarks>
/// Each agent owns a flat float64 block (<see cref="ParameterLayout.Agent"/>), a gradient and Adam moments. A step has
/// the backend's closed-loop agents (<see cref="IClosedLoopAgents"/>) compute every training agent's loss and gradient
/// (in parallel over agents on the cpu backend, each agent by one thread in a fixed order, so results do not depend on the
/// thread count; in one device pass on an ILGPU backend), then updates only the trained blocks with the engine's clip
/// and Adam (<see cref="GradientRule"/>, <see cref="AdamMath"/>). A non-finite or overflowing (> 1e150) loss or gradient
/// marks the agent <see cref="AgentStatus.Diverged"/> with the reason; the other agents go on.
/// </remarks>
public sealed class ClosedLoopEnsemble : IDisposable
{
    /// <summary>Losses or gradient norms above this are treated as overflow.</summary>
    public const double OverflowLimit = 1e150;

    /// <summary>Largest trajectory buffer one agent may ask for (bytes).</summary>
    public const long MaxBufferBytes = 1L << 30;

    private readonly IEnsembleBackend? _ownedBackend;
    private readonly IClosedLoopAgents _compute;
    private readonly double[][] _grad, _m1, _m2;
    private readonly bool[] _mask;
    private double[][]? _teacher;
    private (double[] Ys, double[] Us)[]? _teacherData;
    private OpenLoopInputs _openInputs;
    private double _noiseStd;
    private int _noiseTrials;

    /// <summary>Initialises every agent from its seed; validates shapes, horizons and buffer sizes.</summary>
    /// <param name="plant">The plant.</param>
    /// <param name="task">The control task.</param>
    /// <param name="options">Shared options.</param>
    /// <param name="agents">Per-agent seed, horizon and learning rate.</param>
    /// <param name="backend">Where losses and gradients are computed (owned by the caller); null: a cpu backend on every core, owned by the ensemble.</param>
    public ClosedLoopEnsemble(Plant plant, ControlTask task, ClosedLoopOptions options, IReadOnlyList<AgentSetup> agents, IEnsembleBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(plant);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(agents);
        options.Validate();
        if (task.StateDim != plant.N)
        {
            throw new ArgumentException($"task '{task.Name}' has state dimension {task.StateDim}, the plant '{plant.Name}' has n = {plant.N}.", nameof(task));
        }

        Guard.AtLeast(agents.Count, 1, "agents");
        Layout = ParameterLayout.Agent(options.Hidden, task.AgentInputs(plant), plant.P);
        foreach (var a in agents)
        {
            CheckHorizon(a.Horizon, task.Trials, options.Hidden);
            Guard.InRange(a.LearningRate, 0, 1e12, "learning rate");
        }

        Plant = plant;
        Task = task;
        Options = options;
        Agents = agents.ToArray();
        int e = Agents.Count;
        Parameters = new double[e][];
        _grad = new double[e][];
        _m1 = new double[e][];
        _m2 = new double[e][];
        Status = new AgentStatus[e];
        DivergedReason = new string?[e];
        LastLoss = new double[e];
        for (int i = 0; i < e; i++)
        {
            Parameters[i] = AgentInit.Create(Layout, options, Agents[i].Seed);
            _grad[i] = new double[Layout.Length];
            if (options.Optimizer == ClosedLoopOptimizer.Adam)
            {
                _m1[i] = new double[Layout.Length];
                _m2[i] = new double[Layout.Length];
            }
        }

        _mask = Layout.TrainMask(options.Train);
        _ownedBackend = backend is null ? BackendFactory.Create("cpu") : null;
        Backend = backend ?? _ownedBackend!;
        _compute = Backend.CreateClosedLoopAgents(new ClosedLoopProblem(plant, task, Layout, options.Activation, options.Beta, options.Leak,
            Agents.Select(a => a.Horizon).ToArray()));
    }

    /// <summary>The backend that computes the losses and gradients (its threads run the host-side work over agents).</summary>
    public IEnsembleBackend Backend { get; }

    /// <summary>Frees the agents' workspaces or device buffers, and the backend if the ensemble made it.</summary>
    public void Dispose()
    {
        _compute.Dispose();
        _ownedBackend?.Dispose();
    }

    /// <summary>The plant.</summary>
    public Plant Plant { get; }

    /// <summary>The task.</summary>
    public ControlTask Task { get; }

    /// <summary>Shared options.</summary>
    public ClosedLoopOptions Options { get; }

    /// <summary>Per-agent seed, horizon and learning rate.</summary>
    public IReadOnlyList<AgentSetup> Agents { get; }

    /// <summary>The parameter layout.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>Current parameters per agent (<see cref="ParameterLayout"/>); callers may overwrite them before training.</summary>
    public double[][] Parameters { get; }

    /// <summary>Status per agent.</summary>
    public AgentStatus[] Status { get; }

    /// <summary>Why an agent diverged (null while it trains).</summary>
    public string?[] DivergedReason { get; }

    /// <summary>The loss each agent had before the last update (NaN once diverged).</summary>
    public double[] LastLoss { get; }

    /// <summary>Steps taken so far.</summary>
    public int StepCount { get; private set; }

    /// <summary>True once <see cref="UseOpenLoop"/> switched the ensemble to imitation.</summary>
    public bool IsOpenLoop => _teacher is not null;

    /// <summary>Checks a horizon: 1 ≤ T ≤ <see cref="AgentInit.MaxHorizon"/> and the trajectory buffers fit.</summary>
    public static void CheckHorizon(int horizon, int trials, int hidden)
    {
        if (horizon < 1 || horizon > AgentInit.MaxHorizon)
        {
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"horizon T must be in [1, {AgentInit.MaxHorizon}], got {horizon}.");
        }

        long bytes = 2L * trials * (horizon + 1) * hidden * sizeof(double);
        if (bytes > MaxBufferBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon,
                $"horizon T = {horizon} with B = {trials} trials and N = {hidden} needs {bytes / (1 << 20)} MiB of trajectory buffers per agent (limit {MaxBufferBytes >> 20} MiB).");
        }
    }

    /// <summary>Switches to open-loop training: agent e imitates <paramref name="teachers"/>[e] on the chosen inputs.</summary>
    /// <remarks>
    /// Teacher-driven inputs are the observations y_0..y_T of the teacher's closed-loop rollouts from the task's
    /// initial states (targets: its controls u_0..u_{T−1}); white noise is B' = <paramref name="noiseTrials"/> fresh
    /// sequences 𝒩(0, σ²) per step (seeded by agent seed and step), with the teacher's open-loop responses as targets.
    /// </remarks>
    public void UseOpenLoop(double[][] teachers, OpenLoopInputs inputs, double noiseStd = 1.0, int noiseTrials = 8)
    {
        ArgumentNullException.ThrowIfNull(teachers);

        Guard.Length(teachers.Length, Agents.Count, "teachers", "one parameter block per agent");
        Guard.InRange(noiseStd, 0, 1e6, "noise std");
        Guard.AtLeast(noiseTrials, 1, "noise trials");
        foreach (var t in teachers)
        {
            Guard.Length(t.Length, Layout.Length, "teacher parameters", "agent layout");
        }

        _teacher = teachers;
        _openInputs = inputs;
        _noiseStd = noiseStd;
        _noiseTrials = noiseTrials;
        if (inputs == OpenLoopInputs.TeacherDriven)
        {
            _teacherData = new (double[], double[])[teachers.Length];
            for (int e = 0; e < teachers.Length; e++)
            {
                var (_, ys, us) = AgentDynamics.Rollout(Plant, Task, Options.Activation, Layout, teachers[e], Agents[e].Horizon, Options.Leak);
                _teacherData[e] = (ys, us);
            }
        }
    }

    /// <summary>One training step for every agent still training; returns <see cref="LastLoss"/> (pre-update losses).</summary>
    public double[] Step()
    {
        int e = Agents.Count;
        if (Options.RankOne)
        {
            Array.ForEach(Parameters, Layout.SyncRankOne);
        }

        var losses = new double[e];
        if (_teacher is null)
        {
            // one batch for every training agent (a device pass on ILGPU, threads over agents on the cpu)
            var active = Status.Select(s => s != AgentStatus.Diverged).ToArray();
            _compute.ClosedLoop(Parameters, _grad, active, losses, Options.RankOne);
        }
        else
        {
            Parallelism.For(e, Backend.Threads, i =>
            {
                if (Status[i] != AgentStatus.Diverged)
                {
                    losses[i] = LossAndGradient(i, _grad[i]);
                }
            });
        }

        for (int i = 0; i < e; i++)
        {
            Update(i, losses[i]);
        }

        StepCount++;
        return LastLoss;
    }

    /// <summary>Agent <paramref name="agent"/>'s loss (closed or open loop as configured) and, if asked, its gradient.</summary>
    /// <remarks>Uses a horizon of <paramref name="horizon"/> (default: the agent's own); another horizon runs the float64 reference.</remarks>
    public double LossAndGradient(int agent, double[]? grad, int? horizon = null)
    {
        var theta = Parameters[agent];
        if (Options.RankOne)
        {
            Layout.SyncRankOne(theta);
        }

        if (_teacher is not null)
        {
            var (ys, us, trials) = OpenLoopData(agent, StepCount);
            return _compute.OpenLoop(agent, theta, trials, ys, us, grad, Options.RankOne, horizon);
        }

        return ClosedLoopLoss(agent, grad, horizon);
    }

    /// <summary>Agent <paramref name="agent"/>'s closed-loop loss (also for an open-loop student) at <paramref name="horizon"/> (default: its own) and, if asked, its gradient.</summary>
    public double ClosedLoopLoss(int agent, double[]? grad = null, int? horizon = null)
    {
        var theta = Parameters[agent];
        if (Options.RankOne)
        {
            Layout.SyncRankOne(theta);
        }

        return _compute.ClosedLoop(agent, theta, grad, Options.RankOne, horizon);
    }

    private (double[] Ys, double[] Us, int Trials) OpenLoopData(int agent, int step)
    {
        if (_openInputs == OpenLoopInputs.TeacherDriven)
        {
            var d = _teacherData![agent];
            return (d.Ys, d.Us, Task.Trials);
        }

        int T = Agents[agent].Horizon, q = Layout.Observations, bt = _noiseTrials;
        var rng = Rng.For(Agents[agent].Seed, 0xC105ED, step);
        var ys = new double[bt * (T + 1) * q];
        for (int i = 0; i < ys.Length; i++)
        {
            ys[i] = rng.NextGaussian() * _noiseStd;
        }

        return (ys, AgentDynamics.OpenLoopOutputs(Options.Activation, Layout, _teacher![agent], bt, T, ys, Options.Leak), bt);
    }

    /// <summary>Checks agent i's loss and gradient (in its gradient buffer) and applies the clipped SGD or Adam update.</summary>
    private void Update(int i, double loss)
    {
        if (Status[i] == AgentStatus.Diverged)
        {
            LastLoss[i] = double.NaN;
            return;
        }

        var g = _grad[i];
        double norm2 = 0;
        for (int k = 0; k < g.Length; k++)
        {
            if (_mask[k])
            {
                norm2 += g[k] * g[k];
            }
        }

        double norm = Math.Sqrt(norm2);
        if (GradientRule.Diverged(loss, norm, OverflowLimit))
        {
            Status[i] = AgentStatus.Diverged;
            DivergedReason[i] = $"step {StepCount}: loss {loss:G4}, gradient norm {norm:G4} (horizon T = {Agents[i].Horizon}, lr = {Agents[i].LearningRate:G3}); the closed loop overflowed";
            LastLoss[i] = double.NaN;
            return;
        }

        LastLoss[i] = loss;
        double scale = GradientRule.ClipScale(norm, Options.Clip);
        var theta = Parameters[i];
        double lr = Agents[i].LearningRate;
        if (Options.Optimizer == ClosedLoopOptimizer.Sgd)
        {
            for (int k = 0; k < g.Length; k++)
            {
                if (_mask[k])
                {
                    theta[k] -= lr * scale * g[k];
                }
            }
        }
        else
        {
            var c = AdamMath.Coefficients64(lr, StepCount + 1, scale);
            var m1 = _m1[i];
            var m2 = _m2[i];
            for (int k = 0; k < g.Length; k++)
            {
                if (_mask[k])
                {
                    AdamMath.Update(ref theta[k], ref m1[k], ref m2[k], g[k], c);
                }
            }
        }

        if (Options.RankOne)
        {
            Layout.SyncRankOne(theta);
        }
    }
}
