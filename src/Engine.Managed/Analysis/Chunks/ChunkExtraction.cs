namespace Engine.Analysis.Chunks;

/// <summary>One point of PA's tolerance sweep: detection rates and accuracy at one tolerance.</summary>
/// <param name="Tolerance">tol.</param>
/// <param name="TruePositiveRate">Share of (step, its own label) pairs detected.</param>
/// <param name="FalsePositiveRate">Share of (step, another label) pairs detected.</param>
/// <param name="Accuracy">Share of labelled steps whose best detected label is the true one.</param>
public sealed record PaRocPoint(double Tolerance, double TruePositiveRate, double FalsePositiveRate, double Accuracy);

/// <summary>The chunks one method read off one network's states: a dictionary of prototypes and a label per step.</summary>
/// <remarks>
/// States are [S = B·T][N]. <see cref="Labels"/> [S] hold the chunk each step is assigned to (DSC: its discretised
/// population state; PA: the label whose deviation is smallest relative to its threshold; UCD: the embedding of largest
/// cosine), −1 for none. Every <see cref="Prototypes"/> row is the mean state of the steps assigned to that chunk (what
/// grafting writes into h). <see cref="Explained"/> marks the steps a chunk accounts for (DSC: a state that recurs at least
/// MinCount times; PA: detected by some label; UCD: best cosine ≥ ExplainedCosine).
/// </remarks>
public sealed class ChunkExtraction
{
    /// <summary>The method that produced it.</summary>
    public required ChunkMethod Method { get; init; }

    /// <summary>N, state width.</summary>
    public required int Width { get; init; }

    /// <summary>Prototypes [C][N]: mean state of each chunk's steps.</summary>
    public required double[][] Prototypes { get; init; }

    /// <summary>Chunk names [C] for files and figures.</summary>
    public required string[] Names { get; init; }

    /// <summary>Chunk per step [S] (−1: none).</summary>
    public required int[] Labels { get; init; }

    /// <summary>Whether a chunk accounts for each step [S].</summary>
    public required bool[] Explained { get; init; }

    /// <summary>C, chunks in the dictionary.</summary>
    public int Count => Prototypes.Length;

    /// <summary>Share of steps explained.</summary>
    public double FractionExplained => Explained.Length == 0 ? 0 : (double)Explained.Count(e => e) / Explained.Length;

    /// <summary>Steps assigned to each chunk [C].</summary>
    public int[] Counts()
    {
        var n = new int[Count];
        foreach (int l in Labels)
        {
            if (l >= 0)
            {
                n[l]++;
            }
        }

        return n;
    }

    /// <summary>DSC: the BPE chunk (index into <see cref="Words"/>) covering each step [S].</summary>
    public int[]? ParseChunks { get; init; }

    /// <summary>DSC: the grown dictionary, each word a sequence of state indices (the first C are the single states).</summary>
    public IReadOnlyList<int[]>? Words { get; init; }

    /// <summary>DSC: parse units over all trials (a chunk never crosses a trial boundary).</summary>
    public int ParseLength { get; init; }

    /// <summary>PA: the tolerance sweep.</summary>
    public IReadOnlyList<PaRocPoint>? Roc { get; init; }

    /// <summary>PA: the tolerance kept (best accuracy).</summary>
    public double? Tolerance { get; init; }

    /// <summary>UCD: the trained embeddings [C][N] after merging (directions; only the cosine matters).</summary>
    public double[][]? Embeddings { get; init; }

    /// <summary>UCD: the objective, mean over steps of the best cosine.</summary>
    public double? MeanMaxCosine { get; init; }

    /// <summary>Mean state per label over the states [S][N] (labels in 0 … count − 1; −1 ignored); rows of unused labels are zero.</summary>
    internal static double[][] MeanStates(ReadOnlySpan<float> states, int width, int[] labels, int count)
    {
        var sum = new double[count][];
        var n = new int[count];
        for (int c = 0; c < count; c++)
        {
            sum[c] = new double[width];
        }

        for (int s = 0; s < labels.Length; s++)
        {
            int l = labels[s];
            if (l < 0)
            {
                continue;
            }

            n[l]++;
            var row = states.Slice(s * width, width);
            for (int j = 0; j < width; j++)
            {
                sum[l][j] += row[j];
            }
        }

        for (int c = 0; c < count; c++)
        {
            for (int j = 0; j < width && n[c] > 0; j++)
            {
                sum[c][j] /= n[c];
            }
        }

        return sum;
    }
}
