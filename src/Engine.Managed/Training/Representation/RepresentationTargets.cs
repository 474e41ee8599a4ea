using Engine.Backends;
using Engine.Tasks;

namespace Engine.Training.Representation;

/// <summary>What the representational terms of a run compare with: the guide's states and earlier runs' states on the probe trials.</summary>
/// <param name="Guide">The guide's states (required when any guidance λ is above 0).</param>
/// <param name="Earlier">Earlier runs' states, diversity targets besides the ensemble's own earlier networks (may be empty).</param>
public sealed record RepresentationTargets(GuideStates? Guide, IReadOnlyList<GuideStates> Earlier)
{
    /// <summary>The file a run keeps its guide's states in (so a resumed run follows the same guide).</summary>
    public const string GuideFile = "guide_states.npy";

    /// <summary>No guide, no earlier runs.</summary>
    public static RepresentationTargets None { get; } = new(null, []);

    /// <summary>The file a run keeps earlier run <paramref name="k"/>'s states in.</summary>
    public static string EarlierFile(int k) => $"earlier_states_{k}.npy";

    /// <summary>
    /// Records the targets a run's options name: the guide (<paramref name="guide"/>: a run directory, its checkpoint file, or
    /// a states <c>.npy</c>) and the earlier runs, on the probe trials of <paramref name="task"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A path that does not exist, a guide or earlier run of another task, or states on other trials (each named).</exception>
    public static RepresentationTargets Record(IEnsembleBackend backend, ITrialTask task, TrainingOptions options, int steps, string? guide, bool untrained)
    {
        ArgumentNullException.ThrowIfNull(options);
        int p = options.RepresentationTrials;
        long seed = options.RepresentationSeed;
        GuideStates? g = null;
        if (guide is not null)
        {
            if (guide.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                if (!File.Exists(guide))
                {
                    throw new ArgumentException($"guide: {guide} does not exist.", nameof(guide));
                }

                if (untrained)
                {
                    throw new ArgumentException($"guide: {guide} is a states file; --guide-untrained needs a run directory.", nameof(untrained));
                }

                g = GuideStates.FromNpy(guide, p, steps);
            }
            else
            {
                var run = LoadRun(guide, "guide");
                g = GuideStates.FromRun(backend, run, guide, task, p, steps, seed, untrained);
                var usable = GuideStates.Usable(run, g);
                var used = options.GuideNetwork >= 0 ? [options.GuideNetwork] : Enumerable.Range(0, g.Networks);
                foreach (int k in used.Where(k => k < usable.Length && !usable[k]))
                {
                    throw new ArgumentException($"guide: network {k} of {guide} diverged or has non-finite states on the probe trials; pick another with --guide-network.", nameof(guide));
                }
            }
        }

        var earlier = new List<GuideStates>();
        foreach (string path in options.DiversityAgainst ?? [])
        {
            var run = LoadRun(path, "diversity_against");
            var states = GuideStates.FromRun(backend, run, path, task, p, steps, seed);
            var usable = GuideStates.Usable(run, states);
            if (!usable.Any(u => u))
            {
                throw new ArgumentException($"diversity_against: every network of {path} diverged or has non-finite states.", "diversity_against");
            }

            earlier.Add(usable.All(u => u) ? states : states.Select(usable)); // diverged networks are left out
        }

        return new RepresentationTargets(g, earlier);
    }

    /// <summary>Writes the targets into a run directory (<see cref="GuideFile"/>, <see cref="EarlierFile"/>), atomically.</summary>
    public void Save(string runDirectory)
    {
        if (Guide is { } g)
        {
            IO.Npy.Write(Path.Combine(runDirectory, GuideFile), g.States, g.Networks, g.Trials, g.Steps, g.Hidden);
        }

        for (int k = 0; k < Earlier.Count; k++)
        {
            var s = Earlier[k];
            IO.Npy.Write(Path.Combine(runDirectory, EarlierFile(k)), s.States, s.Networks, s.Trials, s.Steps, s.Hidden);
        }
    }

    /// <summary>Reads the targets a run directory kept (for a resumed run).</summary>
    /// <exception cref="InvalidDataException">A file the options need is missing.</exception>
    public static RepresentationTargets Load(string runDirectory, TrainingOptions options, int steps)
    {
        ArgumentNullException.ThrowIfNull(options);
        string guidePath = Path.Combine(runDirectory, GuideFile);
        GuideStates? guide = null;
        if (options.GuideSource is not null)
        {
            if (!File.Exists(guidePath))
            {
                throw new InvalidDataException($"{guidePath} is missing: the run trains toward a guide ({options.GuideSource}) and keeps its states there.");
            }

            guide = GuideStates.FromNpy(guidePath, options.RepresentationTrials, steps);
        }

        var earlier = new List<GuideStates>();
        for (int k = 0; k < (options.DiversityAgainst?.Length ?? 0); k++)
        {
            string path = Path.Combine(runDirectory, EarlierFile(k));
            if (!File.Exists(path))
            {
                throw new InvalidDataException($"{path} is missing: the run keeps the states of earlier run {options.DiversityAgainst![k]} there.");
            }

            earlier.Add(GuideStates.FromNpy(path, options.RepresentationTrials, steps));
        }

        return new RepresentationTargets(guide, earlier);
    }

    private static TrainingState LoadRun(string path, string field)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, Checkpoint.FileName) : path;
        if (!File.Exists(file))
        {
            throw new ArgumentException($"{field}: {path} is neither a run directory with {Checkpoint.FileName} nor a checkpoint or states .npy file.", field);
        }

        return Checkpoint.Load(file);
    }
}
