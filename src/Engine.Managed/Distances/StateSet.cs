using System.Globalization;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Util;

namespace Engine.Distances;

/// <summary>Recorded hidden states of several networks on the same probe trials: one samples × width matrix per network.</summary>
/// <remarks>
/// Network e holds <c>States[e]</c>, row-major [B·T][N_e] with sample s = b·T + t (trial b, step t), so the trial
/// structure stays available for delay embeddings (DSA). Every network has the same number of samples B·T; widths may
/// differ (representation metrics zero-pad them). Construction validates once: at least one network, equal sample
/// counts, positive widths, finite values. <see cref="Ids"/> name the networks in files (their index in the run).
/// </remarks>
public sealed class StateSet
{
    /// <summary>Wraps per-network state matrices (not copied) after validating them.</summary>
    /// <param name="states">[E] arrays, each [trials·steps][widths[e]].</param>
    /// <param name="trials">B, trials per network.</param>
    /// <param name="steps">T, steps per trial.</param>
    /// <param name="widths">N_e per network.</param>
    /// <param name="ids">Network ids for files (default 0..E−1).</param>
    /// <exception cref="ArgumentException">Empty set, mismatched sample counts or widths, non-finite states.</exception>
    public StateSet(IReadOnlyList<float[]> states, int trials, int steps, IReadOnlyList<int> widths, IReadOnlyList<int>? ids = null)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(widths);
        if (states.Count == 0)
        {
            throw new ArgumentException("The ensemble is empty: distances need at least one network's states.", nameof(states));
        }

        Guard.AtLeast(trials, 1, nameof(trials));
        Guard.AtLeast(steps, 1, nameof(steps));
        Guard.Length(widths.Count, states.Count, nameof(widths), "[E]");
        long samples = (long)trials * steps;
        for (int e = 0; e < states.Count; e++)
        {
            Guard.AtLeast(widths[e], 1, $"widths[{e}]");
            if (states[e].Length != samples * widths[e])
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Network {e} has {states[e].Length} state values = {(double)states[e].Length / widths[e]:G6} samples of width {widths[e]}; every network needs {samples} samples ({trials} trials × {steps} steps)."),
                    nameof(states));
            }

            for (int k = 0; k < states[e].Length; k++)
            {
                if (!float.IsFinite(states[e][k]))
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"Network {(ids is null ? e : ids[e])} has a non-finite state ({states[e][k]}) at sample {k / widths[e]}, unit {k % widths[e]}: distances need finite states (did the network diverge?)."),
                        nameof(states));
                }
            }
        }

        if (ids is not null)
        {
            Guard.Length(ids.Count, states.Count, nameof(ids), "[E]");
        }

        States = states;
        Trials = trials;
        Steps = steps;
        Widths = widths;
        Ids = ids ?? Enumerable.Range(0, states.Count).ToArray();
    }

    /// <summary>E, networks.</summary>
    public int Networks => States.Count;

    /// <summary>B, trials.</summary>
    public int Trials { get; }

    /// <summary>T, steps per trial.</summary>
    public int Steps { get; }

    /// <summary>B·T, samples per network.</summary>
    public int Samples => Trials * Steps;

    /// <summary>N_e per network.</summary>
    public IReadOnlyList<int> Widths { get; }

    /// <summary>States [E] of [B·T][N_e].</summary>
    public IReadOnlyList<float[]> States { get; }

    /// <summary>Network ids (index in the run).</summary>
    public IReadOnlyList<int> Ids { get; }

    /// <summary>The widest network.</summary>
    public int MaxWidth => Widths.Max();

    /// <summary>Splits an ensemble's states [E][B][T][N] (as returned by <see cref="EnsembleRun.Run"/>) into a state set.</summary>
    public static StateSet FromEnsembleStates(float[] states, int networks, int trials, int steps, int hidden, IReadOnlyList<int>? select = null)
    {
        ArgumentNullException.ThrowIfNull(states);
        Guard.Length(states.Length, (long)networks * trials * steps * hidden, nameof(states), $"[E={networks}][B={trials}][T={steps}][N={hidden}]");
        var chosen = select ?? Enumerable.Range(0, networks).ToArray();
        int per = trials * steps * hidden;
        var list = chosen.Select(e => states.AsSpan(e * per, per).ToArray()).ToArray();
        return new StateSet(list, trials, steps, Enumerable.Repeat(hidden, list.Length).ToArray(), chosen);
    }

    /// <summary>Runs the selected networks of an ensemble on the same fresh trials (<see cref="Analysis.Evaluation.SharedTrials"/>) and keeps their states.</summary>
    /// <param name="backend">Backend that runs the forward pass.</param>
    /// <param name="ensemble">The ensemble.</param>
    /// <param name="task">The task that generates the probe trials (in distribution, or its OOD variant).</param>
    /// <param name="trials">B, probe trials.</param>
    /// <param name="steps">T, steps per trial.</param>
    /// <param name="seed">Seed of the probe trials (every network sees the same ones).</param>
    /// <param name="select">Networks to keep (default all).</param>
    public static StateSet Record(IEnsembleBackend backend, Ensemble ensemble, ITrialTask task, int trials, int steps, long seed, IReadOnlyList<int>? select = null)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        var batch = Analysis.Evaluation.SharedTrials(ensemble, task, trials, steps, seed);
        var (_, states) = ensemble.Run(backend, batch);
        return FromEnsembleStates(states, ensemble.Spec.Networks, trials, steps, ensemble.Spec.Hidden, select);
    }
}
