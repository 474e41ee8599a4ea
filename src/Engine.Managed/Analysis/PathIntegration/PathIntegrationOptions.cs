namespace Engine.Analysis.PathIntegration;

/// <summary>Where the class thresholds come from.</summary>
public enum ClassThresholds
{
    /// <summary>The <see cref="PathIntegrationOptions.Percentile"/> of the pooled shuffle null of each score (the default).</summary>
    Shuffle,

    /// <summary>The paper's fixed thresholds: grid score 0.88, band score 5.8.</summary>
    Paper,
}

/// <summary>A unit's class: grid, band or neither.</summary>
/// <remarks>A unit above both thresholds is a grid cell: a hexagonal grid's spectrum has three peaks in the kept half-plane and one
/// Gaussian fits one of them (cos ≈ 0.88/√3), so a clean grid can pass the band threshold, while a band's autocorrelogram never
/// has the six-fold symmetry the grid score measures. The CSV keeps both flags.</remarks>
public enum UnitClass
{
    /// <summary>Neither band nor grid (the control set for pruning).</summary>
    Neither,

    /// <summary>Band score above its threshold, grid score not.</summary>
    Band,

    /// <summary>Grid score above its threshold.</summary>
    Grid,
}

/// <summary>Settings of <see cref="PathIntegrationAnalysis"/>; every default is recorded in the summary.</summary>
public sealed record PathIntegrationOptions
{
    /// <summary>Bins per side of the rate maps used for the grid score (SEEDS §1: 20).</summary>
    public int Bins { get; init; } = 20;

    /// <summary>Bins per side of the rate maps used for the band score (SEEDS §1: 50).</summary>
    public int BandBins { get; init; } = 50;

    /// <summary>Random-walk trials per network for the rate maps.</summary>
    public int Trials { get; init; } = 2000;

    /// <summary>Steps per trial (null: the training length, where the networks were trained to be right).</summary>
    public int? Steps { get; init; }

    /// <summary>Half-width of the square the maps cover, centred on the start (null: the 99th percentile of max(|x|, |y|) over the samples, so the corners the walks rarely reach do not leave empty bins).</summary>
    public double? Extent { get; init; }

    /// <summary>Circular shifts of each unit's activity against position for the null (each one a full scoring pass).</summary>
    public int Shuffles { get; init; } = 1;

    /// <summary>Percentile of the pooled null used as the threshold.</summary>
    public double Percentile { get; init; } = 95;

    /// <summary>The grid-score form used to classify (both are reported).</summary>
    public GridScoreForm Form { get; init; } = GridScoreForm.Mean;

    /// <summary>Shuffle-null or the paper's fixed thresholds.</summary>
    public ClassThresholds Thresholds { get; init; } = ClassThresholds.Shuffle;

    /// <summary>Fresh trials per network on which the pruning errors are measured.</summary>
    public int PruneTrials { get; init; } = 256;

    /// <summary>Seed of the trials, the shuffles and the random pruning.</summary>
    public long Seed { get; init; }

    /// <summary>Trials run through the backend at once while the maps are accumulated.</summary>
    public int Chunk { get; init; } = 128;

    /// <summary>The paper's grid-score threshold.</summary>
    public const double PaperGridThreshold = 0.88;

    /// <summary>The paper's band-score threshold.</summary>
    public const double PaperBandThreshold = 5.8;
}
