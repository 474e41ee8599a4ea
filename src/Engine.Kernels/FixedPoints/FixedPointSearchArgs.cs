using ILGPU;

namespace Engine.Kernels.FixedPoints;

/// <summary>Per-seed states of the fixed-point search as they cross into kernels (an <c>int</c> per seed).</summary>
public static class SearchStatusCode
{
    /// <summary>Still being optimised.</summary>
    public const int Active = 0;

    /// <summary>q fell below the tolerance; the state is frozen.</summary>
    public const int Converged = 1;

    /// <summary>The iteration budget ran out with q above the tolerance.</summary>
    public const int MaxIterations = 2;

    /// <summary>q (or the state) became NaN or ±Inf; the state is frozen.</summary>
    public const int NonFinite = 3;

    /// <summary>A padding row of a workspace, never a real seed.</summary>
    public const int Padding = 4;
}

/// <summary>Arguments of the Adam fixed-point search kernels (<see cref="FixedPointKernel"/>).</summary>
/// <remarks>
/// E networks, S seeds each, N hidden units; <see cref="Rate"/> selects the rate cell's map (W φ(h)) over the discrete/leaky one (φ(W h)). Parameters [E][P] in the engine's layout (W at offset 0, N×N,
/// row i = unit i's incoming weights); drive [E][N] = U u + b for the constant input u; states, Adam moments,
/// residuals and scaled residuals [E][S][N]; q, status and iteration counts [E][S]; Adam coefficients [E].
/// </remarks>
public readonly struct FixedPointSearchArgs
{
    /// <summary>Creates the pack.</summary>
    public FixedPointSearchArgs(
        int networks, int seeds, int hidden, int stride, int activation, int rate, float alpha, float tolerance,
        int iteration, int maxIterations,
        ArrayView<float> parameters, ArrayView<float> drive, ArrayView<float> states,
        ArrayView<float> firstMoment, ArrayView<float> secondMoment, ArrayView<float> residual, ArrayView<float> scaled,
        ArrayView<float> q, ArrayView<int> status, ArrayView<int> iterations, ArrayView<AdamCoefficients> coefficients)
    {
        Networks = networks;
        Seeds = seeds;
        Hidden = hidden;
        Stride = stride;
        Activation = activation;
        Rate = rate;
        Alpha = alpha;
        Tolerance = tolerance;
        Iteration = iteration;
        MaxIterations = maxIterations;
        Parameters = parameters;
        Drive = drive;
        States = states;
        FirstMoment = firstMoment;
        SecondMoment = secondMoment;
        Residual = residual;
        Scaled = scaled;
        Q = q;
        Status = status;
        Iterations = iterations;
        Coefficients = coefficients;
    }

    /// <summary>E.</summary>
    public readonly int Networks;

    /// <summary>S, seeds per network.</summary>
    public readonly int Seeds;

    /// <summary>N.</summary>
    public readonly int Hidden;

    /// <summary>P, parameters per network.</summary>
    public readonly int Stride;

    /// <summary><see cref="ActivationCode"/> of φ.</summary>
    public readonly int Activation;

    /// <summary>1 for the rate cell (F = (1 − α) h + α (W φ(h) + c)), 0 otherwise.</summary>
    public readonly int Rate;

    /// <summary>α (1 for the discrete cell).</summary>
    public readonly float Alpha;

    /// <summary>A seed converges when q &lt; Tolerance.</summary>
    public readonly float Tolerance;

    /// <summary>The iteration being evaluated (0-based; equals the number of updates taken so far).</summary>
    public readonly int Iteration;

    /// <summary>At this iteration seeds are only evaluated, never updated.</summary>
    public readonly int MaxIterations;

    /// <summary>[E][P].</summary>
    public readonly ArrayView<float> Parameters;

    /// <summary>U u + b, [E][N].</summary>
    public readonly ArrayView<float> Drive;

    /// <summary>h, [E][S][N], updated.</summary>
    public readonly ArrayView<float> States;

    /// <summary>Adam m, [E][S][N].</summary>
    public readonly ArrayView<float> FirstMoment;

    /// <summary>Adam v, [E][S][N].</summary>
    public readonly ArrayView<float> SecondMoment;

    /// <summary>r = F(h) − h, [E][S][N].</summary>
    public readonly ArrayView<float> Residual;

    /// <summary>φ′(z) ⊙ r (discrete, leaky) or p = φ(h) (rate), [E][S][N].</summary>
    public readonly ArrayView<float> Scaled;

    /// <summary>q = ½‖r‖², [E][S].</summary>
    public readonly ArrayView<float> Q;

    /// <summary><see cref="SearchStatusCode"/>, [E][S].</summary>
    public readonly ArrayView<int> Status;

    /// <summary>Updates taken when the seed stopped, [E][S].</summary>
    public readonly ArrayView<int> Iterations;

    /// <summary>Adam coefficients of the current iteration, [E] (each network has its own learning rate).</summary>
    public readonly ArrayView<AdamCoefficients> Coefficients;
}
