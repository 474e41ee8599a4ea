using Engine.Util;

namespace Engine.Backends;

/// <summary>Settings of Dynamical Similarity Analysis (Ostrow et al. 2023) and their defaults.</summary>
public sealed record DsaOptions
{
    /// <summary>d, delays in the embedding (copies of the state, the current one included; default 10).</summary>
    public int Delays { get; init; } = 10;

    /// <summary>τ, steps between delays (default 1).</summary>
    public int DelayInterval { get; init; } = 1;

    /// <summary>r, SVD rank of the delay embedding: the operator is r × r (default 10).</summary>
    public int Rank { get; init; } = 10;

    /// <summary>λ, ridge penalty of the operator regression (default 0, plain least squares).</summary>
    public double Ridge { get; init; }

    /// <summary>Adam iterations per Procrustes problem (default 1500, DSA's).</summary>
    public int Iterations { get; init; } = 1500;

    /// <summary>Adam learning rate (default 5e-3, DSA's).</summary>
    public double LearningRate { get; init; } = 5e-3;

    /// <summary>Throws on out-of-range settings, naming the option.</summary>
    public DsaOptions Validate()
    {
        Guard.AtLeast(Delays, 1, "delays");
        Guard.AtLeast(DelayInterval, 1, "delay-interval");
        Guard.AtLeast(Rank, 1, "rank");
        Guard.AtLeast(Iterations, 0, "iterations");
        Guard.InRange(Ridge, 0, double.MaxValue, "ridge");
        Guard.InRange(LearningRate, 0, 10, "lr");
        return this;
    }
}
