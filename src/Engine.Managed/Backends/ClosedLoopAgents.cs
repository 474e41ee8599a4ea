using Engine.Model;
using Engine.Tasks.Control;
using Engine.Util;

namespace Engine.Backends;

/// <summary>What a closed-loop ensemble's agents are: the plant, the task, their layout and cell, and each agent's horizon.</summary>
/// <param name="Plant">x_{t+1} = A x_t + B u_t, y = C x.</param>
/// <param name="Task">Initial states, state weights, references and what the agents observe.</param>
/// <param name="Layout">The agents' parameter layout (<see cref="ParameterLayout.Agent"/>).</param>
/// <param name="Activation">φ of the agents.</param>
/// <param name="Beta">β, the control cost.</param>
/// <param name="Leak">α, the agents' leak.</param>
/// <param name="Horizons">T per agent.</param>
public sealed record ClosedLoopProblem(Plant Plant, ControlTask Task, ParameterLayout Layout, ActivationKind Activation, double Beta, double Leak, IReadOnlyList<int> Horizons)
{
    /// <summary>Agents.</summary>
    public int Agents => Horizons.Count;

    /// <summary>Throws an error naming the first inconsistency (layout, task inputs, horizons, activation, leak, β).</summary>
    public ClosedLoopProblem Validate()
    {
        ArgumentNullException.ThrowIfNull(Plant);
        ArgumentNullException.ThrowIfNull(Task);
        ArgumentNullException.ThrowIfNull(Horizons);
        Layout.CheckAgent("layout");
        AgentDynamics.CheckInputs(Plant, Task, Layout);
        Guard.AtLeast(Horizons.Count, 1, "agents");
        foreach (int t in Horizons)
        {
            Guard.AtLeast(t, 1, "horizon");
        }

        if (!Enum.IsDefined(Activation))
        {
            throw new ArgumentOutOfRangeException("activation", Activation, $"unknown activation {Activation}; expected Identity, Tanh or Relu.");
        }

        if (!(Leak > 0 && Leak <= 1))
        {
            throw new ArgumentOutOfRangeException("leak", Leak, $"leak α must be in (0, 1], got {Leak}.");
        }

        Guard.InRange(Beta, 0, 1e12, "beta");
        return this;
    }
}

/// <summary>
/// Closed-loop agents' losses and gradients on one device (<see cref="IEnsembleBackend.CreateClosedLoopAgents"/>): through
/// the plant (closed loop, BPTT over the joint system) or against a teacher's controls (open loop, imitation).
/// </summary>
/// <remarks>
/// Three implementations side by side: the float64 reference (plain loops, one agent after another: the oracle), the
/// fast CPU path (float64 SIMD workspaces, threads over agents) and the ILGPU kernels (every agent's closed-loop pass in
/// one batch of launches; one horizon for all agents; single-agent and open-loop queries run on the host's CPU path).
/// Gradients overwrite the destination; with <c>rankOne</c> the W gradient is also mapped to the factors u, v
/// (<see cref="ParameterLayout.FactorGradients"/>). A query at a horizon other than the agent's own runs the float64
/// reference.
/// </remarks>
public interface IClosedLoopAgents : IDisposable
{
    /// <summary>The problem these agents solve.</summary>
    ClosedLoopProblem Problem { get; }

    /// <summary>
    /// The closed-loop loss of every agent with <paramref name="active"/>[e] into <paramref name="losses"/>[e] (inactive
    /// agents are left alone), and, when <paramref name="gradients"/> is not null, ∂L/∂θ into <paramref name="gradients"/>[e].
    /// </summary>
    void ClosedLoop(IReadOnlyList<double[]> parameters, double[][]? gradients, ReadOnlySpan<bool> active, Span<double> losses, bool rankOne);

    /// <summary>One agent's closed-loop loss at <paramref name="horizon"/> (default: its own) and, if asked, its gradient.</summary>
    double ClosedLoop(int agent, double[] parameters, double[]? gradient, bool rankOne, int? horizon = null);

    /// <summary>
    /// One agent's open-loop loss (1/(B T)) Σ ‖û_t − u_t‖² on observations <paramref name="ys"/> [B][T+1][q] against controls
    /// <paramref name="us"/> [B][T][p] at <paramref name="horizon"/> (default: its own), and, if asked, its gradient.
    /// </summary>
    double OpenLoop(int agent, double[] parameters, int trials, double[] ys, double[] us, double[]? gradient, bool rankOne, int? horizon = null);
}
