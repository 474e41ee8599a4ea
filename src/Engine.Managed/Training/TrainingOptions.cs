using Engine.Util;

namespace Engine.Training;

/// <summary>How an ensemble is trained: batch shape, optimizer, stop rule, checkpoint cadence.</summary>
/// <remarks>
/// One epoch is one Adam step on a fresh batch of <see cref="Trials"/> trials per network, drawn from that
/// network's own seed and the epoch index. A network stops on its own: once its training MSE falls below
/// <see cref="Threshold"/> it trains <see cref="Patience"/> more epochs and is marked converged; a
/// non-finite loss or gradient marks it diverged; after <see cref="MaxEpochs"/> it stops as not converged.
/// </remarks>
public sealed record TrainingOptions
{
    /// <summary>B, trials per network per epoch.</summary>
    public int Trials { get; init; } = 64;

    /// <summary>T, steps per trial (null: the task's default length).</summary>
    public int? Steps { get; init; }

    /// <summary>Adam learning rate (every network, unless <see cref="LearningRates"/> is given).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Optional per-network learning rates [E].</summary>
    public double[]? LearningRates { get; init; }

    /// <summary>Global-norm clipping threshold per network; 0 turns clipping off.</summary>
    public double ClipNorm { get; init; }

    /// <summary>Most epochs any network trains.</summary>
    public int MaxEpochs { get; init; } = 3000;

    /// <summary>Training MSE below which a network counts as converged (task default when null).</summary>
    public double? Threshold { get; init; }

    /// <summary>Epochs trained after first reaching the threshold.</summary>
    public int Patience { get; init; } = 3;

    /// <summary>A checkpoint is written every this many epochs (and at the end).</summary>
    public int CheckpointEvery { get; init; } = 50;

    /// <summary>Checks every field, naming the first bad one.</summary>
    public TrainingOptions Validate(int networks)
    {
        Guard.AtLeast(Trials, 1, nameof(Trials));
        if (Steps is { } steps)
        {
            Guard.AtLeast(steps, 1, nameof(Steps));
        }

        Guard.AtLeast(MaxEpochs, 1, nameof(MaxEpochs));
        Guard.AtLeast(Patience, 0, nameof(Patience));
        Guard.AtLeast(CheckpointEvery, 1, nameof(CheckpointEvery));
        Guard.InRange(LearningRate, 0, 10, nameof(LearningRate));
        Guard.InRange(ClipNorm, 0, double.MaxValue, nameof(ClipNorm));
        if (Threshold is { } th)
        {
            Guard.InRange(th, 0, double.MaxValue, nameof(Threshold));
        }

        if (LearningRates is { } lrs)
        {
            Guard.Length(lrs.Length, networks, nameof(LearningRates), "[E]");
            foreach (double lr in lrs)
            {
                Guard.InRange(lr, 0, 10, nameof(LearningRates));
            }
        }

        return this;
    }

    /// <summary>The trial length for a task: <see cref="Steps"/> or the task's default, checked against the task's minimum.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The trial is too short for the task (e.g. shorter than its longest delay allows).</exception>
    public int StepsFor(Engine.Tasks.ITrialTask task)
    {
        int steps = Steps ?? task.DefaultSteps;
        if (steps < task.MinimumSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(Steps), steps,
                $"Steps ({steps}) is shorter than task '{task.Name}' needs ({task.MinimumSteps}: {string.Join(", ", task.Settings.Select(kv => $"{kv.Key}={kv.Value}"))}).");
        }

        return steps;
    }

    /// <summary>The learning rate of network <paramref name="e"/>.</summary>
    public double LearningRateOf(int e) => LearningRates is { } lrs ? lrs[e] : LearningRate;
}
