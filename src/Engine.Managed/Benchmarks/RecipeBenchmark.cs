using System.Globalization;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;

namespace Engine.Benchmarks;

/// <summary>One task × width × parameterisation × γ measurement of a training recipe.</summary>
/// <param name="Task">Task name.</param>
/// <param name="Hidden">N.</param>
/// <param name="Parameterization">Standard or µP.</param>
/// <param name="Gamma">µP γ (1 under the standard parameterisation).</param>
/// <param name="Networks">E.</param>
/// <param name="Converged">Networks below the task threshold at the end.</param>
/// <param name="Epochs">Epochs until every network stopped (or the budget ran out).</param>
/// <param name="WallSeconds">Training wall time.</param>
/// <param name="Options">The options trained with (the recipe's, plus any knob).</param>
public sealed record RecipeBenchmarkResult(string Task, int Hidden, Parameterization Parameterization, double Gamma, int Networks, int Converged,
    int Epochs, double WallSeconds, TrainingOptions Options)
{
    /// <summary>Converged / networks.</summary>
    public double Share => Networks == 0 ? 0 : (double)Converged / Networks;

    /// <summary>Machine-readable line: <c>recipe task=… N=… parameterization=… gamma=… converged=c/E share=… epochs=… wall_s=…</c>, then the options used.</summary>
    public string FormatLine()
    {
        var o = Options;
        string knobs = string.Concat(
            o.Rank > 0 ? $" rank={o.Rank}" : "",
            o.L1 > 0 ? FormattableString.Invariant($" l1={o.L1:G3}") : "",
            o.Nuclear > 0 ? FormattableString.Invariant($" nuclear={o.Nuclear:G3}") : "",
            o.Activity > 0 ? FormattableString.Invariant($" activity={o.Activity:G3}") : "");
        string steps = o.Steps?.ToString(CultureInfo.InvariantCulture) ?? "task";
        return string.Create(CultureInfo.InvariantCulture,
            $"recipe task={Task} N={Hidden} parameterization={Parameterization.ToString().ToLowerInvariant()} gamma={Gamma:G3} converged={Converged}/{Networks} share={Share:F3} epochs={Epochs} wall_s={WallSeconds:F1} trials={o.Trials} steps={steps} lr={o.LearningRate:G3} clip={o.ClipNorm:G3} max_epochs={o.MaxEpochs} patience={o.Patience} plateau={o.PlateauPatience}{knobs}");
    }
}

/// <summary>Trains ensembles with a task's <see cref="TrainingRecipe"/> and reports the converged share: what the recipe table measures.</summary>
public static class RecipeBenchmark
{
    /// <summary>Trains <paramref name="networks"/> networks (seeds 0 … E − 1) of width <paramref name="hidden"/> with <paramref name="options"/>.</summary>
    /// <param name="backend">Backend to train on.</param>
    /// <param name="task">Task name (its default settings).</param>
    /// <param name="hidden">N.</param>
    /// <param name="networks">E.</param>
    /// <param name="options">Usually <c>TrainingRecipe.For(task, p).ToOptions()</c>, with the parameterisation and γ set; µP trains the rate cell.</param>
    /// <param name="onEpoch">Optional progress callback.</param>
    public static RecipeBenchmarkResult Run(IEnsembleBackend backend, string task, int hidden, int networks, TrainingOptions options, Action<EpochReport>? onEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var t = TaskRegistry.Create(task);
        bool mup = options.Parameterization == Parameterization.MuP;
        // The architecture `train --task T` builds: µP trains the rate cell with the recipe's α.
        var spec = new TrainConfig { Task = t.Name, Networks = networks, Hidden = hidden, Parameterization = mup ? "mup" : "standard" }.BuildSpec(t);
        var r = TimeToThreshold.Run(backend, t, spec, options, onEpoch);
        return new RecipeBenchmarkResult(t.Name, hidden, options.Parameterization, mup ? options.Gamma : 1.0, networks, r.Converged, r.Epochs, r.WallSeconds, options);
    }

    /// <summary>The recipe's options for a task, parameterisation and γ.</summary>
    public static TrainingOptions RecipeOptions(string task, Parameterization parameterization, double gamma = 1.0)
        => TrainingRecipe.For(task, parameterization).ToOptions() with { Parameterization = parameterization, Gamma = gamma };
}
