using Engine.Model;
using Engine.Util;

namespace Engine.ClosedLoop;

/// <summary>Which parameter blocks are trained.</summary>
[Flags]
public enum TrainedWeights
{
    /// <summary>Nothing (frozen).</summary>
    None = 0,

    /// <summary>The recurrent matrix W (full parametrisation).</summary>
    W = 1,

    /// <summary>The observation weights m.</summary>
    M = 2,

    /// <summary>The control readout z.</summary>
    Z = 4,

    /// <summary>The rank-one factors u and v of W = u vᵀ (rank-one parametrisation).</summary>
    Factors = 8,
}

/// <summary>The optimiser.</summary>
public enum ClosedLoopOptimizer
{
    /// <summary>Plain gradient descent θ ← θ − η g.</summary>
    Sgd = 0,

    /// <summary>Adam (β₁ 0.9, β₂ 0.999, ε 1e-8, bias-corrected).</summary>
    Adam = 1,
}

/// <summary>Which blocks of an agent's parameter layout train.</summary>
public static class AgentLayouts
{
    /// <summary>A mask over the block: 1 where the parameter trains, 0 elsewhere.</summary>
    public static bool[] TrainMask(this ParameterLayout layout, TrainedWeights which)
    {
        var mask = new bool[layout.Length];
        void Set(int off, int len)
        {
            for (int i = 0; i < len; i++)
            {
                mask[off + i] = true;
            }
        }

        if (which.HasFlag(TrainedWeights.W))
        {
            Set(layout.WOffset, layout.Hidden * layout.Hidden);
        }

        if (which.HasFlag(TrainedWeights.M))
        {
            Set(layout.MOffset, layout.Hidden * layout.Observations);
        }

        if (which.HasFlag(TrainedWeights.Z))
        {
            Set(layout.ZOffset, layout.Hidden * layout.Controls);
        }

        if (which.HasFlag(TrainedWeights.Factors))
        {
            Set(layout.UOffset, 2 * layout.Hidden);
        }

        return mask;
    }
}

/// <summary>Options shared by every agent of a closed- or open-loop ensemble.</summary>
/// <remarks>
/// Loss (closed loop) L = (1/(B T)) Σ_b Σ_{t=1..T} (x_t − x*_t)ᵀ diag(w) (x_t − x*_t) + (β/B) Σ_b Σ_{t=0..T−1} ‖u_t‖²;
/// open loop L = (1/(B T)) Σ_b Σ_{t=0..T−1} ‖û_t − u_t‖². Initialisation (seeded per agent): m_ik ~ s_m 𝒩(0, 1),
/// z_ij ~ s_z 𝒩(0, 1)/N with s_z = <see cref="ZInitScale"/>, W_ij ~ 𝒩(0, g²/N) with g = <see cref="InitGain"/>
/// (g = 0 gives W = 0); rank-one: u_i ~ 𝒩(0, 1), v_i ~ 𝒩(0, 1)·g/N. With <see cref="ZOrthogonalToM"/> each
/// column of z is then projected onto the orthogonal complement of span{m_·1 … m_·q}:
/// z ← z − M (MᵀM)⁻¹ Mᵀ z (Gram–Schmidt on the columns of m), so the direct position gain zᵀ m is exactly 0.
/// </remarks>
public sealed record ClosedLoopOptions
{
    /// <summary>N, hidden units (default 100).</summary>
    public int Hidden { get; init; } = 100;

    /// <summary>φ, the engine's activation (default <see cref="ActivationKind.Identity"/>: the linear agent of the theory).</summary>
    public ActivationKind Activation { get; init; } = ActivationKind.Identity;

    /// <summary>W = u vᵀ trained through its factors.</summary>
    public bool RankOne { get; init; }

    /// <summary>Trained blocks (default W only; the rank-one parametrisation uses <see cref="TrainedWeights.Factors"/>).</summary>
    public TrainedWeights Train { get; init; } = TrainedWeights.W;

    /// <summary>g, the scale of the initial W (default 0.3).</summary>
    public double InitGain { get; init; } = 0.3;

    /// <summary>s_z, a factor on the initial z (default 1: z_ij ~ 𝒩(0, 1)/N).</summary>
    public double ZInitScale { get; init; } = 1.0;

    /// <summary>s_m, a factor on the initial m (default 1: m_ik ~ 𝒩(0, 1)).</summary>
    public double MInitScale { get; init; } = 1.0;

    /// <summary>
    /// α = dt/τ, the agent's leak: h_t = (1 − α) h_{t−1} + α φ(W h_{t−1} + m y_t) (default 1, the discrete agent of the
    /// theory). Ger &amp; Barak's tracking agent is a continuous-time RNN with α = 0.1.
    /// </summary>
    public double Leak { get; init; } = 1.0;

    /// <summary>Projects the initial z orthogonal to the columns of m, so σ_zm = zᵀm/N = 0 at the start (default off).</summary>
    /// <remarks>With W = 0 too, the initial agent sends no feedback at all: u_t = zᵀ m y_t = 0, and P has the plant's eigenvalues plus N zeros.</remarks>
    public bool ZOrthogonalToM { get; init; }

    /// <summary>β, the control cost (default 0).</summary>
    public double Beta { get; init; }

    /// <summary>Optimiser (default SGD).</summary>
    public ClosedLoopOptimizer Optimizer { get; init; } = ClosedLoopOptimizer.Sgd;

    /// <summary>Global gradient-norm clip per agent, 0 = off.</summary>
    public double Clip { get; init; }

    /// <summary>Training steps (default 1000).</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>Checks ranges and combinations; throws <see cref="ArgumentException"/> naming the option.</summary>
    public void Validate()
    {
        Guard.AtLeast(Hidden, 1, "hidden");
        Guard.AtLeast(Steps, 0, "steps");
        Guard.InRange(InitGain, 0, 1e6, "init gain");
        Guard.InRange(ZInitScale, 0, 1e6, "z init scale");
        Guard.InRange(MInitScale, 0, 1e6, "m init scale");
        if (!Enum.IsDefined(Activation))
        {
            throw new ArgumentOutOfRangeException("activation", Activation, $"unknown activation {Activation}; expected Identity, Tanh or Relu.");
        }

        if (!(Leak > 0 && Leak <= 1))
        {
            throw new ArgumentOutOfRangeException("leak", Leak, $"leak α must be in (0, 1], got {Leak}.");
        }
        Guard.InRange(Beta, 0, 1e12, "beta");
        Guard.InRange(Clip, 0, double.MaxValue, "clip");
        if (RankOne && Train.HasFlag(TrainedWeights.W))
        {
            throw new ArgumentException("the rank-one parametrisation trains the factors (u, v), not W directly; use Train = Factors.", "train");
        }

        if (!RankOne && Train.HasFlag(TrainedWeights.Factors))
        {
            throw new ArgumentException("training the factors u, v needs the rank-one parametrisation (RankOne = true).", "train");
        }
    }
}

/// <summary>One agent of an ensemble: its seed, horizon T and learning rate.</summary>
public readonly record struct AgentSetup(long Seed, int Horizon, double LearningRate);

/// <summary>Parameter initialisation.</summary>
public static class AgentInit
{
    /// <summary>Largest horizon accepted (the trajectory buffers are B×(T+1)×N doubles).</summary>
    public const int MaxHorizon = 1_000_000;

    /// <summary>A fresh parameter block for <paramref name="seed"/> (see <see cref="ClosedLoopOptions"/> for the distributions).</summary>
    public static double[] Create(ParameterLayout layout, ClosedLoopOptions options, long seed)
    {
        int n = layout.Hidden;
        var p = new double[layout.Length];
        var rng = Rng.For(seed, Rng.InitStream);
        for (int i = 0; i < layout.Hidden * layout.Observations; i++)
        {
            p[layout.MOffset + i] = rng.NextGaussian() * options.MInitScale;
        }

        for (int i = 0; i < layout.Hidden * layout.Controls; i++)
        {
            p[layout.ZOffset + i] = rng.NextGaussian() / n * options.ZInitScale;
        }

        if (options.ZOrthogonalToM)
        {
            ProjectZOffM(layout, p);
        }

        if (options.RankOne)
        {
            for (int i = 0; i < n; i++)
            {
                p[layout.UOffset + i] = rng.NextGaussian();
            }

            for (int i = 0; i < n; i++)
            {
                p[layout.VOffset + i] = rng.NextGaussian() * options.InitGain / n;
            }

            layout.SyncRankOne(p);
        }
        else
        {
            double s = options.InitGain / Math.Sqrt(n);
            for (int i = 0; i < n * n; i++)
            {
                p[i] = rng.NextGaussian() * s;
            }
        }

        return p;
    }

    /// <summary>Removes from every column of z its component in span{columns of m} (modified Gram–Schmidt).</summary>
    private static void ProjectZOffM(ParameterLayout layout, double[] p)
    {
        int n = layout.Hidden, q = layout.Observations, c = layout.Controls;
        var basis = new List<double[]>();
        for (int k = 0; k < q; k++)
        {
            var b = new double[n];
            for (int i = 0; i < n; i++)
            {
                b[i] = p[layout.MOffset + i * q + k];
            }

            foreach (var e in basis)
            {
                double d = System.Numerics.Tensors.TensorPrimitives.Dot<double>(b, e);
                for (int i = 0; i < n; i++)
                {
                    b[i] -= d * e[i];
                }
            }

            double norm = Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot<double>(b, b));
            if (norm > 1e-12)
            {
                for (int i = 0; i < n; i++)
                {
                    b[i] /= norm;
                }

                basis.Add(b);
            }
        }

        for (int j = 0; j < c; j++)
        {
            foreach (var e in basis)
            {
                double d = 0;
                for (int i = 0; i < n; i++)
                {
                    d += p[layout.ZOffset + i * c + j] * e[i];
                }

                for (int i = 0; i < n; i++)
                {
                    p[layout.ZOffset + i * c + j] -= d * e[i];
                }
            }
        }
    }
}
