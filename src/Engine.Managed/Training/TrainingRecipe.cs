using System.Globalization;

namespace Engine.Training;

/// <summary>A task's default training recipe: what <c>train --task T</c> and a study use when no flag says otherwise.</summary>
/// <param name="Trials">B, trials per network per epoch.</param>
/// <param name="Steps">T (null: the task's own minimum length, as delayed discrimination needs).</param>
/// <param name="LearningRate">Adam η (µP: η₀; the step is γ·η₀).</param>
/// <param name="Clip">Global gradient-norm clip per network.</param>
/// <param name="MaxEpochs">Epoch budget.</param>
/// <param name="Patience">Epochs trained after reaching the threshold.</param>
public sealed record TrainingRecipe(int Trials, int? Steps, double LearningRate, double Clip, int MaxEpochs, int Patience)
{
    /// <summary>The recipe for a task under a parameterisation.</summary>
    /// <exception cref="ArgumentException">Unknown task.</exception>
    public static TrainingRecipe For(string task, Parameterization parameterization = Parameterization.Standard)
    {
        string key = task?.Trim().ToLowerInvariant() ?? "";
        var standard = key switch
        {
            "flipflop" => new TrainingRecipe(32, 30, 3e-3, 1, 6000, 3),
            "sine" => new TrainingRecipe(32, 40, 3e-3, 1, 6000, 3),
            "delayed" => new TrainingRecipe(32, null, 1e-3, 1, 6000, 3),
            "pathint" => new TrainingRecipe(32, 30, 3e-3, 1, 6000, 3),
            _ => throw new ArgumentException($"No training recipe for task '{task}'; expected one of: {string.Join(", ", Tasks.TaskRegistry.Names)}.", nameof(task)),
        };
        standard = standard with { Task = key };
        return parameterization == Parameterization.MuP ? standard with { LearningRate = 3e-2, Parameterization = Parameterization.MuP } : standard;
    }

    /// <summary>The task this recipe was made for (set by <see cref="For"/>).</summary>
    public string Task { get; init; } = "";

    /// <summary>The parameterisation this recipe was made for (set by <see cref="For"/>).</summary>
    public Parameterization Parameterization { get; init; } = Parameterization.Standard;

    /// <summary>One Markdown table row: task, parameterisation, trials, steps, lr, clip, max epochs, patience.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"| {Task} | {(Parameterization == Parameterization.MuP ? "µP" : "standard")} | {Trials} | {(Steps is { } t ? t.ToString(CultureInfo.InvariantCulture) : "task minimum")} | {LearningRate:G3}{(Parameterization == Parameterization.MuP ? " (η₀; step γ·η₀)" : "")} | {Clip:G3} | {MaxEpochs} | {Patience} |");

    /// <summary>Every built-in task's recipe under both parameterisations, as a Markdown table with its header.</summary>
    public static string MarkdownTable()
    {
        var lines = new List<string>
        {
            "| task | parameterisation | trials B | steps T | learning rate | clip | max epochs | patience |",
            "|---|---|---|---|---|---|---|---|",
        };
        foreach (var p in new[] { Parameterization.Standard, Parameterization.MuP })
        {
            lines.AddRange(Tasks.TaskRegistry.Names.Select(t => For(t, p).Describe()));
        }

        return string.Join('\n', lines);
    }

    /// <summary>Training options with this recipe's values (every other option at its default).</summary>
    public TrainingOptions ToOptions() => new()
    {
        Trials = Trials, Steps = Steps, LearningRate = LearningRate, ClipNorm = Clip, MaxEpochs = MaxEpochs, Patience = Patience,
    };
}
