using System.Text.Json.Serialization;
using Engine.Util;

namespace Engine.Model;

/// <summary>The architecture shared by every network of an ensemble: sizes, cell, nonlinearity, noise.</summary>
/// <remarks>
/// Discrete and leaky cells: h_t = (1 − α) h_{t−1} + α φ(W h_{t−1} + U x_t + b) + σ √α ξ_t, y_t = C h_t + d, with
/// α = 1 for <see cref="CellType.Discrete"/>. The rate cell (µP): h_t = (1 − α) h_{t−1} + α (W φ(h_{t−1}) + U x_t + b)
/// + σ √α ξ_t, y_t = C φ(h_t) + d. ξ_t ~ 𝒩(0, I) is supplied with the batch.
/// Networks differ only in their parameters, seeds and learning rates.
/// </remarks>
public sealed record EnsembleSpec
{
    /// <summary>Instances that passed <see cref="Validate"/> (by reference: records compare by value, so the table keys on identity).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<EnsembleSpec, EnsembleSpec> ValidSpecs = new();

    /// <summary>E, the number of independent networks.</summary>
    public required int Networks { get; init; }

    /// <summary>N, hidden units per network.</summary>
    public required int Hidden { get; init; }

    /// <summary>I, input channels.</summary>
    public required int Inputs { get; init; }

    /// <summary>O, output channels.</summary>
    public required int Outputs { get; init; }

    /// <summary>The recurrent cell.</summary>
    public CellType Cell { get; init; } = CellType.Discrete;

    /// <summary>The nonlinearity φ.</summary>
    public ActivationKind Activation { get; init; } = ActivationKind.Tanh;

    /// <summary>α = dt/τ for the leaky cell, in (0, 1]; ignored (taken as 1) for the discrete cell.</summary>
    public float Alpha { get; init; } = 1f;

    /// <summary>σ, the standard deviation of the process noise; 0 turns it off.</summary>
    public float NoiseStd { get; init; }

    /// <summary>Zero or learned h₀.</summary>
    public InitialStateKind InitialState { get; init; } = InitialStateKind.Zero;

    /// <summary>The α actually used by the update (1 for the discrete cell).</summary>
    [JsonIgnore]
    public float EffectiveAlpha => Cell == CellType.Discrete ? 1f : Alpha;

    /// <summary>The flat parameter layout of one network.</summary>
    [JsonIgnore]
    public ParameterLayout Layout => new(Hidden, Inputs, Outputs, InitialState == InitialStateKind.Learned);

    /// <summary>Throws a clear error naming the first invalid field, or the size when the parameter block [E][P] cannot exist.</summary>
    /// <remarks>
    /// A spec is immutable, so each instance is checked once: the first call (at whichever boundary it crosses first — a
    /// config, the trainer, a backend's runner) does the work and later calls return at once. <c>with</c> makes a new
    /// instance, which is checked again.
    /// </remarks>
    public EnsembleSpec Validate()
    {
        if (ValidSpecs.TryGetValue(this, out _))
        {
            return this;
        }

        Guard.AtLeast(Networks, 1, nameof(Networks));
        Guard.AtLeast(Hidden, 1, nameof(Hidden));
        Guard.AtLeast(Inputs, 1, nameof(Inputs));
        Guard.AtLeast(Outputs, 1, nameof(Outputs));
        if (!Enum.IsDefined(Cell))
        {
            throw new ArgumentOutOfRangeException(nameof(Cell), Cell, "Unknown cell type.");
        }

        if (!Enum.IsDefined(Activation))
        {
            throw new ArgumentOutOfRangeException(nameof(Activation), Activation, "Unknown activation.");
        }

        if (Cell is CellType.Leaky or CellType.Rate)
        {
            if (!float.IsFinite(Alpha) || Alpha <= 0f || Alpha > 1f)
            {
                throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, $"Alpha (dt/tau) must be in (0, 1], got {Alpha}.");
            }
        }

        Guard.InRange(NoiseStd, 0, float.MaxValue, nameof(NoiseStd));
        long stride = (long)Hidden * Hidden + (long)Hidden * Inputs + Hidden + (long)Outputs * Hidden + Outputs
            + (InitialState == InitialStateKind.Learned ? Hidden : 0);
        Guard.Buffer("parameters of one network [P]", sizeof(float), stride);
        Guard.Buffer("parameters [E][P]", sizeof(float), Networks, stride);
        ValidSpecs.AddOrUpdate(this, this);
        return this;
    }

    /// <summary>The same architecture with a different number of networks (e.g. one network alone).</summary>
    public EnsembleSpec WithNetworks(int networks) => this with { Networks = networks };
}
