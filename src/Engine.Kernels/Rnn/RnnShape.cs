namespace Engine.Kernels.Rnn;

/// <summary>The sizes, layout offsets and cell constants every RNN kernel of an ensemble shares.</summary>
/// <remarks>
/// E networks of N hidden units, I inputs and O outputs run B trials of T steps; the batch holds S = 1 or E trial
/// sets. Buffers are row-major with the network outermost: parameters [E][P] (W N×N, U N×I, b N, C O×N, d O,
/// h₀ N when learned, at the offsets below), inputs [S][B][T][I], targets and mask [S][B][T][O], noise, states,
/// activations and deltas [E][B][T][N], outputs and output errors [E][B][T][O], the BPTT carry [E][B][N].
/// Discrete and leaky cells (<see cref="Rate"/> = 0): h_t = (1 − α) h_{t−1} + α φ(W h_{t−1} + U x_t + b) + NoiseScale · ξ_t,
/// y_t = C h_t + d. Rate cell (µP, <see cref="Rate"/> = 1): h_t = (1 − α) h_{t−1} + α (W φ(h_{t−1}) + U x_t + b) +
/// NoiseScale · ξ_t, y_t = C φ(h_t) + d. NoiseScale = σ√α. The activations buffer holds what the backward pass needs:
/// a_t = φ(W h_{t−1} + U x_t + b) for discrete and leaky cells, r_t = φ(h_t) for the rate cell.
/// </remarks>
public readonly struct RnnShape
{
    /// <summary>Creates the shape.</summary>
    public RnnShape(
        int networks, int sets, int trials, int steps, int hidden, int inputs, int outputs,
        bool learnedInitialState, float alpha, float noiseScale, int activation, bool rate)
    {
        Networks = networks;
        Sets = sets;
        Trials = trials;
        Steps = steps;
        Hidden = hidden;
        Inputs = inputs;
        Outputs = outputs;
        WInOffset = hidden * hidden;
        BiasOffset = WInOffset + hidden * inputs;
        WOutOffset = BiasOffset + hidden;
        BOutOffset = WOutOffset + outputs * hidden;
        H0Offset = BOutOffset + outputs;
        LearnedInitialState = learnedInitialState ? 1 : 0;
        Stride = H0Offset + (learnedInitialState ? hidden : 0);
        Alpha = alpha;
        NoiseScale = noiseScale;
        Activation = activation;
        Rate = rate ? 1 : 0;
    }

    /// <summary>E.</summary>
    public readonly int Networks;

    /// <summary>S: 1 (shared trials) or E.</summary>
    public readonly int Sets;

    /// <summary>B.</summary>
    public readonly int Trials;

    /// <summary>T.</summary>
    public readonly int Steps;

    /// <summary>N.</summary>
    public readonly int Hidden;

    /// <summary>I.</summary>
    public readonly int Inputs;

    /// <summary>O.</summary>
    public readonly int Outputs;

    /// <summary>Offset of U in a network's slice (W sits at 0).</summary>
    public readonly int WInOffset;

    /// <summary>Offset of b.</summary>
    public readonly int BiasOffset;

    /// <summary>Offset of C.</summary>
    public readonly int WOutOffset;

    /// <summary>Offset of d.</summary>
    public readonly int BOutOffset;

    /// <summary>Offset of h₀ (meaningful when learned).</summary>
    public readonly int H0Offset;

    /// <summary>1 when h₀ is a learned parameter, else 0 (h₀ = 0).</summary>
    public readonly int LearnedInitialState;

    /// <summary>P, parameters per network.</summary>
    public readonly int Stride;

    /// <summary>α (1 for the discrete cell).</summary>
    public readonly float Alpha;

    /// <summary>σ√α; 0 turns noise off (the noise view is then never read).</summary>
    public readonly float NoiseScale;

    /// <summary>An <see cref="ActivationCode"/>.</summary>
    public readonly int Activation;

    /// <summary>1 for the rate (µP) cell, 0 for discrete and leaky cells.</summary>
    public readonly int Rate;

    /// <summary>The trial set network <paramref name="network"/> reads.</summary>
    public int SetOf(int network) => Sets == 1 ? 0 : network;
}
