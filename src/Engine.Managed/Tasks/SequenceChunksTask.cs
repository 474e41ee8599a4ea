using System.Globalization;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>
/// Next-symbol prediction on a stream with planted recurring chunks (neural chunking, SEEDS §2, RNN_2): the words
/// ABCD, GHI and JKLMN, each followed by a run of the filler symbol E.
/// </summary>
/// <remarks>
/// The alphabet is A … N (14 symbols; F is never used). A trial is a stream of words drawn uniformly from {ABCD, GHI, JKLMN},
/// each followed by U{0 … filler_max} E's; it starts with such a filler run so trials do not all open on a word.
/// Input x_t is the one-hot of symbol s_t, the target the one-hot of s_{t+1}, every output scored (mask 1). The engine's
/// trainer minimises MSE, so the network learns the conditional probabilities of the next symbol (the least-squares
/// predictor of a one-hot target) rather than log-probabilities; the symbol after a filler run cannot be predicted, so
/// the loss has a floor (0.0137–0.0149 for four N = 32 networks after 3000 epochs, filler_max 9) and the default threshold, 0.016, sits just above it. The latent label
/// of a step is its input symbol (its word and position, since no letter occurs in two words).
/// Shapes: inputs and targets [B][T][14]. OOD: trials twice as long.
/// </remarks>
public sealed class SequenceChunksTask : TrialTask, ILatentTask
{
    /// <summary>Symbols in the alphabet (A … N).</summary>
    public const int Symbols = 14;

    /// <summary>The filler symbol's index (E).</summary>
    public const int Filler = 4;

    /// <summary>The planted words, as symbol indices.</summary>
    public static IReadOnlyList<int[]> Words { get; } = [[0, 1, 2, 3], [6, 7, 8], [9, 10, 11, 12, 13]];

    /// <summary>Creates the task.</summary>
    /// <exception cref="ArgumentOutOfRangeException">filler_max &lt; 0 or above 100.</exception>
    public SequenceChunksTask(int fillerMax = 9)
    {
        if (fillerMax is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(fillerMax), fillerMax, $"filler_max must be in 0 … 100, got {fillerMax}.");
        }

        FillerMax = fillerMax;
    }

    /// <summary>The longest filler run after a word.</summary>
    public int FillerMax { get; }

    /// <inheritdoc />
    public override string Name => "sequence-chunks";

    /// <inheritdoc />
    public override int Inputs => Symbols;

    /// <inheritdoc />
    public override int Outputs => Symbols;

    /// <inheritdoc />
    public override double DefaultThreshold => 0.016;

    /// <inheritdoc />
    public override int DefaultSteps => 100;

    /// <inheritdoc />
    public override int MinimumSteps => 2;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["filler_max"] = FillerMax.ToString(CultureInfo.InvariantCulture),
    };

    /// <inheritdoc />
    public string LatentName => "symbol";

    /// <inheritdoc />
    public int LatentCount => Symbols;

    /// <summary>The symbol's letter (A … N).</summary>
    public static char Letter(int symbol) => (char)('A' + symbol);

    /// <inheritdoc />
    public void Latents(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int trials, int steps, Span<int> labels)
    {
        Guard.Length(inputs.Length, (long)trials * steps * Symbols, nameof(inputs), $"[B={trials}][T={steps}][I={Symbols}]");
        Guard.Length(labels.Length, (long)trials * steps, nameof(labels), $"[B={trials}][T={steps}]");
        for (int s = 0; s < trials * steps; s++)
        {
            labels[s] = ArgMax(inputs.Slice(s * Symbols, Symbols));
        }
    }

    /// <inheritdoc />
    public int DecodeOutput(ReadOnlySpan<float> output)
    {
        Guard.Length(output.Length, Symbols, nameof(output), $"[O={Symbols}]");
        return ArgMax(output);
    }

    /// <inheritdoc />
    public string LatentLabel(int label) => label is >= 0 and < Symbols ? Letter(label).ToString() : "none";

    /// <inheritdoc />
    protected override void GenerateTrial(Rng rng, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        var stream = new int[steps + 1];
        int k = 0;
        int run = rng.NextInt(FillerMax + 1);
        while (k < stream.Length)
        {
            for (int e = 0; e < run && k < stream.Length; e++)
            {
                stream[k++] = Filler;
            }

            var word = Words[rng.NextInt(Words.Count)];
            for (int j = 0; j < word.Length && k < stream.Length; j++)
            {
                stream[k++] = word[j];
            }

            run = rng.NextInt(FillerMax + 1);
        }

        inputs.Clear();
        targets.Clear();
        mask.Fill(1f);
        for (int t = 0; t < steps; t++)
        {
            inputs[t * Symbols + stream[t]] = 1f;
            targets[t * Symbols + stream[t + 1]] = 1f;
        }
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
            {
                best = i;
            }
        }

        return best;
    }
}
