using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Util;

namespace Engine.Training.Representation;

/// <summary>
/// Recorded hidden states of guide (or earlier) networks on the probe trials, [G][P][T][N_g]: what the representational
/// losses compare a training network with.
/// </summary>
/// <remarks>
/// The probe trials are <see cref="SharedTrials.For"/> with the probe seed: the trials that
/// <c>engine run RUN --trials P --seed S</c> records, so a <c>states.npy</c> written by <c>engine run</c> (or the same
/// trials fed to another architecture) is a guide as it stands.
/// </remarks>
public sealed class GuideStates
{
    /// <summary>Wraps states [G][P][T][N] from <paramref name="source"/>.</summary>
    public GuideStates(float[] states, int networks, int trials, int steps, int hidden, string source)
    {
        Guard.Length(states.Length, (long)networks * trials * steps * hidden, nameof(states), $"[G={networks}][P={trials}][T={steps}][N={hidden}]");
        States = states;
        Networks = networks;
        Trials = trials;
        Steps = steps;
        Hidden = hidden;
        Source = source;
    }

    /// <summary>States [G][P][T][N].</summary>
    public float[] States { get; }

    /// <summary>G, guide networks.</summary>
    public int Networks { get; }

    /// <summary>P, probe trials.</summary>
    public int Trials { get; }

    /// <summary>T, steps.</summary>
    public int Steps { get; }

    /// <summary>N_g, the guide's width.</summary>
    public int Hidden { get; }

    /// <summary>Where they came from (a run directory or a file), for errors and summaries.</summary>
    public string Source { get; }

    /// <summary>One guide network's states [P][T][N].</summary>
    public ReadOnlySpan<float> Of(int network) => States.AsSpan(network * Trials * Steps * Hidden, Trials * Steps * Hidden);

    /// <summary>
    /// Records the states of a run's networks (its final parameters, or its initial ones when <paramref name="untrained"/>)
    /// on the probe trials of <paramref name="task"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The run was trained on another task (or other task settings) than <paramref name="task"/>.</exception>
    public static GuideStates FromRun(IEnsembleBackend backend, TrainingState run, string source, ITrialTask task, int trials, int steps, long seed, bool untrained = false)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(task);
        string theirs = Describe(run.TaskName, run.TaskSettings), ours = Describe(task.Name, task.Settings);
        if (theirs != ours)
        {
            throw new ArgumentException($"{source}: the guide was trained on task {theirs}; this run trains {ours}. A guide must see the same trials.");
        }

        var ensemble = untrained ? new Ensemble(run.Ensemble.Spec, run.Ensemble.Seeds, run.InitialParameters.ToArray()) : run.Ensemble;
        var batch = SharedTrials.For(ensemble, task, trials, steps, seed);
        var (_, states) = ensemble.Run(backend, batch);
        var spec = ensemble.Spec;
        return new GuideStates(states, spec.Networks, trials, steps, spec.Hidden, untrained ? source + " (untrained)" : source);
    }

    /// <summary>Reads states [P][T][N] or [G][P][T][N] (float32 or float64) from a <c>.npy</c> file and checks P and T.</summary>
    /// <exception cref="ArgumentException">Another rank, trial count or length than the run's probe (both named).</exception>
    public static GuideStates FromNpy(string path, int trials, int steps)
    {
        var array = IO.Npy.Read(path);
        var shape = array.Shape;
        if (shape.Count is not (3 or 4))
        {
            throw new ArgumentException($"{path}: guide states must be [P][T][N] or [G][P][T][N]; got shape [{string.Join(", ", shape)}].");
        }

        int g = shape.Count == 4 ? shape[0] : 1, p = shape[^3], t = shape[^2], n = shape[^1];
        if (p != trials || t != steps)
        {
            throw new ArgumentException(
                $"{path}: guide states have {p} trials of {t} steps; this run's probe is {trials} trials of {steps} steps (record them with engine run GUIDE --trials {trials} --steps {steps}).");
        }

        var data = array.ToFloat32();
        foreach (float v in data)
        {
            if (!float.IsFinite(v))
            {
                throw new ArgumentException($"{path}: guide states hold non-finite values.");
            }
        }

        return new GuideStates(data, g, p, t, n, path);
    }

    /// <summary>
    /// The networks of a run that may serve as targets: not diverged (by status) and with finite states on the probe
    /// trials; the others are left out (earlier runs) or refused (a guide that was asked for).
    /// </summary>
    public static bool[] Usable(TrainingState run, GuideStates states)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(states);
        return Enumerable.Range(0, states.Networks).Select(g =>
        {
            if (run.Networks[g].Status == NetworkStatus.Diverged)
            {
                return false;
            }

            foreach (float v in states.Of(g))
            {
                if (!float.IsFinite(v))
                {
                    return false;
                }
            }

            return true;
        }).ToArray();
    }

    /// <summary>The same states restricted to the networks marked in <paramref name="keep"/>.</summary>
    public GuideStates Select(bool[] keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var chosen = Enumerable.Range(0, Networks).Where(g => keep[g]).ToArray();
        var data = chosen.SelectMany(g => Of(g).ToArray()).ToArray();
        return new GuideStates(data, chosen.Length, Trials, Steps, Hidden, Source);
    }

    private static string Describe(string name, IReadOnlyDictionary<string, string> settings)
        => settings.Count == 0 ? $"'{name}'" : $"'{name}' ({string.Join(", ", settings.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"))})";
}
