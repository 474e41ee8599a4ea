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
    /// <summary>ReduceLROnPlateau patience of every standard recipe (epochs without a new best smoothed loss before the rate halves).</summary>
    public const int StandardPlateauPatience = 200;

    /// <summary>The recipe for a task under a parameterisation.</summary>
    /// <remarks>
    /// Measured on the CPU backend (bench/results/recipes-2026-12-01.md, <c>bench recipes</c>): with B = 32, clip 1 and the
    /// plateau schedule (patience 200, factor 0.5) every task converged 8/8 at N = 32, 64 and 128. Without the schedule the
    /// batch noise of Adam at a fixed rate kept sine at N = 128 above its threshold (6/8 in 6000 epochs) and made flip-flop
    /// take 1.5–1.7× longer. Delayed discrimination keeps η = 1e-3 and its minimum trial length.
    /// </remarks>
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
        standard = standard with { Task = key, PlateauPatience = StandardPlateauPatience };
        return parameterization == Parameterization.MuP ? standard with { LearningRate = 3e-2, Parameterization = Parameterization.MuP } : standard;
    }

    /// <summary>ReduceLROnPlateau patience in epochs (0: off): halving the rate on a plateau takes a network through the Adam noise floor to the threshold.</summary>
    public int PlateauPatience { get; init; }

    /// <summary>The task this recipe was made for (set by <see cref="For"/>).</summary>
    public string Task { get; init; } = "";

    /// <summary>The parameterisation this recipe was made for (set by <see cref="For"/>).</summary>
    public Parameterization Parameterization { get; init; } = Parameterization.Standard;

    /// <summary>One Markdown table row: task, parameterisation, trials, steps, lr, clip, max epochs, patience, plateau patience.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"| {Task} | {(Parameterization == Parameterization.MuP ? "µP" : "standard")} | {Trials} | {(Steps is { } t ? t.ToString(CultureInfo.InvariantCulture) : "task minimum")} | {LearningRate:G3}{(Parameterization == Parameterization.MuP ? " (η₀; step γ·η₀)" : "")} | {Clip:G3} | {MaxEpochs} | {Patience} | {(PlateauPatience > 0 ? PlateauPatience.ToString(CultureInfo.InvariantCulture) : "off")} |");

    /// <summary>Every built-in task's recipe under both parameterisations, as a Markdown table with its header.</summary>
    public static string MarkdownTable()
    {
        var lines = new List<string>
        {
            "| task | parameterisation | trials B | steps T | learning rate | clip | max epochs | patience | plateau patience |",
            "|---|---|---|---|---|---|---|---|---|",
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
        PlateauPatience = PlateauPatience,
    };
}
