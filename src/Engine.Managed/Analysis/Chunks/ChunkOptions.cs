using System.Globalization;

namespace Engine.Analysis.Chunks;

/// <summary>The three ways of reading chunks off population activity (neural chunking, SEEDS §2).</summary>
public enum ChunkMethod
{
    /// <summary>Discrete sequence chunking: per-neuron k-means bins, BPE-style chunk growth, greedy longest-match parse.</summary>
    Dsc,

    /// <summary>Population averaging: per-label mean state over a few occurrences, subpopulation and threshold (needs labels).</summary>
    Pa,

    /// <summary>Unsupervised chunk discovery: K learnable embeddings trained with Adam to maximise the mean max-cosine.</summary>
    Ucd,
}

/// <summary>Settings of a chunk analysis; defaults follow SEEDS §2 where it gives them.</summary>
/// <remarks>
/// DSC: K = <see cref="Bins"/> k-means bins per neuron (5), <see cref="Rounds"/> BPE rounds (6) adding the
/// <see cref="MergesPerRound"/> (5) most frequent adjacent pairs that occur at least <see cref="MinCount"/> (10) times.
/// PA: <see cref="Occurrences"/> (4) reference occurrences per label, tolerance swept over <see cref="Tolerances"/> (log grid
/// 1e-3 … 1, 13 points), the most accurate kept. UCD: <see cref="Chunks"/> embeddings (16: 2× the flip-flop's 8 memories),
/// Adam lr <see cref="LearningRate"/> (1e-2), batch <see cref="BatchSize"/> (64), <see cref="Epochs"/> (100); embeddings whose
/// cosine exceeds <see cref="MergeCosine"/> (0.95) are merged after training (near-duplicates would otherwise split one
/// chunk at random), and a step counts as explained when its best cosine reaches <see cref="ExplainedCosine"/> (0.9).
/// Grafting: prototypes are written into h at step <see cref="GraftStep"/> (−1: T/2) and the next <see cref="GraftHorizon"/>
/// (5) outputs are scored, for the <see cref="GraftChunks"/> (16) most frequent chunks.
/// </remarks>
public sealed record ChunkOptions
{
    /// <summary>The method.</summary>
    public ChunkMethod Method { get; init; } = ChunkMethod.Dsc;

    /// <summary>DSC: k-means bins per neuron.</summary>
    public int Bins { get; init; } = 5;

    /// <summary>DSC: BPE rounds.</summary>
    public int Rounds { get; init; } = 6;

    /// <summary>DSC: pairs merged per round.</summary>
    public int MergesPerRound { get; init; } = 5;

    /// <summary>DSC: the fewest occurrences of a pair to merge, and of a state to count as recurring (explained).</summary>
    public int MinCount { get; init; } = 10;

    /// <summary>PA: reference occurrences per label.</summary>
    public int Occurrences { get; init; } = 4;

    /// <summary>PA: the tolerance grid swept.</summary>
    public IReadOnlyList<double> Tolerances { get; init; } = Enumerable.Range(0, 13).Select(i => Math.Pow(10, -3 + i * 0.25)).ToArray();

    /// <summary>UCD: K, embeddings.</summary>
    public int Chunks { get; init; } = 16;

    /// <summary>UCD: passes over the states.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>UCD: Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>UCD: states per Adam step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>UCD: embeddings closer than this cosine are merged after training.</summary>
    public double MergeCosine { get; init; } = 0.95;

    /// <summary>UCD: the best cosine at which a state counts as explained.</summary>
    public double ExplainedCosine { get; init; } = 0.9;

    /// <summary>Seed of PA's reference occurrences and UCD's initialisation and batches.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Grafting: the step whose state is replaced (−1: the middle of the trial).</summary>
    public int GraftStep { get; init; } = -1;

    /// <summary>Grafting: outputs scored after the graft.</summary>
    public int GraftHorizon { get; init; } = 5;

    /// <summary>Grafting: how many of the most frequent chunks are grafted.</summary>
    public int GraftChunks { get; init; } = 16;

    /// <summary>Parses <c>dsc</c>, <c>pa</c> or <c>ucd</c>.</summary>
    /// <exception cref="ArgumentException">Anything else.</exception>
    public static ChunkMethod ParseMethod(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "dsc" => ChunkMethod.Dsc,
        "pa" => ChunkMethod.Pa,
        "ucd" => ChunkMethod.Ucd,
        _ => throw new ArgumentException($"Unknown chunk method '{name}'; expected dsc, pa or ucd.", nameof(name)),
    };

    /// <summary>The method's CLI name.</summary>
    public static string NameOf(ChunkMethod method) => method.ToString().ToLowerInvariant();

    /// <summary>Checks every setting once.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of range.</exception>
    public ChunkOptions Validate()
    {
        static void AtLeast(int v, int min, string name)
        {
            if (v < min)
            {
                throw new ArgumentOutOfRangeException(name, v, string.Create(CultureInfo.InvariantCulture, $"{name} must be at least {min}, got {v}."));
            }
        }

        AtLeast(Bins, 2, nameof(Bins));
        AtLeast(Rounds, 0, nameof(Rounds));
        AtLeast(MergesPerRound, 1, nameof(MergesPerRound));
        AtLeast(MinCount, 1, nameof(MinCount));
        AtLeast(Occurrences, 1, nameof(Occurrences));
        AtLeast(Chunks, 1, nameof(Chunks));
        AtLeast(Epochs, 1, nameof(Epochs));
        AtLeast(BatchSize, 1, nameof(BatchSize));
        AtLeast(GraftHorizon, 1, nameof(GraftHorizon));
        AtLeast(GraftChunks, 1, nameof(GraftChunks));
        AtLeast(GraftStep, -1, nameof(GraftStep));
        if (Tolerances is null || Tolerances.Count == 0 || Tolerances.Any(t => !(t > 0) || !double.IsFinite(t)))
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerances), "PA needs at least one positive, finite tolerance.");
        }

        if (!(LearningRate > 0) || !(MergeCosine is > -1 and <= 1) || !(ExplainedCosine is >= -1 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), "UCD needs lr > 0 and cosines in [−1, 1].");
        }

        return this;
    }
}
