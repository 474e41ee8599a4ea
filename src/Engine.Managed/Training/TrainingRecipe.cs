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
    /// <summary>ReduceLROnPlateau patience of the flip-flop, delayed and pathint recipes (epochs without a new best smoothed loss before the rate halves).</summary>
    public const int StandardPlateauPatience = 200;

    /// <summary>The recipe for a task under a parameterisation.</summary>
    /// <remarks>
    /// Measured on the CPU backend with <c>bench recipes</c> (bench/results/recipes-2026-12-01.md): B = 32 and clip 1 for every
    /// task; flip-flop η = 3e-3, the others 1e-3; the plateau schedule (patience 200, factor 0.5) for flip-flop, delayed and
    /// pathint. Every task converged 8/8 (sine 16/16) at N = 32, 64 and 128 and in the spot checks at 256 and 512. Without the
    /// schedule Adam's batch noise at a fixed rate made flip-flop 1.5–1.7× slower; a fixed 3e-3 is too large for wide networks
    /// (sine 1/2 at N = 256, pathint 0/1 at 512). Sine trains without the schedule: at η = 1e-3 it halved the rate of networks
    /// still on their initial plateau (13/16 at N = 32 in 12000 epochs, 16/16 without it), and gets 8000 epochs because its
    /// slowest narrow networks need about 5100. µP keeps the standard batch shape, budget and schedule with η₀ = 3e-2 (the step
    /// is γ·η₀). With the rate cell's α = 0.1 of SCIENCE.md §1 no η₀ tried (0.01–1, with or without clip and schedule) brings
    /// the µP flip-flop below its 1e-3 threshold, nor sine below 5e-2: the leak needs about 1/α steps to follow a target that
    /// switches in one step, a floor of the loss, not optimiser noise. The µP recipe therefore steps the rate cell with
    /// α = 1 (h_t = (1/N) J φ(h_{t−1}) + U x_t, <see cref="RateAlpha"/>), η₀ = <see cref="MuPLearningRate"/> and no plateau schedule (which stalled
    /// γ = 0.25: 1/4 against 4/4 without it); <c>--alpha 0.1</c> restores the leak.
    /// </remarks>
    /// <exception cref="ArgumentException">Unknown task.</exception>
    public static TrainingRecipe For(string task, Parameterization parameterization = Parameterization.Standard)
    {
        string key = task?.Trim().ToLowerInvariant() ?? "";
        var standard = key switch
        {
            "flipflop" => new TrainingRecipe(32, 30, 3e-3, 1, 6000, 3) { PlateauPatience = StandardPlateauPatience },
            "sine" => new TrainingRecipe(32, 40, 1e-3, 1, 8000, 3),
            "delayed" => new TrainingRecipe(32, null, 1e-3, 1, 6000, 3) { PlateauPatience = StandardPlateauPatience },
            "pathint" => new TrainingRecipe(32, 30, 1e-3, 1, 6000, 3) { PlateauPatience = StandardPlateauPatience },
            // sequence-chunks: not tuned (its loss has a floor from the unpredictable word onsets); the pathint recipe with 60-step trials.
            "sequence-chunks" => new TrainingRecipe(32, 60, 1e-3, 1, 6000, 3) { PlateauPatience = StandardPlateauPatience },
            // wm-orientation and crq: not tuned; B = 64 (a noisy delayed report and one scored step per trial need more trials per step).
            "wm-orientation" => new TrainingRecipe(64, null, 1e-3, 1, 6000, 3) { PlateauPatience = StandardPlateauPatience },
            "crq" => new TrainingRecipe(64, null, 1e-3, 1, 6000, 3) { PlateauPatience = StandardPlateauPatience },
            // qsparse: not tuned; trials of the task's own length (2N, or N + 1 simplified).
            "qsparse" => new TrainingRecipe(32, null, 1e-3, 1, 6000, 3) { PlateauPatience = StandardPlateauPatience },
            // The cognitive set (Yang et al.): their batch 64 and lr 1e-3, trials of the task's longest length; not tuned.
            _ when Tasks.Cognitive.CognitiveTask.IsCognitive(key) => new TrainingRecipe(64, null, 1e-3, 1, 6000, 3),
            _ => throw new ArgumentException($"No training recipe for task '{task}'; expected one of: {string.Join(", ", Tasks.TaskRegistry.Names)}.", nameof(task)),
        };
        standard = standard with { Task = key };
        return parameterization == Parameterization.MuP
            ? standard with { LearningRate = MuPLearningRate(key), PlateauPatience = 0, RateAlpha = 1, Parameterization = Parameterization.MuP }
            : standard;
    }

    /// <summary>
    /// η₀ of a task's µP recipe (the Adam step is γ·η₀; W's and C's steps are further scaled by 1/N and 1/(γN)): flip-flop 0.1
    /// (slower rates leave γ = 0.25 unconverged), sine and path integration 0.03, delayed discrimination 0.01 (at γ = 4 a step
    /// γ·η₀ above about 0.12 does not converge).
    /// </summary>
    public static double MuPLearningRate(string task) => task switch
    {
        "flipflop" => 0.1,
        "delayed" => 0.01,
        _ => 0.03,
    };

    /// <summary>ReduceLROnPlateau patience in epochs (0: off): halving the rate on a plateau takes a network through the Adam noise floor to the threshold.</summary>
    public int PlateauPatience { get; init; }

    /// <summary>Step α of the rate cell (µP) under this recipe; null: the cell's default (0.1).</summary>
    public double? RateAlpha { get; init; }

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
