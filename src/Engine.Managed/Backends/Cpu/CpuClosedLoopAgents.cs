using Engine.Backends.Reference;
using Engine.Util;

namespace Engine.Backends.Cpu;

/// <summary>The fast CPU closed-loop agents: one float64 SIMD workspace per agent (<see cref="AgentWorkspace"/>), threads over agents.</summary>
/// <remarks>
/// Each agent is computed by one thread in a fixed order, so results do not depend on the thread count. A query at a
/// horizon other than the agent's own runs the float64 reference.
/// </remarks>
internal sealed class CpuClosedLoopAgents : IClosedLoopAgents
{
    private readonly AgentWorkspace[] _work;
    private readonly int _threads;

    public CpuClosedLoopAgents(ClosedLoopProblem problem, int threads)
    {
        Problem = problem.Validate();
        _threads = threads;
        _work = problem.Horizons.Select(t => new AgentWorkspace(problem.Plant, problem.Task, problem.Layout, problem.Activation, problem.Beta, t, problem.Leak)).ToArray();
    }

    /// <inheritdoc />
    public ClosedLoopProblem Problem { get; }

    /// <inheritdoc />
    public void ClosedLoop(IReadOnlyList<double[]> parameters, double[][]? gradients, ReadOnlySpan<bool> active, Span<double> losses, bool rankOne)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var on = active.ToArray();
        var result = new double[Problem.Agents];
        Parallelism.For(Problem.Agents, _threads, e =>
        {
            if (on[e])
            {
                result[e] = _work[e].ClosedLoop(parameters[e], gradients?[e], rankOne);
            }
        });
        for (int e = 0; e < result.Length; e++)
        {
            if (on[e])
            {
                losses[e] = result[e];
            }
        }
    }

    /// <inheritdoc />
    public double ClosedLoop(int agent, double[] parameters, double[]? gradient, bool rankOne, int? horizon = null)
    {
        var p = Problem;
        return horizon is null || horizon == p.Horizons[agent]
            ? _work[agent].ClosedLoop(parameters, gradient, rankOne)
            : ClosedLoopReference.ClosedLoopLoss(p.Plant, p.Task, p.Activation, p.Beta, p.Layout, parameters, horizon.Value, gradient, rankOne, p.Leak);
    }

    /// <inheritdoc />
    public double OpenLoop(int agent, double[] parameters, int trials, double[] ys, double[] us, double[]? gradient, bool rankOne, int? horizon = null)
    {
        var p = Problem;
        return horizon is null || horizon == p.Horizons[agent]
            ? _work[agent].OpenLoop(parameters, trials, ys, us, gradient, rankOne)
            : ClosedLoopReference.OpenLoopLoss(p.Activation, p.Layout, parameters, trials, horizon.Value, ys, us, gradient, rankOne, p.Leak);
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
