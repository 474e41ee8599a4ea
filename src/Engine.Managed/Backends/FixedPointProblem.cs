using Engine.Model;
using Engine.Util;

namespace Engine.Backends;

/// <summary>What became of one seed of the search (or one fixed point after the polish).</summary>
public enum FixedPointStatus
{
    /// <summary>q fell below the tolerance.</summary>
    Converged = 1,

    /// <summary>The iteration budget ran out with q above the tolerance (a slow point, or not yet converged).</summary>
    MaxIterations = 2,

    /// <summary>The seed or its q was NaN/±Inf; the seed was frozen and is excluded from the fixed points.</summary>
    NonFinite = 3,

    /// <summary>
    /// The point was found, but its Jacobian or eigen-decomposition failed (non-finite entries, or the eigensolver did not
    /// converge, e.g. for huge weights); it has no eigenvalues and is neither stable nor a saddle.
    /// </summary>
    LinearizationFailed = 4,
}

/// <summary>The frozen networks, the constant input and the seeds of one fixed-point search.</summary>
/// <remarks>
/// F(h, u) = (1 − α) h + α φ(W h + U u + b) for every network of <see cref="Spec"/> (α = 1 for the discrete cell).
/// Shapes: parameters [E][P] (the layout of <see cref="ParameterLayout"/>), inputs u [E][I] (one constant input
/// per network), seeds [E][S][N]. Seeds may hold NaN/Inf: such seeds end as <see cref="FixedPointStatus.NonFinite"/>.
/// </remarks>
public sealed class FixedPointProblem
{
    /// <summary>Creates and validates the problem.</summary>
    /// <exception cref="ArgumentException">A buffer has the wrong size, or the parameters or inputs are not finite.</exception>
    public FixedPointProblem(EnsembleSpec spec, float[] parameters, float[] inputs, int seedsPerNetwork, float[] seeds)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(seeds);
        Spec = spec.Validate();
        Guard.AtLeast(seedsPerNetwork, 1, nameof(seedsPerNetwork));
        int e = spec.Networks, n = spec.Hidden;
        Guard.Length(parameters.Length, (long)e * spec.Layout.Stride, nameof(parameters), $"[E={e}][P={spec.Layout.Stride}]");
        Guard.Length(inputs.Length, (long)e * spec.Inputs, nameof(inputs), $"[E={e}][I={spec.Inputs}]");
        Guard.Length(seeds.Length, (long)e * seedsPerNetwork * n, nameof(seeds), $"[E={e}][S={seedsPerNetwork}][N={n}]");
        Guard.Finite(parameters, nameof(parameters));
        Guard.Finite(inputs, nameof(inputs));
        Parameters = parameters;
        Inputs = inputs;
        SeedsPerNetwork = seedsPerNetwork;
        Seeds = seeds;
    }

    /// <summary>The architecture.</summary>
    public EnsembleSpec Spec { get; }

    /// <summary>Parameters [E][P].</summary>
    public float[] Parameters { get; }

    /// <summary>Constant input u per network, [E][I].</summary>
    public float[] Inputs { get; }

    /// <summary>S.</summary>
    public int SeedsPerNetwork { get; }

    /// <summary>Initial states [E][S][N].</summary>
    public float[] Seeds { get; }

    /// <summary>The same input vector for every network, checked against I: [E][I].</summary>
    /// <exception cref="ArgumentException">The vector does not have I entries.</exception>
    public static float[] SharedInput(EnsembleSpec spec, ReadOnlySpan<float> input)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Guard.Length(input.Length, spec.Inputs, "input", $"[I={spec.Inputs}]");
        var all = new float[spec.Networks * spec.Inputs];
        for (int e = 0; e < spec.Networks; e++)
        {
            input.CopyTo(all.AsSpan(e * spec.Inputs, spec.Inputs));
        }

        return all;
    }

    /// <summary>The constant drive c = U u + b per network, in float64, [E][N].</summary>
    public double[] Drive()
    {
        int n = Spec.Hidden, ni = Spec.Inputs;
        var layout = Spec.Layout;
        var c = new double[Spec.Networks * n];
        for (int e = 0; e < Spec.Networks; e++)
        {
            var u = layout.WIn(Parameters, e);
            var b = layout.Bias(Parameters, e);
            for (int i = 0; i < n; i++)
            {
                double z = b[i];
                for (int j = 0; j < ni; j++)
                {
                    z += (double)u[i * ni + j] * Inputs[e * ni + j];
                }

                c[e * n + i] = z;
            }
        }

        return c;
    }
}

/// <summary>Settings of the joint Adam search (FixedPointFinder's defaults where it has one).</summary>
/// <remarks>
/// Adam (β₁ 0.9, β₂ 0.999, ε = <see cref="Epsilon"/>, 0.01 as FixedPointFinder's adam_hps) on every seed's state with a learning rate per network, starting at
/// <see cref="LearningRate"/> (1.0) and adapted after every <see cref="CheckInterval"/> (10) iterations by
/// <see cref="LearningRateSchedule"/>: FixedPointFinder's AdaptiveLearningRate rules and defaults (×0.95 when the network's
/// mean q rose above each of its previous 5 values, ×1/0.95 after 5 consecutive falls, at least 5 checks between
/// changes, floor 1e-3), applied per check rather than per step. A seed stops when q &lt; <see cref="Tolerance"/>; the search stops when no seed is active or after
/// <see cref="MaxIterations"/> updates. The schedule is per network, so a network's result does not depend on the
/// ensemble around it. Not taken from FixedPointFinder: its adaptive gradient-norm clipping and its dq stopping rule.
/// </remarks>
public sealed record AdamSearchOptions
{
    /// <summary>Initial learning rate (1.0).</summary>
    public double LearningRate { get; init; } = 1.0;

    /// <summary>Adam's ε (0.01, FixedPointFinder's; on the benchmark network, 1024 seeds × 1000 iterations, mean q 2.4e-3 against 4.7e-3 with 1e-8).</summary>
    public double Epsilon { get; init; } = 0.01;

    /// <summary>Convergence tolerance on q (1e-12).</summary>
    public double Tolerance { get; init; } = 1e-12;

    /// <summary>Maximum Adam updates (5000).</summary>
    public int MaxIterations { get; init; } = 5000;

    /// <summary>
    /// Iterations between schedule checks (10). FixedPointFinder checks after every step; with its rules applied every step
    /// the benchmark network ended at mean q 0.75 (ε 0.01) or 1.4 (ε 1e-8) after 1000 iterations, against 2.4e-3 every 10.
    /// </summary>
    public int CheckInterval { get; init; } = 10;

    /// <summary>Checks a rise must beat, and the least checks between changes, before the rate decreases (5).</summary>
    public int DecreasePatience { get; init; } = 5;

    /// <summary>Consecutive falls, and the least checks between changes, before the rate increases (5).</summary>
    public int IncreasePatience { get; init; } = 5;

    /// <summary>Multiplier on a decrease (0.95).</summary>
    public double DecreaseFactor { get; init; } = 0.95;

    /// <summary>Multiplier on an increase (1/0.95).</summary>
    public double IncreaseFactor { get; init; } = 1 / 0.95;

    /// <summary>Floor of the learning rate (1e-3).</summary>
    public double MinLearningRate { get; init; } = 1e-3;

    /// <summary>Throws a clear error naming the first invalid field.</summary>
    public AdamSearchOptions Validate()
    {
        Guard.InRange(LearningRate, 1e-12, 1e6, nameof(LearningRate));
        Guard.InRange(Tolerance, 0, double.MaxValue, nameof(Tolerance));
        Guard.InRange(Epsilon, 1e-30, 1e6, nameof(Epsilon));
        Guard.AtLeast(MaxIterations, 0, nameof(MaxIterations));
        Guard.AtLeast(CheckInterval, 1, nameof(CheckInterval));
        Guard.AtLeast(DecreasePatience, 1, nameof(DecreasePatience));
        Guard.AtLeast(IncreasePatience, 1, nameof(IncreasePatience));
        Guard.InRange(DecreaseFactor, 1e-6, 1, nameof(DecreaseFactor));
        Guard.InRange(IncreaseFactor, 1, 1e6, nameof(IncreaseFactor));
        Guard.InRange(MinLearningRate, 0, LearningRate, nameof(MinLearningRate));
        return this;
    }
}

/// <summary>The outcome of the Adam search for every seed.</summary>
/// <remarks>States [E][S][N]; q, status and iterations [E][S]; final learning rates [E].</remarks>
public sealed class AdamSearchResult
{
    /// <summary>Creates an empty result for E networks of S seeds and N units.</summary>
    public AdamSearchResult(int networks, int seeds, int hidden)
    {
        Networks = networks;
        SeedsPerNetwork = seeds;
        Hidden = hidden;
        States = new float[(long)networks * seeds * hidden];
        Q = new double[networks * seeds];
        Status = new FixedPointStatus[networks * seeds];
        Iterations = new int[networks * seeds];
        LearningRates = new double[networks];
    }

    /// <summary>E.</summary>
    public int Networks { get; }

    /// <summary>S.</summary>
    public int SeedsPerNetwork { get; }

    /// <summary>N.</summary>
    public int Hidden { get; }

    /// <summary>Final states [E][S][N].</summary>
    public float[] States { get; }

    /// <summary>q at the last evaluation, [E][S].</summary>
    public double[] Q { get; }

    /// <summary>Status, [E][S].</summary>
    public FixedPointStatus[] Status { get; }

    /// <summary>Adam updates taken by each seed, [E][S].</summary>
    public int[] Iterations { get; }

    /// <summary>Each network's learning rate at the end.</summary>
    public double[] LearningRates { get; }

    /// <summary>Iterations the whole search ran (the largest of <see cref="Iterations"/>).</summary>
    public int TotalIterations { get; internal set; }
}
