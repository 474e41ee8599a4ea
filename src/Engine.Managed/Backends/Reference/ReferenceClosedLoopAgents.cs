namespace Engine.Backends.Reference;

/// <summary>The closed-loop agents in float64 plain loops (<see cref="ClosedLoopReference"/>), one agent after another: the oracle.</summary>
internal sealed class ReferenceClosedLoopAgents(ClosedLoopProblem problem) : IClosedLoopAgents
{
    /// <inheritdoc />
    public ClosedLoopProblem Problem { get; } = problem.Validate();

    /// <inheritdoc />
    public void ClosedLoop(IReadOnlyList<double[]> parameters, double[][]? gradients, ReadOnlySpan<bool> active, Span<double> losses, bool rankOne)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        for (int e = 0; e < Problem.Agents; e++)
        {
            if (active[e])
            {
                losses[e] = ClosedLoop(e, parameters[e], gradients?[e], rankOne);
            }
        }
    }

    /// <inheritdoc />
    public double ClosedLoop(int agent, double[] parameters, double[]? gradient, bool rankOne, int? horizon = null)
    {
        var p = Problem;
        return ClosedLoopReference.ClosedLoopLoss(p.Plant, p.Task, p.Activation, p.Beta, p.Layout, parameters, horizon ?? p.Horizons[agent], gradient, rankOne, p.Leak);
    }

    /// <inheritdoc />
    public double OpenLoop(int agent, double[] parameters, int trials, double[] ys, double[] us, double[]? gradient, bool rankOne, int? horizon = null)
    {
        var p = Problem;
        return ClosedLoopReference.OpenLoopLoss(p.Activation, p.Layout, parameters, trials, horizon ?? p.Horizons[agent], ys, us, gradient, rankOne, p.Leak);
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
