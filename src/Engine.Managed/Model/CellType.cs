namespace Engine.Model;

/// <summary>The recurrent update of a network.</summary>
public enum CellType
{
    /// <summary>h_t = φ(W h_{t−1} + U x_t + b) (+ σ ξ_t): the leaky cell with α = 1.</summary>
    Discrete,

    /// <summary>h_t = (1 − α) h_{t−1} + α φ(W h_{t−1} + U x_t + b) + σ √α ξ_t, α = dt/τ.</summary>
    Leaky,

    /// <summary>
    /// The rate form of the µP parameterisation: h_t = (1 − α) h_{t−1} + α (W φ(h_{t−1}) + U x_t + b) + σ √α ξ_t, and the
    /// readout reads the rates, y_t = C φ(h_t) + d.
    /// </summary>
    Rate,
}

/// <summary>The nonlinearity φ.</summary>
public enum ActivationKind
{
    /// <summary>tanh (the default).</summary>
    Tanh = Engine.Kernels.ActivationCode.Tanh,

    /// <summary>max(0, z).</summary>
    Relu = Engine.Kernels.ActivationCode.Relu,

    /// <summary>identity: a linear RNN.</summary>
    Identity = Engine.Kernels.ActivationCode.Identity,
}

/// <summary>How h₀ is set.</summary>
public enum InitialStateKind
{
    /// <summary>h₀ = 0.</summary>
    Zero,

    /// <summary>h₀ is a trained parameter per network.</summary>
    Learned,
}
