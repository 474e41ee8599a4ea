namespace Engine.Tasks.Control;

/// <summary>What the closed loop must do: initial states, a (possibly moving) target, state weights.</summary>
/// <remarks>
/// Shapes: <see cref="InitialStates"/> is B×n; targets are B×(T+1)×n (x*_t for t = 0..T); <see cref="StateWeights"/>
/// is n (the diagonal of the loss weight). With <see cref="ObserveError"/> the agent sees y_t = C (x_t − x*_t)
/// (tracking error), otherwise y_t = C x_t. Regulation to x* = 0 is the same either way. With
/// <see cref="ObserveReference"/> the agent also sees the reference C x*_t as separate inputs:
/// y_t = [C (x_t − o_t); C x*_t], 2q inputs (Ger &amp; Barak's tracking agent sees position and reference).
/// </remarks>
public class ControlTask
{
    /// <summary>A task; <paramref name="initialStates"/> is B×n.</summary>
    public ControlTask(string name, int stateDim, double[] initialStates, double[]? stateWeights = null, bool observeError = false,
        bool observeReference = false)
    {
        ArgumentNullException.ThrowIfNull(initialStates);
        Util.Guard.AtLeast(stateDim, 1, "state dimension");
        if (initialStates.Length == 0 || initialStates.Length % stateDim != 0)
        {
            throw new ArgumentException($"initial states have {initialStates.Length} values, expected B×n with n = {stateDim}.", nameof(initialStates));
        }

        Name = name;
        StateDim = stateDim;
        InitialStates = initialStates;
        StateWeights = stateWeights ?? Enumerable.Repeat(1.0, stateDim).ToArray();
        Util.Guard.Length(StateWeights.Length, stateDim, "state weights", "n");
        ObserveError = observeError;
        ObserveReference = observeReference;
    }

    /// <summary>Task name.</summary>
    public string Name { get; }

    /// <summary>n.</summary>
    public int StateDim { get; }

    /// <summary>B, the trajectories per loss evaluation.</summary>
    public int Trials => InitialStates.Length / StateDim;

    /// <summary>x_0 per trial, B×n.</summary>
    public double[] InitialStates { get; }

    /// <summary>diag of the state-loss weight (n).</summary>
    public double[] StateWeights { get; }

    /// <summary>Whether the agent observes the tracking error C (x − x*) rather than C x.</summary>
    public bool ObserveError { get; }

    /// <summary>Whether the agent also sees the reference C x*_t (its inputs are then [C (x − o); C x*], 2q values).</summary>
    public bool ObserveReference { get; }

    /// <summary>The agent's input count for <paramref name="plant"/>: q, or 2q with <see cref="ObserveReference"/>.</summary>
    public int AgentInputs(Plant plant)
    {
        ArgumentNullException.ThrowIfNull(plant);
        return ObserveReference ? 2 * plant.Q : plant.Q;
    }

    /// <summary>
    /// The agent's inputs at step t of trial b into <paramref name="y"/> (length <see cref="AgentInputs"/>): C (x_t − o_t),
    /// then C x*_t with <see cref="ObserveReference"/>; <paramref name="x"/> is x_t (n), <paramref name="target"/> x*_t (n).
    /// </summary>
    public void Observe(Plant plant, ReadOnlySpan<double> x, ReadOnlySpan<double> target, Span<double> y)
    {
        ArgumentNullException.ThrowIfNull(plant);
        int n = plant.N, q = plant.Q;
        for (int k = 0; k < q; k++)
        {
            double s = 0, r = 0;
            for (int i = 0; i < n; i++)
            {
                double c = plant.C[k * n + i];
                s += c * (x[i] - (ObserveError ? target[i] : 0));
                r += c * target[i];
            }

            y[k] = s;
            if (ObserveReference)
            {
                y[q + k] = r;
            }
        }
    }

    /// <summary>Fills the targets x*_t (B×(T+1)×n); the base task regulates to 0.</summary>
    public virtual void FillTargets(int horizon, double[] dst) => Array.Clear(dst);

    /// <summary>Regulation to the origin from the unit basis states e_1 … e_n (B = n; their second moment is I).</summary>
    public static ControlTask Regulate(Plant plant)
    {
        ArgumentNullException.ThrowIfNull(plant);
        var x0 = new double[plant.N * plant.N];
        for (int i = 0; i < plant.N; i++)
        {
            x0[i * plant.N + i] = 1;
        }

        return new ControlTask("regulate", plant.N, x0);
    }
}
