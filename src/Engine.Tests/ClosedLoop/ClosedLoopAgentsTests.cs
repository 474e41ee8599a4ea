using Engine.Backends;
using Engine.Backends.Ilgpu;
using Engine.Backends.Reference;
using Engine.ClosedLoop;
using Engine.Model;
using Engine.Tasks.Control;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.ClosedLoop;

/// <summary>Every backend's closed-loop agents against the float64 oracle, written once (tiny shapes: the ILGPU CPU accelerator is a simulator).</summary>
[TestFixtureSource(typeof(BackendCases), nameof(BackendCases.All))]
public sealed class ClosedLoopAgentsTests(string backendName)
{
    private IEnsembleBackend _backend = null!;

    [OneTimeSetUp]
    public void Setup() => _backend = BackendCases.CreateOrIgnore(backendName);

    [OneTimeTearDown]
    public void TearDown() => _backend?.Dispose();

    public static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData("regulate", ActivationKind.Identity, 1.0, 0.0, false).SetArgDisplayNames("double-integrator", "regulate", "linear");
        yield return new TestCaseData("tracking-reference", ActivationKind.Tanh, 0.3, 0.1, false).SetArgDisplayNames("point-mass", "tracking+reference", "tanh leak 0.3");
        yield return new TestCaseData("tracking-error", ActivationKind.Identity, 0.5, 0.05, true).SetArgDisplayNames("integrator-3", "tracking error", "rank-one leak 0.5");
    }

    internal static (Plant Plant, ControlTask Task) Problem(string kind) => kind switch
    {
        "regulate" => (Plant.DoubleIntegrator(), ControlTask.Regulate(Plant.DoubleIntegrator())),
        "tracking-reference" => (Plant.PointMass2D(0.1),
            new TrackingTask(Plant.PointMass2D(0.1), [0.2, 0.5, 0.9], trials: 3, amplitude: 1.2, seed: 4, channels: [0, 1, 1], rampSteps: 3, observeReference: true)),
        _ => (Plant.Integrator(3), new TrackingTask(Plant.Integrator(3), [0.3, 0.7], trials: 2, seed: 5)),
    };

    [TestCaseSource(nameof(Cases))]
    public void DeviceLossesAndGradients_MatchTheReference(string kind, ActivationKind act, double leak, double beta, bool rankOne)
    {
        const int T = 7, hidden = 6, agents = 3;
        var (plant, task) = Problem(kind);
        var opt = new ClosedLoopOptions { Hidden = hidden, Activation = act, InitGain = 0.8, Leak = leak, Beta = beta, RankOne = rankOne, Train = rankOne ? TrainedWeights.Factors : TrainedWeights.W };
        var layout = ParameterLayout.Agent(hidden, task.AgentInputs(plant), plant.P);
        var thetas = Enumerable.Range(1, agents).Select(s => AgentInit.Create(layout, opt, s)).ToArray();
        using var device = _backend.CreateClosedLoopAgents(new ClosedLoopProblem(plant, task, layout, act, beta, leak, [.. Enumerable.Repeat(T, agents)]));
        var grads = Enumerable.Range(0, agents).Select(_ => Enumerable.Repeat(double.NaN, layout.Length).ToArray()).ToArray();
        bool[] all = [.. Enumerable.Repeat(true, agents)];
        var losses = new double[agents];
        device.ClosedLoop(thetas, grads, all, losses, rankOne);
        for (int e = 0; e < agents; e++)
        {
            var g0 = new double[layout.Length];
            double l0 = ClosedLoopReference.ClosedLoopLoss(plant, task, act, beta, layout, thetas[e], T, g0, rankOne, leak);
            Assert.That(losses[e], Is.EqualTo(l0).Within(1e-12 * Math.Max(1, Math.Abs(l0))), $"agent {e}: loss");
            double scale = g0.Max(Math.Abs);
            for (int k = 0; k < layout.Length; k++)
            {
                Assert.That(Math.Abs(grads[e][k] - g0[k]), Is.LessThanOrEqualTo(1e-11 * Math.Max(1, scale)), $"agent {e}: gradient[{k}] {grads[e][k]:R} vs {g0[k]:R}");
            }
        }

        // forward only gives the same losses
        var forward = new double[agents];
        device.ClosedLoop(thetas, null, all, forward, rankOne);
        Assert.That(forward, Is.EqualTo(losses).Within(1e-12 * Math.Max(1, losses.Max())));
    }

    [Test]
    public void Ensemble_TrainsLikeTheCpuBackend()
    {
        var plant = Plant.PointMass2D(0.1);
        var task = new TrackingTask(plant, [0.2, 0.6], trials: 2, seed: 1, channels: [0, 1], observeReference: true);
        var opt = new ClosedLoopOptions { Hidden = 5, Leak = 0.5, Train = TrainedWeights.W | TrainedWeights.Z, Optimizer = ClosedLoopOptimizer.Adam, Clip = 1 };
        var setups = new[] { new AgentSetup(1, 6, 1e-2), new AgentSetup(2, 6, 3e-2) };
        var cpu = new ClosedLoopEnsemble(plant, task, opt, setups, TestBackends.CpuThreads(1));
        using var gpu = new ClosedLoopEnsemble(plant, task, opt, setups, _backend);
        Assert.That(gpu.Backend, Is.SameAs(_backend));
        for (int s = 0; s < 5; s++)
        {
            var lc = cpu.Step();
            var lg = gpu.Step();
            for (int i = 0; i < 2; i++)
            {
                Assert.That(lg[i], Is.EqualTo(lc[i]).Within(1e-10 * Math.Max(1, lc[i])), $"step {s}, agent {i}: loss");
            }
        }

        for (int i = 0; i < 2; i++)
        {
            for (int k = 0; k < cpu.Layout.Length; k++)
            {
                Assert.That(gpu.Parameters[i][k], Is.EqualTo(cpu.Parameters[i][k]).Within(1e-9), $"agent {i}, parameter {k}");
            }
        }
    }
}

/// <summary>What only the ILGPU closed-loop path has: one horizon for all agents, and the open loop on the host, on every ILGPU device present.</summary>
[TestFixtureSource(typeof(BackendCases), nameof(BackendCases.IlgpuDevices))]
public sealed class IlgpuClosedLoopTests(IlgpuDevice device)
{
    [Test]
    public void RejectsMixedHorizons_AndRunsTheOpenLoopOnTheHost()
    {
        if (!IlgpuBackend.IsAvailable(device))
        {
            Assert.Ignore($"{device} not present here");
        }

        using var backend = IlgpuBackend.Create(device);
        var plant = Plant.DoubleIntegrator();
        var task = ControlTask.Regulate(plant);
        var opt = new ClosedLoopOptions { Hidden = 4 };
        var ex = Assert.Throws<ArgumentException>(() => new ClosedLoopEnsemble(plant, task, opt, [new AgentSetup(0, 5, 0.01), new AgentSetup(1, 9, 0.01)], backend));
        Assert.That(ex!.Message, Does.Contain("one horizon").And.Contain("5, 9"));
        using var ens = new ClosedLoopEnsemble(plant, task, opt, [new AgentSetup(0, 5, 0.01)], backend);
        using var cpu = new ClosedLoopEnsemble(plant, task, opt, [new AgentSetup(0, 5, 0.01)], TestBackends.CpuThreads(1));
        ens.UseOpenLoop([ens.Parameters[0]], OpenLoopInputs.TeacherDriven);
        cpu.UseOpenLoop([cpu.Parameters[0]], OpenLoopInputs.TeacherDriven);
        Assert.That(ens.Step(), Is.EqualTo(cpu.Step()), "the open loop runs on the host's cpu path");
    }
}
