namespace Engine.Study;

/// <summary>One condition of a study: a task with its settings and one value of every factor, trained over its seeds.</summary>
/// <remarks>
/// Conditions are built by the planner from the study config: for each task, each factor is varied one at a time
/// around the baseline, and conditions with the same full setting are one condition (the baseline belongs to every
/// factor's series). <see cref="Id"/> is deterministic and safe as a folder name.
/// </remarks>
public sealed record StudyCondition
{
    /// <summary>Deterministic id, e.g. <c>flipflop-bits3-n64-std</c>; a folder name.</summary>
    public required string Id { get; init; }

    /// <summary>Task name.</summary>
    public required string Task { get; init; }

    /// <summary>Task settings with the complexity knob applied (as the task registry takes them).</summary>
    public required IReadOnlyDictionary<string, string> TaskSettings { get; init; }

    /// <summary>N, hidden units.</summary>
    public required int Width { get; init; }

    /// <summary><c>standard</c> or <c>mup</c>.</summary>
    public required string Parameterization { get; init; }

    /// <summary>µP γ (1 under the standard parameterisation).</summary>
    public double Gamma { get; init; } = 1;

    /// <summary>ℓ1 strength on W.</summary>
    public double L1 { get; init; }

    /// <summary>Nuclear-norm strength on W.</summary>
    public double Nuclear { get; init; }

    /// <summary>Rank of W (0 = full).</summary>
    public int Rank { get; init; }

    /// <summary>Adam learning rate η (µP: η₀, the step is γ·η₀).</summary>
    public double LearningRate { get; init; }

    /// <summary>Value of the task's complexity knob (flip-flop bits, sine frequencies, delayed channels, pathint dimensions).</summary>
    public int Complexity { get; init; }

    /// <summary>Guidance λ toward the study's guide (0: off).</summary>
    public double GuideStrength { get; init; }

    /// <summary>Diversity μ (0: off): each network is penalised for how well it predicts the condition's networks before it.</summary>
    public double Diversity { get; init; }

    /// <summary>The seeds of this condition's networks, network k of the condition has seed <c>Seeds[k]</c>.</summary>
    public required long[] Seeds { get; init; }
}

/// <summary>One point of a factor's series: condition <paramref name="Condition"/> has value <paramref name="Level"/> of factor <paramref name="Factor"/> for task <paramref name="Task"/>.</summary>
/// <param name="Task">Task name.</param>
/// <param name="Factor">Factor: width, gamma, l1, nuclear, rank, complexity, learning_rate.</param>
/// <param name="Level">The factor's value in this condition.</param>
/// <param name="Condition">Condition id.</param>
public sealed record FactorLevel(string Task, string Factor, double Level, string Condition);

/// <summary>One network of one condition, tidy: every measured number of that network (NaN, or −1 for counts, where not measured).</summary>
/// <param name="Condition">Condition id.</param>
/// <param name="Network">Index of the network within its condition (0 … seeds − 1).</param>
/// <param name="Seed">Its seed.</param>
/// <param name="Status">converged, diverged, not_converged or training.</param>
/// <param name="Epochs">Epochs it trained.</param>
/// <param name="FinalLoss">Last training MSE (NaN if diverged).</param>
/// <param name="IdMse">MSE on fresh in-distribution trials.</param>
/// <param name="OodMse">MSE on the OOD variant.</param>
/// <param name="WeightChange">‖W_T − W_0‖_F.</param>
/// <param name="KernelAlignment">Tangent-kernel alignment Tr(K_T K_0)/(‖K_T‖‖K_0‖).</param>
/// <param name="FixedPoints">Fixed points found (−1: census not run).</param>
/// <param name="StableFixedPoints">Of which stable (−1: census not run).</param>
public sealed record NetworkRow(
    string Condition, int Network, long Seed, string Status, int Epochs, double FinalLoss, double IdMse, double OodMse,
    double WeightChange, double KernelAlignment, int FixedPoints, int StableFixedPoints);

/// <summary>One pair of networks of one condition under one metric, tidy.</summary>
/// <param name="Condition">Condition id.</param>
/// <param name="Metric">behavior, dsa, pif, cka or shape.</param>
/// <param name="NetworkA">Index within the condition (smaller).</param>
/// <param name="NetworkB">Index within the condition (larger).</param>
/// <param name="Value">The distance.</param>
public sealed record PairRow(string Condition, string Metric, int NetworkA, int NetworkB, double Value);

/// <summary>Whether a condition produced results; a failed one (every network diverged, say) is reported, the others complete.</summary>
/// <param name="Condition">Condition id.</param>
/// <param name="Failed">True when the condition has no usable networks or an analysis threw.</param>
/// <param name="Reason">What went wrong (null when it did not fail).</param>
public sealed record ConditionOutcome(string Condition, bool Failed, string? Reason);

/// <summary>Wall time of one stage of the study (training of a group, one analysis of one condition).</summary>
/// <param name="Stage">train, eval, dsa, pif, cka, shape, fixed_points.</param>
/// <param name="Unit">Group id (training) or condition id (analyses).</param>
/// <param name="Seconds">Wall seconds of the stage when it ran.</param>
public sealed record StageTiming(string Stage, string Unit, double Seconds);

/// <summary>Everything a report is made from: the plan's conditions and series and the tidy results.</summary>
/// <remarks>
/// Distances are computed over the converged networks of a condition only (as in Huang et al. 2025); σ_OOD likewise.
/// Heatmaps are rebuilt from <see cref="Pairs"/>. <see cref="Timings"/> go into a separate cost section and
/// <c>timings.csv</c>, so that a resumed or sharded study writes the same numbers as an uninterrupted one.
/// </remarks>
public sealed record StudyResults
{
    /// <summary>Study name.</summary>
    public required string Name { get; init; }

    /// <summary>All conditions, in plan order.</summary>
    public required IReadOnlyList<StudyCondition> Conditions { get; init; }

    /// <summary>The factor series (task, factor, level → condition), in plan order.</summary>
    public required IReadOnlyList<FactorLevel> Levels { get; init; }

    /// <summary>One row per network.</summary>
    public required IReadOnlyList<NetworkRow> Networks { get; init; }

    /// <summary>One row per pair and metric.</summary>
    public required IReadOnlyList<PairRow> Pairs { get; init; }

    /// <summary>One outcome per condition.</summary>
    public required IReadOnlyList<ConditionOutcome> Outcomes { get; init; }

    /// <summary>Analyses that were switched on: any of ood, dsa, pif, cka, shape, fixed_points, feature_learning.</summary>
    public required IReadOnlyList<string> Analyses { get; init; }

    /// <summary>The study config as given (JSON), echoed in the report.</summary>
    public required string ConfigJson { get; init; }

    /// <summary>The training recipe of each (task, parameterisation) used, as a Markdown table.</summary>
    public required string RecipeMarkdown { get; init; }

    /// <summary>Engine version (assembly informational version).</summary>
    public required string EngineVersion { get; init; }

    /// <summary>Machine description (OS, cores, CPU).</summary>
    public required string Machine { get; init; }

    /// <summary>Bootstrap resamples for the intervals (default 1000).</summary>
    public int BootstrapSamples { get; init; } = 1000;

    /// <summary>Seed of the bootstrap (the intervals are reproducible).</summary>
    public long BootstrapSeed { get; init; } = 2025;

    /// <summary>Stage timings (cost section only).</summary>
    public IReadOnlyList<StageTiming> Timings { get; init; } = [];
}
