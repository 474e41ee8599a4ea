using Engine.Util;

namespace Engine.Backends;

/// <summary>How DSA's orthogonal alignment is optimised.</summary>
public enum DsaOptimizer
{
    /// <summary>Multi-start Riemannian ascent in float64 that reaches the optimum (<c>Distances.DsaDescent</c>): the default.</summary>
    Optimal,

    /// <summary>The published optimiser: Adam on a Cayley parameter from C = I, plus the det −1 restart (for reproducing published numbers).</summary>
    Published,
}

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

    /// <summary>The alignment's optimiser (default <see cref="DsaOptimizer.Optimal"/>).</summary>
    public DsaOptimizer Optimizer { get; init; } = DsaOptimizer.Optimal;

    /// <summary>Random orthogonal starts of the optimal alignment, half of each determinant (default 4), beside its identity, swap and eigenbasis starts.</summary>
    public int RandomStarts { get; init; } = 4;

    /// <summary>Ascent steps at most per finalist start of the optimal alignment (default 500).</summary>
    public int MaxSteps { get; init; } = 500;

    /// <summary>Adam iterations per Procrustes problem of the published optimiser (default 1500, DSA's).</summary>
    public int Iterations { get; init; } = 1500;

    /// <summary>Adam learning rate of the published optimiser (default 5e-3, DSA's).</summary>
    public double LearningRate { get; init; } = 5e-3;

    /// <summary>The optimiser named "optimal" or "published" (any case).</summary>
    /// <exception cref="ArgumentException">Any other name, quoting it.</exception>
    public static DsaOptimizer ParseOptimizer(string name, string option = "dsa-optimizer") => name?.Trim().ToLowerInvariant() switch
    {
        "optimal" => DsaOptimizer.Optimal,
        "published" => DsaOptimizer.Published,
        _ => throw new ArgumentException($"{option} must be optimal or published, got '{name}'.", option),
    };

    /// <summary>The optimiser's name as the outputs write it.</summary>
    public string OptimizerName => Optimizer == DsaOptimizer.Published ? "published" : "optimal";

    /// <summary>Throws on out-of-range settings, naming the option.</summary>
    public DsaOptions Validate()
    {
        Guard.AtLeast(Delays, 1, "delays");
        Guard.AtLeast(DelayInterval, 1, "delay-interval");
        Guard.AtLeast(Rank, 1, "rank");
        Guard.AtLeast(Iterations, 0, "iterations");
        Guard.AtLeast(RandomStarts, 0, "dsa-starts");
        Guard.AtLeast(MaxSteps, 1, "dsa-max-steps");
        if (!Enum.IsDefined(Optimizer))
        {
            throw new ArgumentOutOfRangeException("dsa-optimizer", Optimizer, "dsa-optimizer must be optimal or published.");
        }

        Guard.InRange(Ridge, 0, double.MaxValue, "ridge");
        Guard.InRange(LearningRate, 0, 10, "lr");
        return this;
    }
}
