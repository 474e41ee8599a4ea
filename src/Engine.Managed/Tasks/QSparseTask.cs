using System.Globalization;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>Which form of q-sparse token regression a <see cref="QSparseTask"/> generates.</summary>
public enum QSparseVariant
{
    /// <summary>qSTR: every position i has its own pointer tuple t_i and its own output y_i; the N tokens come first, then N query steps.</summary>
    Full,

    /// <summary>One pointer tuple shared by the single output, presented before the tokens; the output is read at the last token.</summary>
    Simplified,
}

/// <summary>
/// q-sparse token regression (qSTR, Mousavi-Hosseini et al. 2025): each output depends only on the q tokens its pointer tuple names.
/// </summary>
/// <remarks>
/// Data model (SEEDS §8 defaults): features z_i ~ 𝒩(0, I_d/d) for i ∈ [0, N); a pointer tuple holds q distinct positions drawn
/// uniformly; y = tanh(⟨β, (1/q) Σ_j z_{t_j}⟩) with one fixed unit vector β drawn from <see cref="BetaSeed"/> (the same for every
/// trial, so the rule is learnable). Input channels, I = d + qN + N + 1: [z (d) | q one-hot pointer blocks of N | one-hot of the
/// token's position (N) | query flag]. Output O = 1.
/// <para>Full: T = 2N. Step i &lt; N is token i: [z_i, 0, e_i, 0]. Step N + i is query i: [0, e_{t_i1} … e_{t_iq}, 0, 1], target y_i =
/// g*(z_{t_i1} … z_{t_iq}), mask 1 (the other steps are unscored).</para>
/// <para>Simplified: T = N + 1. Step 0 carries the shared tuple: [0, e_{t_1} … e_{t_q}, 0, 1]; step 1 + i is token i: [z_i, 0, e_i, 0];
/// the single target y = g*(z_{t_1} … z_{t_q}) is scored at the last step.</para>
/// The position block is the engine's default (the papers' encoding is unconfirmed): without it a recurrent network would
/// have to count steps to know which token a pointer names. OOD: the same task (the trial length is fixed by N).
/// </remarks>
public sealed class QSparseTask : TrialTask
{
    private readonly float[] _beta;

    /// <summary>Creates the task.</summary>
    /// <param name="length">N, tokens per sequence (≥ 1).</param>
    /// <param name="q">Pointers per tuple, 1 ≤ q ≤ N (they are distinct).</param>
    /// <param name="dimension">d, feature dimension (≥ 1).</param>
    /// <param name="variant">Full qSTR or the simplified variant.</param>
    /// <param name="betaSeed">Seed of the fixed unit vector β.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below its minimum, or q larger than N.</exception>
    /// <param name="positions">Also give each token step a one-hot of its position (N more channels).</param>
    /// <param name="scalarCode">Code a position as the one value (t + 1)/N instead of a one-hot of N channels.</param>
    public QSparseTask(int length = 16, int q = 1, int dimension = 8, QSparseVariant variant = QSparseVariant.Full, long betaSeed = 0, bool positions = false,
        bool scalarCode = false)
    {
        Guard.AtLeast(length, 1, nameof(length));
        Guard.AtLeast(q, 1, nameof(q));
        Guard.AtLeast(dimension, 1, nameof(dimension));
        if (q > length)
        {
            throw new ArgumentOutOfRangeException(nameof(q), q, $"q ({q}) must be at most the sequence length N ({length}): the q pointers of a tuple are distinct positions.");
        }

        if (!Enum.IsDefined(variant))
        {
            throw new ArgumentOutOfRangeException(nameof(variant), variant, "variant must be full or simplified.");
        }

        Length = length;
        Q = q;
        Dimension = dimension;
        Variant = variant;
        BetaSeed = betaSeed;
        Positions = positions;
        ScalarCode = scalarCode;
        _beta = new float[dimension];
        var rng = Rng.For(betaSeed, BetaStream);
        double norm = 0;
        var b = new double[dimension];
        for (int k = 0; k < dimension; k++)
        {
            b[k] = rng.NextGaussian();
            norm += b[k] * b[k];
        }

        norm = Math.Sqrt(norm);
        for (int k = 0; k < dimension; k++)
        {
            _beta[k] = (float)(b[k] / norm);
        }
    }

    /// <summary>Purpose tag of the generator that draws β.</summary>
    public const ulong BetaStream = 0xBE7A;

    /// <summary>N, tokens per sequence.</summary>
    public int Length { get; }

    /// <summary>q, pointers per tuple.</summary>
    public int Q { get; }

    /// <summary>d, feature dimension.</summary>
    public int Dimension { get; }

    /// <summary>Full qSTR or the simplified variant.</summary>
    public QSparseVariant Variant { get; }

    /// <summary>Seed of β.</summary>
    public long BetaSeed { get; }

    /// <summary>Whether token steps carry their position.</summary>
    public bool Positions { get; }

    /// <summary>Whether a position (pointer or token position) is the one value (t + 1)/N rather than a one-hot of N channels.</summary>
    public bool ScalarCode { get; }

    /// <summary>Channels of one position code: 1 (scalar) or N (one-hot).</summary>
    public int CodeWidth => ScalarCode ? 1 : Length;

    /// <summary>The fixed unit vector β [d].</summary>
    public ReadOnlySpan<float> Beta => _beta;

    /// <summary>Outputs per trial: N for the full model, 1 for the simplified one.</summary>
    public int TargetsPerTrial => Variant == QSparseVariant.Full ? Length : 1;

    /// <summary>Offset of pointer block j in a step's input.</summary>
    public int PointerOffset(int j) => Dimension + j * CodeWidth;

    /// <summary>Offset of the position one-hot in a step's input (−1 without <see cref="Positions"/>).</summary>
    public int PositionOffset => Positions ? Dimension + Q * CodeWidth : -1;

    /// <summary>Index of the query flag in a step's input (the last channel).</summary>
    public int FlagIndex => Inputs - 1;

    /// <inheritdoc />
    public override string Name => "qsparse";

    /// <inheritdoc />
    public override int Inputs => Dimension + (Q + (Positions ? 1 : 0)) * CodeWidth + 1;

    /// <inheritdoc />
    public override int Outputs => 1;

    /// <inheritdoc />
    public override double DefaultThreshold => 1e-3;

    /// <inheritdoc />
    public override int DefaultSteps => Variant == QSparseVariant.Full ? 2 * Length : Length + 1;

    /// <inheritdoc />
    public override int MinimumSteps => DefaultSteps;

    /// <inheritdoc />
    public override int OodSteps(int trainedSteps) => trainedSteps;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["length"] = Length.ToString(CultureInfo.InvariantCulture),
        ["q"] = Q.ToString(CultureInfo.InvariantCulture),
        ["dimension"] = Dimension.ToString(CultureInfo.InvariantCulture),
        ["variant"] = Variant == QSparseVariant.Full ? "full" : "simplified",
        ["beta_seed"] = BetaSeed.ToString(CultureInfo.InvariantCulture),
        ["positions"] = Positions ? "true" : "false",
        ["code"] = ScalarCode ? "scalar" : "onehot",
    };

    /// <summary>Parses a variant name (full | simplified).</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static QSparseVariant ParseVariant(string value) => value?.Trim().ToLowerInvariant() switch
    {
        "full" => QSparseVariant.Full,
        "simplified" or "simple" => QSparseVariant.Simplified,
        _ => throw new ArgumentException($"qsparse variant must be full or simplified, got '{value}'.", "variant"),
    };

    /// <summary>Parses a position code name: onehot (false) or scalar (true).</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static bool ParseCode(string value) => value?.Trim().ToLowerInvariant() switch
    {
        "onehot" or "one-hot" => false,
        "scalar" => true,
        _ => throw new ArgumentException($"qsparse code must be onehot or scalar, got '{value}'.", "code"),
    };

    /// <summary>g*(z_{t_1} … z_{t_q}) = tanh(⟨β, (1/q) Σ_j z_{t_j}⟩) for features z [N][d] and one pointer tuple [q].</summary>
    public float Target(ReadOnlySpan<float> features, ReadOnlySpan<int> tuple)
    {
        Guard.Length(features.Length, (long)Length * Dimension, nameof(features), $"[N={Length}][d={Dimension}]");
        Guard.Length(tuple.Length, Q, nameof(tuple), $"[q={Q}]");
        double s = 0;
        foreach (int t in tuple)
        {
            if ((uint)t >= (uint)Length)
            {
                throw new ArgumentOutOfRangeException(nameof(tuple), t, $"pointer must be in [0, {Length}), got {t}.");
            }

            for (int k = 0; k < Dimension; k++)
            {
                s += (double)_beta[k] * features[t * Dimension + k];
            }
        }

        return (float)Math.Tanh(s / Q);
    }

    /// <summary>
    /// Encodes one hand-made instance: features z [N][d] and pointer tuples [P][q] (P = N for the full model, 1 for the
    /// simplified one) into inputs [T][I], targets and mask [T][1] (every element written).
    /// </summary>
    /// <exception cref="ArgumentException">A buffer of the wrong size, a pointer outside [0, N) or repeated within its tuple.</exception>
    public void Encode(ReadOnlySpan<float> features, ReadOnlySpan<int> pointers, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        int n = Length, d = Dimension, q = Q, ni = Inputs, steps = DefaultSteps;
        Guard.Length(features.Length, (long)n * d, nameof(features), $"[N={n}][d={d}]");
        Guard.Length(pointers.Length, (long)TargetsPerTrial * q, nameof(pointers), $"[{TargetsPerTrial}][q={q}]");
        Guard.Length(inputs.Length, (long)steps * ni, nameof(inputs), $"[T={steps}][I={ni}]");
        Guard.Length(targets.Length, steps, nameof(targets), $"[T={steps}][O=1]");
        Guard.Length(mask.Length, steps, nameof(mask), $"[T={steps}][O=1]");
        for (int p = 0; p < TargetsPerTrial; p++)
        {
            var tuple = pointers.Slice(p * q, q);
            for (int j = 0; j < q; j++)
            {
                if ((uint)tuple[j] >= (uint)n)
                {
                    throw new ArgumentOutOfRangeException(nameof(pointers), tuple[j], $"pointer [{p}][{j}] must be in [0, {n}), got {tuple[j]}.");
                }

                for (int k = 0; k < j; k++)
                {
                    if (tuple[k] == tuple[j])
                    {
                        throw new ArgumentException($"pointer tuple {p} repeats position {tuple[j]}; the q pointers must be distinct.", nameof(pointers));
                    }
                }
            }
        }

        inputs.Clear();
        targets.Clear();
        mask.Clear();
        int tokenStart = Variant == QSparseVariant.Full ? 0 : 1;
        for (int i = 0; i < n; i++)
        {
            var x = inputs.Slice((tokenStart + i) * ni, ni);
            features.Slice(i * d, d).CopyTo(x);
            if (Positions)
            {
                SetCode(x, PositionOffset, i);
            }
        }

        for (int p = 0; p < TargetsPerTrial; p++)
        {
            int query = Variant == QSparseVariant.Full ? n + p : 0;
            var x = inputs.Slice(query * ni, ni);
            var tuple = pointers.Slice(p * q, q);
            for (int j = 0; j < q; j++)
            {
                SetCode(x, PointerOffset(j), tuple[j]);
            }

            x[FlagIndex] = 1f;
            int scored = Variant == QSparseVariant.Full ? n + p : steps - 1;
            targets[scored] = Target(features, tuple);
            mask[scored] = 1f;
        }
    }

    private void SetCode(Span<float> x, int offset, int position)
    {
        if (ScalarCode)
        {
            x[offset] = (position + 1f) / Length;
        }
        else
        {
            x[offset + position] = 1f;
        }
    }

    /// <summary>Draws one instance: features z [N][d] ~ 𝒩(0, I/d) and pointer tuples [P][q] of distinct uniform positions.</summary>
    public void Draw(Rng rng, Span<float> features, Span<int> pointers)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int n = Length, d = Dimension, q = Q;
        Guard.Length(features.Length, (long)n * d, nameof(features), $"[N={n}][d={d}]");
        Guard.Length(pointers.Length, (long)TargetsPerTrial * q, nameof(pointers), $"[{TargetsPerTrial}][q={q}]");
        double sd = 1.0 / Math.Sqrt(d);
        for (int k = 0; k < features.Length; k++)
        {
            features[k] = (float)(sd * rng.NextGaussian());
        }

        for (int p = 0; p < TargetsPerTrial; p++)
        {
            var tuple = pointers.Slice(p * q, q);
            for (int j = 0; j < q; j++)
            {
                int t;
                bool repeat;
                do
                {
                    t = rng.NextInt(n);
                    repeat = false;
                    for (int k = 0; k < j; k++)
                    {
                        repeat |= tuple[k] == t;
                    }
                }
                while (repeat);
                tuple[j] = t;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>Trials longer than <see cref="DefaultSteps"/> are padded with unscored zero steps.</remarks>
    protected override void GenerateTrial(Rng rng, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        int natural = DefaultSteps;
        Span<float> features = Length * Dimension <= 4096 ? stackalloc float[Length * Dimension] : new float[Length * Dimension];
        Span<int> pointers = TargetsPerTrial * Q <= 4096 ? stackalloc int[TargetsPerTrial * Q] : new int[TargetsPerTrial * Q];
        Draw(rng, features, pointers);
        Encode(features, pointers, inputs[..(natural * Inputs)], targets[..natural], mask[..natural]);
        inputs[(natural * Inputs)..].Clear();
        targets[natural..].Clear();
        mask[natural..].Clear();
    }
}
