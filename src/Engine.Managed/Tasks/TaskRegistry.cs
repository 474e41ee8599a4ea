using System.Globalization;

namespace Engine.Tasks;

/// <summary>Builds a built-in task from its name and settings (CLI flags, config files, checkpoints).</summary>
public static class TaskRegistry
{
    /// <summary>Built-in task names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["flipflop"];

    /// <summary>Creates a task by name; settings not given take the task's defaults.</summary>
    /// <exception cref="ArgumentException">Unknown task name or a malformed setting.</exception>
    public static ITrialTask Create(string name, IReadOnlyDictionary<string, string>? settings = null)
    {
        settings ??= new Dictionary<string, string>();
        return name?.Trim().ToLowerInvariant() switch
        {
            "flipflop" => new FlipFlopTask(
                Int(settings, "bits", 3),
                Double(settings, "pulse_probability", 0.05)),
            _ => throw new ArgumentException($"Unknown task '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name)),
        };
    }

    private static int Int(IReadOnlyDictionary<string, string> s, string key, int fallback)
        => s.TryGetValue(key, out var v)
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) ? r : throw new ArgumentException($"Task setting '{key}' must be an integer, got '{v}'.")
            : fallback;

    private static double Double(IReadOnlyDictionary<string, string> s, string key, double fallback)
        => s.TryGetValue(key, out var v)
            ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) ? r : throw new ArgumentException($"Task setting '{key}' must be a number, got '{v}'.")
            : fallback;
}
