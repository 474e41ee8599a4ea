using System.Globalization;

namespace Engine.Tasks;

/// <summary>Builds a built-in task from its name and settings (CLI flags, config files, checkpoints).</summary>
/// <remarks>
/// Settings (all optional): flipflop — bits, pulse_probability; sine — frequencies, channels, dt; delayed —
/// delay_min, delay_max, channels, aux; pathint — dimensions, max_speed, heading_noise, place_cells, place_width; sequence-chunks — filler_max;
/// wm-orientation — prior (uniform | natural), reward (none | oblique | r_1,…,r_K), reward_bins, delays (comma list of steps),
/// channels, kappa, stimulus, response; crq — depth, arity, dimension, order (post | pre), margin; qsparse — length, q, dimension,
/// variant (full | simplified), beta_seed, positions, code (onehot | scalar). A setting the task does not
/// have is an error, so a misspelt knob never silently falls back to a default.
/// </remarks>
public static class TaskRegistry
{
    /// <summary>Built-in task names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["flipflop", "sine", "delayed", "pathint", "sequence-chunks", "wm-orientation", "crq", "qsparse"];

    private static readonly Dictionary<string, string[]> Known = new()
    {
        ["flipflop"] = ["bits", "pulse_probability"],
        ["sine"] = ["frequencies", "channels", "dt"],
        ["delayed"] = ["delay_min", "delay_max", "channels", "aux"],
        ["pathint"] = ["dimensions", "max_speed", "heading_noise", "place_cells", "place_width"],
        ["sequence-chunks"] = ["filler_max"],
        ["wm-orientation"] = ["prior", "reward", "reward_bins", "delays", "channels", "kappa", "stimulus", "response"],
        ["crq"] = ["depth", "arity", "dimension", "order", "margin"],
        ["qsparse"] = ["length", "q", "dimension", "variant", "beta_seed", "positions", "code"],
    };

    /// <summary>Creates a task by name; settings not given take the task's defaults.</summary>
    /// <exception cref="ArgumentException">Unknown task name, a setting the task does not have, or a malformed or impossible value.</exception>
    public static ITrialTask Create(string name, IReadOnlyDictionary<string, string>? settings = null)
    {
        settings ??= new Dictionary<string, string>();
        string key = name?.Trim().ToLowerInvariant() ?? "";
        if (Cognitive.CognitiveTask.IsCognitive(key))
        {
            return Cognitive.CognitiveTask.FromSettings(key, settings);
        }

        if (!Known.TryGetValue(key, out var allowed))
        {
            throw new ArgumentException($"Unknown task '{name}'; expected one of: {string.Join(", ", Names.Concat(Cognitive.CognitiveTask.Names))}.", nameof(name));
        }

        foreach (var s in settings.Keys)
        {
            if (!allowed.Contains(s))
            {
                throw new ArgumentException($"Task '{key}' has no setting '{s}'; its settings are: {string.Join(", ", allowed)}.", nameof(settings));
            }
        }

        return key switch
        {
            "flipflop" => new FlipFlopTask(Int(settings, "bits", 3), Double(settings, "pulse_probability", 0.05)),
            "sine" => new SineTask(Int(settings, "frequencies", 8), Int(settings, "channels", 1), Double(settings, "dt", 0.005)),
            "delayed" => new DelayedDiscriminationTask(Int(settings, "delay_min", 5), Int(settings, "delay_max", 20), Int(settings, "channels", 1), Bool(settings, "aux", false)),
            "sequence-chunks" => new SequenceChunksTask(Int(settings, "filler_max", 9)),
            "wm-orientation" => OrientationMemory(settings),
            "crq" => new CrqTask(Int(settings, "depth", 3), Int(settings, "arity", 2), Int(settings, "dimension", 8),
                Choice(settings, "order", "post", ["post", "pre"]) == "pre" ? CrqOrder.Pre : CrqOrder.Post, Double(settings, "margin", 0.05)),
            "qsparse" => new QSparseTask(Int(settings, "length", 16), Int(settings, "q", 1), Int(settings, "dimension", 8),
                QSparseTask.ParseVariant(settings.TryGetValue("variant", out var v) ? v : "full"), Int(settings, "beta_seed", 0), Bool(settings, "positions", false),
                QSparseTask.ParseCode(settings.TryGetValue("code", out var c) ? c : "onehot")),
            _ => new PathIntegrationTask(Int(settings, "dimensions", 2), Double(settings, "max_speed", 0.2), Double(settings, "heading_noise", 0.3),
                Int(settings, "place_cells", 0), Double(settings, "place_width", 0)),
        };
    }

    private static OrientationMemoryTask OrientationMemory(IReadOnlyDictionary<string, string> s)
    {
        var prior = Choice(s, "prior", "uniform", ["uniform", "natural"]) == "natural" ? OrientationPrior.Natural : OrientationPrior.Uniform;
        int bins = Int(s, "reward_bins", OrientationMemoryTask.ObliqueReward.Count);
        string reward = s.TryGetValue("reward", out var r) ? r.Trim().ToLowerInvariant() : "none";
        IReadOnlyList<double>? map = reward switch
        {
            "none" or "flat" => null,
            "oblique" => OrientationMemoryTask.ObliqueReward,
            _ => List<double>(reward, "reward", v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) ? x : null,
                "none, oblique or a comma list of K positive numbers (one per bin)"),
        };
        var delays = s.TryGetValue("delays", out var d)
            ? List<int>(d, "delays", v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) ? x : null, "a comma list of step counts, e.g. 25,50,100,200")
            : null;
        return new OrientationMemoryTask(prior, map, delays, Int(s, "channels", 32), Double(s, "kappa", 2), Int(s, "stimulus", 10), Int(s, "response", 10), bins);
    }

    private static T[] List<T>(string text, string key, Func<string, T?> parse, string expected)
        where T : struct
        => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(v => parse(v) ?? throw new ArgumentException($"Task setting '{key}' must be {expected}, got '{text}'.")).ToArray();

    private static string Choice(IReadOnlyDictionary<string, string> s, string key, string fallback, string[] allowed)
    {
        string v = s.TryGetValue(key, out var x) ? x.Trim().ToLowerInvariant() : fallback;
        return allowed.Contains(v) ? v : throw new ArgumentException($"Task setting '{key}' must be one of {string.Join(", ", allowed)}, got '{x}'.");
    }

    private static int Int(IReadOnlyDictionary<string, string> s, string key, int fallback)
        => s.TryGetValue(key, out var v)
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) ? r : throw new ArgumentException($"Task setting '{key}' must be an integer, got '{v}'.")
            : fallback;

    private static double Double(IReadOnlyDictionary<string, string> s, string key, double fallback)
        => s.TryGetValue(key, out var v)
            ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) ? r : throw new ArgumentException($"Task setting '{key}' must be a number, got '{v}'.")
            : fallback;

    private static bool Bool(IReadOnlyDictionary<string, string> s, string key, bool fallback)
        => s.TryGetValue(key, out var v)
            ? bool.TryParse(v, out bool r) ? r : throw new ArgumentException($"Task setting '{key}' must be true or false, got '{v}'.")
            : fallback;
}
