using BenchmarkDotNet.Attributes;
using Engine.Backends;
using Engine.ClosedLoop;
using Engine.Tasks.Control;

namespace Engine.Bench;

/// <summary>
/// Closed-loop training of 64 agents (N = 100, T = 50, double integrator, B = 2 initial states, SGD, W trained) for
/// <see cref="Steps"/> steps: all agents at once on the fast CPU path (threads over agents) against the same agents
/// trained one after another on one thread, and against the float64 reference path (one after another).
/// </summary>
/// <remarks>
/// FLOP per agent and step ≈ 6 N² B T (forward W h, backward Wᵀ g_a, and the Σ g_a hᵀ GEMM) = 6.0 MFLOP, so one
/// operation = 64 · Steps · 6.0 MFLOP (384 GFLOP at Steps = 1000). Run with
/// <c>dotnet run -c Release --project bench/Engine.Bench -- --filter *ClosedLoop* --job Dry</c> for a single pass.
/// </remarks>
[MemoryDiagnoser]
public class ClosedLoopBenchmarks
{
    private const int Agents = 64, Hidden = 100, Horizon = 50;
    private readonly Plant _plant = Plant.DoubleIntegrator();
    private ControlTask _task = null!;
    private ClosedLoopOptions _options = null!;
    private AgentSetup[] _agents = null!;

    /// <summary>Training steps per operation.</summary>
    [Params(1000)]
    public int Steps { get; set; }

    /// <summary>Builds the task and the agents' seeds.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _task = ControlTask.Regulate(_plant);
        _options = new ClosedLoopOptions { Hidden = Hidden, Clip = 1, InitGain = 0.3 };
        _agents = Enumerable.Range(0, Agents).Select(i => new AgentSetup(i, Horizon, 0.02)).ToArray();
    }

    /// <summary>All 64 agents at once, threads over agents.</summary>
    [Benchmark]
    public double Batched() => TrainBatched(_plant, _task, _options, _agents, Steps, 0);

    /// <summary>The same agents one after another, one thread, fast path.</summary>
    [Benchmark(Baseline = true)]
    public double OneAfterAnother() => TrainSequential(_plant, _task, _options, _agents, Steps, 1);

    /// <summary>Trains all agents at once; returns the summed final loss (so the work is not elided).</summary>
    public static double TrainBatched(Plant plant, ControlTask task, ClosedLoopOptions options, AgentSetup[] agents, int steps, int threads)
    {
        using var backend = BackendFactory.Create("cpu", threads);
        using var ens = new ClosedLoopEnsemble(plant, task, options, agents, backend);
        for (int s = 0; s < steps; s++)
        {
            ens.Step();
        }

        return ens.LastLoss.Sum();
    }

    /// <summary>Trains each agent alone for all its steps, one after another, on a cpu backend of <paramref name="threads"/> threads.</summary>
    public static double TrainSequential(Plant plant, ControlTask task, ClosedLoopOptions options, AgentSetup[] agents, int steps, int threads)
    {
        double sum = 0;
        using var backend = BackendFactory.Create("cpu", threads);
        foreach (var a in agents)
        {
            using var ens = new ClosedLoopEnsemble(plant, task, options, [a], backend);
            for (int s = 0; s < steps; s++)
            {
                ens.Step();
            }

            sum += ens.LastLoss[0];
        }

        return sum;
    }
}
