namespace Engine.Analysis.PathIntegration;

/// <summary>Scores, tuning and class of one unit.</summary>
/// <param name="Network">Network index e.</param>
/// <param name="Unit">Unit index i.</param>
/// <param name="Grid">Grid score, mean form (20 × 20 map by default).</param>
/// <param name="GridMinMax">Grid score, min/max form.</param>
/// <param name="Band">The band-score fit (50 × 50 map by default).</param>
/// <param name="Spacing">Spatial period of the band fit, in arena units.</param>
/// <param name="SpeedCorrelation">Pearson correlation of the unit's activity with the speed input over all samples.</param>
/// <param name="HeadingTuning">Mean resultant length of the unit's heading tuning curve (36 bins, shifted so its minimum is 0): 0 untuned, 1 one direction only.</param>
/// <param name="PreferredHeading">Direction of that resultant, radians.</param>
/// <param name="PassesGrid">Grid score (in the classifying form) above the grid threshold.</param>
/// <param name="PassesBand">Band score above the band threshold.</param>
/// <param name="Class">Grid, band or neither (grid wins when both pass).</param>
public sealed record UnitScores(int Network, int Unit, double Grid, double GridMinMax, BandFit Band, double Spacing,
    double SpeedCorrelation, double HeadingTuning, double PreferredHeading, bool PassesGrid, bool PassesBand, UnitClass Class);

/// <summary>One pruning condition: its error per network and that of pruning as many random connections of the same kind.</summary>
/// <param name="Kind">intact, untrained, input, all-inputs, recurrent or readout.</param>
/// <param name="From">Source class (input: "velocity"; readout: the unit class).</param>
/// <param name="To">Target class (input: the unit class; readout: "position").</param>
/// <param name="Connections">Connections zeroed per network [E].</param>
/// <param name="Error">Mean Euclidean distance of output to true position per network [E].</param>
/// <param name="RandomError">The same after zeroing as many random connections of the same kind per network [E] (NaN where not applicable).</param>
public sealed record PruneCondition(string Kind, string From, string To, int[] Connections, double[] Error, double[] RandomError)
{
    /// <summary>A short label: "band→grid", "velocity→band", "grid→readout".</summary>
    public string Label => Kind is "intact" or "untrained" ? Kind : Kind == "all-inputs" ? "velocity→all" : $"{From}→{To}";

    /// <summary>Mean of <see cref="Error"/> over networks with a finite error.</summary>
    public double MeanError => Mean(Error);

    /// <summary>Mean of <see cref="RandomError"/> over networks with a finite error.</summary>
    public double MeanRandomError => Mean(RandomError);

    private static double Mean(double[] v)
    {
        var f = v.Where(double.IsFinite).ToArray();
        return f.Length > 0 ? f.Average() : double.NaN;
    }
}

/// <summary>Everything <see cref="PathIntegrationAnalysis.Run"/> found.</summary>
public sealed class PathIntegrationResult
{
    /// <summary>The settings used (with the defaults resolved: steps, extent).</summary>
    public required PathIntegrationOptions Options { get; init; }

    /// <summary>E, networks.</summary>
    public required int Networks { get; init; }

    /// <summary>N, units per network.</summary>
    public required int Units { get; init; }

    /// <summary>Steps per trial of the map trials.</summary>
    public required int Steps { get; init; }

    /// <summary>Half-width of the mapped square.</summary>
    public required double Extent { get; init; }

    /// <summary>Side of the arena (position error as % of it).</summary>
    public required double ArenaSide { get; init; }

    /// <summary>Samples (trials × steps) behind every map.</summary>
    public required long Samples { get; init; }

    /// <summary>Fraction of bins of the grid-score map that were visited.</summary>
    public required double Coverage { get; init; }

    /// <summary>Rate maps [E][N][n][n] at <see cref="PathIntegrationOptions.Bins"/> (mean activity per bin; unvisited bins 0, as the authors do).</summary>
    public required float[] RateMaps { get; init; }

    /// <summary>Rate maps [E][N][m][m] at <see cref="PathIntegrationOptions.BandBins"/>.</summary>
    public required float[] BandMaps { get; init; }

    /// <summary>Occupancy (samples per bin) [n][n] of the grid-score maps.</summary>
    public required long[] Occupancy { get; init; }

    /// <summary>Per unit, network-major [E·N].</summary>
    public required UnitScores[] UnitScores { get; init; }

    /// <summary>Grid scores (classifying form) of the shuffled maps, pooled over units, networks and shuffles.</summary>
    public required double[] NullGrid { get; init; }

    /// <summary>Band scores of the shuffled maps, pooled.</summary>
    public required double[] NullBand { get; init; }

    /// <summary>The null's percentile of the grid score (NaN without shuffles).</summary>
    public required double ShuffleGridThreshold { get; init; }

    /// <summary>The null's percentile of the band score (NaN without shuffles).</summary>
    public required double ShuffleBandThreshold { get; init; }

    /// <summary>The grid threshold used to classify.</summary>
    public required double GridThreshold { get; init; }

    /// <summary>The band threshold used to classify.</summary>
    public required double BandThreshold { get; init; }

    /// <summary>Pruning conditions, intact and untrained first.</summary>
    public required IReadOnlyList<PruneCondition> Pruning { get; init; }

    /// <summary>Sentences on the hierarchy the pruning shows.</summary>
    public required IReadOnlyList<string> Summary { get; init; }

    /// <summary>Networks left out of the classes, the null and the pruning means (diverged, non-finite): id → reason.</summary>
    public IReadOnlyDictionary<int, string> LeftOut { get; init; } = new Dictionary<int, string>();

    /// <summary>Time running the networks for the maps.</summary>
    public required TimeSpan RunTime { get; init; }

    /// <summary>Time binning the maps and scoring them (the real and the shuffled ones).</summary>
    public required TimeSpan ScoreTime { get; init; }

    /// <summary>Time of the pruning evaluations.</summary>
    public required TimeSpan PruneTime { get; init; }

    /// <summary>Units of network e in class c.</summary>
    public int[] Members(int e, UnitClass c) => UnitScores.Where(u => u.Network == e && u.Class == c).Select(u => u.Unit).ToArray();
}
