using Engine.Util;

namespace Engine.Composed;

/// <summary>The recurrent cell of a continual-learning run.</summary>
public enum CellKind
{
    /// <summary>Context-composed low-rank recurrence: W(t) = (1/N) Σ_k c_k(t) M_k N_kᵀ, one rank-R component per context.</summary>
    Composed,

    /// <summary>One shared full-rank recurrence W (the forgetting baseline of SEEDS §6).</summary>
    Plain,
}

/// <summary>Shape and dynamics of a context-composed (or plain) leaky ReLU RNN.</summary>
/// <remarks>
/// h_t = (1 − α) h_{t−1} + α (W(t) relu(h_{t−1}) + W_in x_t + b) + √(2α) σ_rec ξ_t, y_t = W_out relu(h_t) + b_out, h_0 = 0,
/// with W(t) = (1/N) Σ_k c_k(t) M_k N_kᵀ (M_k, N_k: N×R) for <see cref="CellKind.Composed"/> and a full N×N W for
/// <see cref="CellKind.Plain"/>. This is SEEDS §6's τ dh/dt = −h + (1/N) Σ_k c_k m_k n_kᵀ φ(h) + W_in x + σ ξ discretised with
/// α = dt/τ and Yang et al.'s noise scaling.
/// </remarks>
public sealed record ComposedSpec
{
    /// <summary>Composed or plain.</summary>
    public CellKind Cell { get; init; } = CellKind.Composed;

    /// <summary>N, hidden units.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>I, inputs.</summary>
    public int Inputs { get; init; } = 33;

    /// <summary>O, outputs.</summary>
    public int Outputs { get; init; } = 17;

    /// <summary>K, the most components the model may open (composed only).</summary>
    public int Components { get; init; } = 16;

    /// <summary>R, the rank of each component (composed only).</summary>
    public int Rank { get; init; } = 2;

    /// <summary>α = dt/τ.</summary>
    public double Alpha { get; init; } = 0.4;

    /// <summary>σ_rec, recurrent noise (Yang et al.: 0.05).</summary>
    public double NoiseStd { get; init; } = 0.05;

    /// <summary>Checks every field; returns this.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field out of range, named with the expected and the actual value.</exception>
    public ComposedSpec Validate()
    {
        Guard.AtLeast(Hidden, 1, "hidden");
        Guard.AtLeast(Inputs, 1, "inputs");
        Guard.AtLeast(Outputs, 1, "outputs");
        if (Cell == CellKind.Composed)
        {
            Guard.AtLeast(Components, 1, "components");
            Guard.AtLeast(Rank, 1, "rank");
            if (Rank > Hidden)
            {
                throw new ArgumentOutOfRangeException("rank", Rank, $"rank must be at most the width (hidden = {Hidden}), got {Rank}.");
            }
        }

        Guard.InRange(Alpha, 1e-6, 1, "alpha");
        Guard.InRange(NoiseStd, 0, 10, "noise");
        return this;
    }

    /// <summary>Offset of W_in [N][I] in a network's flat parameter block.</summary>
    public int WInOffset => 0;

    /// <summary>Offset of b [N].</summary>
    public int BiasOffset => Hidden * Inputs;

    /// <summary>Offset of W_out [O][N].</summary>
    public int WOutOffset => BiasOffset + Hidden;

    /// <summary>Offset of b_out [O].</summary>
    public int BOutOffset => WOutOffset + Outputs * Hidden;

    /// <summary>Parameters shared by every context (W_in, b, W_out, b_out).</summary>
    public int SharedCount => BOutOffset + Outputs;

    /// <summary>Offset of the recurrence: M_0 [R][N], N_0 [R][N], M_1, … (column q of M_k stored as row q) (composed) or W [N][N] (plain).</summary>
    public int RecurrentOffset => SharedCount;

    /// <summary>Parameters of one component (M_k and N_k).</summary>
    public int ComponentCount => 2 * Hidden * Rank;

    /// <summary>Offset of M_k [R][N]; N_k [R][N] follows it.</summary>
    public int ComponentOffset(int k) => RecurrentOffset + k * ComponentCount;

    /// <summary>Parameters per network.</summary>
    public int ParameterCount => SharedCount + (Cell == CellKind.Composed ? Components * ComponentCount : Hidden * Hidden);

    /// <summary>Context channels per step (K composed, 0 plain).</summary>
    public int ContextCount => Cell == CellKind.Composed ? Components : 0;
}
