using Engine.Util;

namespace Engine.FixedPointRnn;

/// <summary>The shape of an ensemble of fixed-point RNNs and the layout of one network's flat parameter block.</summary>
/// <remarks>
/// Per network, with V tokens (one-hot inputs), N units, r reflections and C classes, in this order:
/// <c>Embed</c> [V][N] (b_v = B x for token v), <c>LambdaLogit</c> [V][N] (λ_v = sigmoid), <c>Reflect</c> [V][r][N]
/// (u_{v,i} = normalise(row)), <c>BetaLogit</c> [V][r] (β_{v,i} = 2·sigmoid), <c>Readout</c> [C][N], <c>ReadoutBias</c> [C].
/// Inputs are one-hot, so W x_t is the token's row and a separate bias would be redundant.
/// </remarks>
public sealed record FpRnnSpec
{
    /// <summary>E, networks.</summary>
    public int Networks { get; init; } = 1;

    /// <summary>N, hidden units.</summary>
    public int Hidden { get; init; } = 16;

    /// <summary>V, input tokens.</summary>
    public int Vocab { get; init; } = 2;

    /// <summary>C, output classes.</summary>
    public int Classes { get; init; } = 2;

    /// <summary>r, Householder reflections in the mixer Q = Π_i (I − β_i u_i u_iᵀ); 0 makes Q = I (a diagonal RNN at any iteration count).</summary>
    public int Reflections { get; init; } = 2;

    /// <summary>Offset of the embedding [V][N].</summary>
    public int EmbedOffset => 0;

    /// <summary>Offset of the λ logits [V][N].</summary>
    public int LambdaOffset => Vocab * Hidden;

    /// <summary>Offset of the reflection vectors [V][r][N].</summary>
    public int ReflectOffset => 2 * Vocab * Hidden;

    /// <summary>Offset of the β logits [V][r].</summary>
    public int BetaOffset => ReflectOffset + Vocab * Reflections * Hidden;

    /// <summary>Offset of the readout [C][N].</summary>
    public int ReadoutOffset => BetaOffset + Vocab * Reflections;

    /// <summary>Offset of the readout bias [C].</summary>
    public int ReadoutBiasOffset => ReadoutOffset + Classes * Hidden;

    /// <summary>Parameters per network.</summary>
    public int Stride => ReadoutBiasOffset + Classes;

    /// <summary>Checks every size; returns this spec.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size out of range; the message names it.</exception>
    public FpRnnSpec Validate()
    {
        Guard.AtLeast(Networks, 1, "networks");
        Guard.AtLeast(Hidden, 1, "hidden");
        Guard.AtLeast(Vocab, 1, "vocab");
        Guard.AtLeast(Classes, 2, "classes");
        Guard.AtLeast(Reflections, 0, "reflections");
        if (Reflections > Hidden)
        {
            throw new ArgumentOutOfRangeException("reflections", Reflections, $"reflections (mixer rank) must be at most hidden = {Hidden}, got {Reflections}.");
        }

        Guard.Buffer("fixed-point RNN parameters [E][stride]", 4, Networks, Stride);
        return this;
    }
}

/// <summary>How the depth iteration runs: a fixed count K, or to the stopping rule.</summary>
/// <remarks>
/// Iteration ℓ (plain form, h⁰ = 0): h_t^ℓ = λ_t ⊙ h_{t−1}^ℓ + Q_t b_t + (I − Q_t) h_t^{ℓ−1}, one causal scan over t.
/// Stopping rule: the residual of a sequence is r = max_t ‖h_t^ℓ − h_t^{ℓ−1}‖∞ / (‖h_t^ℓ‖∞ + 1e-8); stop when the
/// <see cref="Quantile"/>-quantile of r over the batch is below <see cref="Tolerance"/> or ℓ reaches <see cref="MaxIterations"/>.
/// With a fixed count the gradient is exact backpropagation through the K iterations; to the stopping rule it is the implicit
/// gradient at the fixed point (backpropagation through the dense recurrence h_t = Q_t⁻¹ Λ_t h_{t−1} + b_t).
/// </remarks>
public sealed record FpIteration
{
    /// <summary>A fixed iteration count K (≥ 1), or null to iterate to the stopping rule.</summary>
    public int? Iterations { get; init; }

    /// <summary>Skip the iteration and solve for the fixed point directly: the sequential dense recurrence h_t = Q_t⁻¹ Λ_t h_{t−1} + b_t
    /// (what the iteration converges to; exact even where the iteration would need thousands of sweeps). The gradient is the implicit one.</summary>
    public bool Direct { get; init; }

    /// <summary>ℓ_max of the stopping rule (default 100).</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>Residual tolerance of the stopping rule (default 1e-5).</summary>
    public double Tolerance { get; init; } = 1e-5;

    /// <summary>Quantile of the residual over the batch that must fall below the tolerance (default 1: every sequence; the paper trains with 0.9).</summary>
    public double Quantile { get; init; } = 1.0;

    /// <summary>Whether the count is fixed.</summary>
    public bool IsFixed => Iterations is not null && !Direct;

    /// <summary>The most iterations this setting may run.</summary>
    public int Budget => Iterations ?? MaxIterations;

    /// <summary>Checks the values; returns this.</summary>
    public FpIteration Validate()
    {
        if (Direct && Iterations is not null)
        {
            throw new ArgumentException($"iterations {Iterations} cannot be combined with the direct solve of the fixed point; give one.", "iterations");
        }

        if (Iterations is { } k)
        {
            Guard.AtLeast(k, 1, "iterations");
        }

        Guard.AtLeast(MaxIterations, 1, "max-iterations");
        if (!(Tolerance > 0) || !double.IsFinite(Tolerance))
        {
            throw new ArgumentOutOfRangeException("tolerance", Tolerance, $"tolerance must be a positive number, got {Tolerance}.");
        }

        Guard.InRange(Quantile, 0, 1, "quantile");
        return this;
    }

    /// <summary>Text for tables: "K", "converged" (iterated to the stopping rule) or "dense" (the direct solve).</summary>
    public string Label => Direct ? "dense" : Iterations is { } k ? k.ToString(System.Globalization.CultureInfo.InvariantCulture) : "converged";
}

/// <summary>How an iteration ended.</summary>
public enum FpStatus
{
    /// <summary>Ran its fixed count, or met the stopping rule.</summary>
    Converged,

    /// <summary>Reached ℓ_max without meeting the stopping rule.</summary>
    MaxIterations,

    /// <summary>A non-finite state appeared.</summary>
    NonFinite,
}
