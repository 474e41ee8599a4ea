using System.Numerics;
using Engine.Model;
using Engine.Numerics;
using Engine.Tasks.Control;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.ClosedLoop;

/// <summary>The linear theory of the closed loop: the joint matrix P, its spectrum, the agent's feedback gains and overlaps.</summary>
/// <remarks>All float64, on the CPU; eigenvalues from <see cref="Eigen"/> (non-symmetric, values only), sorted by modulus (descending).</remarks>
public static class ClosedLoopTheory
{
    /// <summary>The joint matrix P of s = (x, h): s_{t+1} = P s_t for the linear agent, (n+N)×(n+N).</summary>
    /// <remarks>
    /// With leak α and m_x the columns of m that see the state (all of m unless the task also shows the reference,
    /// which enters as an external input): P = [[A, B zᵀ], [α m_x C A, (1 − α) I + α (W + m_x C B zᵀ)]]. The
    /// C B term is zero whenever C B = 0 (the double integrator, every K ≥ 2 integrator and the point mass observe
    /// positions only), and with α = 1 this is Ger &amp; Barak's P = [[A, B zᵀ], [m C A, W]]. Row-major, length (n+N)².
    /// </remarks>
    public static double[] JointMatrix(Plant plant, ParameterLayout layout, double[] theta, double leak = 1.0)
    {
        ArgumentNullException.ThrowIfNull(plant);
        layout.CheckAgent(nameof(layout));
        ArgumentNullException.ThrowIfNull(theta);
        int n = plant.N, p = plant.P, q = plant.Q, qa = layout.Observations, nh = layout.Hidden, d = n + nh;
        var P = new double[d * d];
        var mc = new double[nh * n];     // α m_x C  (N×n)
        for (int i = 0; i < nh; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < q; k++)
                {
                    s += theta[layout.MOffset + i * qa + k] * plant.C[k * n + j];
                }

                mc[i * n + j] = leak * s;
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                P[i * d + j] = plant.A[i * n + j];
            }

            for (int j = 0; j < nh; j++)
            {
                double s = 0;
                for (int k = 0; k < p; k++)
                {
                    s += plant.B[i * p + k] * theta[layout.ZOffset + j * p + k];
                }

                P[i * d + n + j] = s;
            }
        }

        for (int i = 0; i < nh; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++)
                {
                    s += mc[i * n + k] * plant.A[k * n + j];
                }

                P[(n + i) * d + j] = s;
            }

            for (int j = 0; j < nh; j++)
            {
                double s = leak * theta[i * nh + j] + (i == j ? 1 - leak : 0);
                for (int k = 0; k < n; k++)
                {
                    for (int r = 0; r < p; r++)
                    {
                        s += mc[i * n + k] * plant.B[k * p + r] * theta[layout.ZOffset + j * p + r];
                    }
                }

                P[(n + i) * d + n + j] = s;
            }
        }

        return P;
    }

    /// <summary>Eigenvalues of a square row-major matrix, sorted by modulus descending (ties: larger imaginary part first); NaN when the QR iteration does not converge.</summary>
    public static Complex[] Eigenvalues(double[] matrix, int dim)
        => Eigenvalues(matrix, dim, m =>
        {
            var a = m.ToRowMajorArray();
            var values = new Complex[dim];
            if (a.All(double.IsFinite))
            {
                Eigen.Values(a, dim, values);
            }
            else
            {
                // as MathNet's Evd did: a non-finite P (a diverged agent) has no spectrum, so NaN
                values.AsSpan().Fill(new Complex(double.NaN, double.NaN));
            }

            return values;
        });

    /// <summary><see cref="Eigenvalues(double[], int)"/> with the eigensolver given: tests pass one that fails a set number of times, to reach the retries.</summary>
    internal static Complex[] Eigenvalues(double[] matrix, int dim, Func<Matrix<double>, Complex[]> solve)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        Util.Guard.Length(matrix.Length, (long)dim * dim, "matrix", "dim×dim");
        var m = Matrix<double>.Build.Dense(dim, dim, (i, j) => matrix[i * dim + j]);
        // a Hessenberg QR can fail on clustered spectra (MathNet's did on a leaky agent's P, most eigenvalues near
        // 1 − α); the same spectrum from a few similar matrices H P H (H a Householder reflection), else NaN
        for (int attempt = 0; attempt < 4; attempt++)
        {
            try
            {
                return SortByModulus(solve(m));
            }
            catch (Exception e) when (e is MathNet.Numerics.NonConvergenceException or EigenNonConvergenceException)
            {
                var v = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(dim, i => Math.Sin(12.9898 * (i + 1) * (attempt + 1)));
                v /= v.L2Norm();
                var h = Matrix<double>.Build.DenseIdentity(dim) - 2 * v.OuterProduct(v);
                m = h * m * h;
            }
        }

        return Enumerable.Repeat(new Complex(double.NaN, double.NaN), dim).ToArray();
    }

    /// <summary>Sorts by |λ| descending, then by imaginary part descending (so conjugate pairs are adjacent, + first).</summary>
    public static Complex[] SortByModulus(Complex[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.OrderByDescending(c => Math.Round(c.Magnitude, 12)).ThenByDescending(c => c.Imaginary).ToArray();
    }

    /// <summary>
    /// |λ₃|, the "third" eigenvalue of P: the largest modulus once the leading complex-conjugate pair (the plant's
    /// oscillation under feedback) is set aside. Without a complex pair among <paramref name="sortedByModulus"/>, the
    /// third largest modulus; NaN with fewer than three.
    /// </summary>
    /// <remarks>
    /// A pair counts as complex when |Im λ| &gt; 1e-6 |λ|. Indexing by modulus alone would swap identities once the
    /// memory mode overtakes the pair during refinement; this keeps following the memory mode.
    /// </remarks>
    public static double ThirdEigenvalue(IReadOnlyList<Complex> sortedByModulus)
    {
        ArgumentNullException.ThrowIfNull(sortedByModulus);
        int pair = -1;
        for (int i = 0; i + 1 < sortedByModulus.Count; i++)
        {
            var c = sortedByModulus[i];
            if (Math.Abs(c.Imaginary) > 1e-6 * c.Magnitude && Complex.Abs(sortedByModulus[i + 1] - Complex.Conjugate(c)) <= 1e-9 * Math.Max(1, c.Magnitude))
            {
                pair = i;
                break;
            }
        }

        if (pair < 0)
        {
            return sortedByModulus.Count >= 3 ? sortedByModulus[2].Magnitude : double.NaN;
        }

        double best = double.NaN;
        for (int i = 0; i < sortedByModulus.Count; i++)
        {
            if (i != pair && i != pair + 1 && !(sortedByModulus[i].Magnitude <= best))
            {
                best = sortedByModulus[i].Magnitude;
            }
        }

        return best;
    }

    /// <summary>Eigenvalues of the joint matrix P (sorted by modulus) for an agent.</summary>
    public static Complex[] JointEigenvalues(Plant plant, ParameterLayout layout, double[] theta, double leak = 1.0)
        => Eigenvalues(JointMatrix(plant, layout, theta, leak), plant.N + layout.Hidden);

    /// <summary>
    /// The agent's effective feedback gains (k1, k2): the least-squares fit u_t ≈ −k1 x_{1,t} − k2 x_{2,t} of its
    /// controls on the plant's first two state components (position and velocity for the double integrator) over
    /// its closed-loop rollouts (all trials, t = 0..T−1). One-dimensional plants give k2 = 0; control channel 0.
    /// </summary>
    /// <remarks>A stabilising PD law on the double integrator has k1 &gt; 0 and k2 &gt; 0 (velocity damping).</remarks>
    public static (double K1, double K2) FeedbackGains(Plant plant, ControlTask task, ActivationKind act, ParameterLayout layout, double[] theta, int horizon,
        double leak = 1.0)
    {
        ArgumentNullException.ThrowIfNull(plant);
        var (xs, _, us) = AgentDynamics.Rollout(plant, task, act, layout, theta, horizon, leak);
        return LeastSquaresGains(xs, us, plant.N, plant.P, task.Trials, horizon);
    }

    /// <summary>The fit behind <see cref="FeedbackGains"/> on states B×(T+1)×n and controls B×T×p.</summary>
    public static (double K1, double K2) LeastSquaresGains(double[] xs, double[] us, int n, int p, int trials, int horizon)
    {
        ArgumentNullException.ThrowIfNull(xs);
        ArgumentNullException.ThrowIfNull(us);
        double s11 = 0, s12 = 0, s22 = 0, r1 = 0, r2 = 0;
        for (int b = 0; b < trials; b++)
        {
            for (int t = 0; t < horizon; t++)
            {
                double a = xs[(b * (horizon + 1) + t) * n], c = n > 1 ? xs[(b * (horizon + 1) + t) * n + 1] : 0;
                double u = us[(b * horizon + t) * p];
                s11 += a * a;
                s12 += a * c;
                s22 += c * c;
                r1 += a * u;
                r2 += c * u;
            }
        }

        if (n == 1 || s22 == 0)
        {
            return (s11 > 0 ? -r1 / s11 : double.NaN, 0);
        }

        double det = s11 * s22 - s12 * s12;
        if (!(Math.Abs(det) > 1e-300) || !double.IsFinite(det))
        {
            return (double.NaN, double.NaN);
        }

        return (-(s22 * r1 - s12 * r2) / det, -(s11 * r2 - s12 * r1) / det);
    }

    /// <summary>The overlaps σ_ab = aᵀ b / N of the rank-one agent's vectors (m, z and the factors u, v of W = u vᵀ).</summary>
    /// <remarks>Loss-visible: σ_zm, σ_zu, σ_vm, σ_vu (they fix the closed loop); the rest only enter the learning dynamics.</remarks>
    public static Overlaps RankOneOverlaps(ParameterLayout layout, double[] theta)
    {
        layout.CheckAgent(nameof(layout));
        ArgumentNullException.ThrowIfNull(theta);
        // the first column of m and of z (the reduced model's single input and control)
        var m = Column(theta, layout.MOffset, layout.Hidden, layout.Observations);
        var z = Column(theta, layout.ZOffset, layout.Hidden, layout.Controls);
        var u = layout.U(theta);
        var v = layout.V(theta);
        double n = layout.Hidden;
        double D(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b) / n;
        return new Overlaps(D(z, m), D(z, u), D(v, m), D(v, u), D(m, m), D(z, z), D(u, u), D(v, v), D(m, u), D(z, v));
    }

    private static double[] Column(double[] theta, int offset, int rows, int stride)
    {
        var c = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            c[i] = theta[offset + i * stride];
        }

        return c;
    }

    /// <summary>
    /// The angle (degrees) between the gradients of a short-horizon and a long-horizon closed-loop loss of the
    /// trained blocks: arccos(⟨g_s, g_l⟩ / (‖g_s‖ ‖g_l‖)). Above 90° the myopic and the long-term objective conflict.
    /// </summary>
    public static double GradientConflictAngle(ClosedLoopEnsemble ensemble, int agent, int shortHorizon, int longHorizon)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        var layout = ensemble.Layout;
        var gs = new double[layout.Length];
        var gl = new double[layout.Length];
        var o = ensemble.Options;
        ensemble.ClosedLoopLoss(agent, gs, shortHorizon);
        ensemble.ClosedLoopLoss(agent, gl, longHorizon);
        var mask = layout.TrainMask(o.Train);
        double dot = 0, ns = 0, nl = 0;
        for (int k = 0; k < mask.Length; k++)
        {
            if (mask[k])
            {
                dot += gs[k] * gl[k];
                ns += gs[k] * gs[k];
                nl += gl[k] * gl[k];
            }
        }

        double c = dot / Math.Sqrt(ns * nl);
        return double.IsFinite(c) ? Math.Acos(Math.Clamp(c, -1, 1)) * 180 / Math.PI : double.NaN;
    }
}

/// <summary>Overlaps σ_ab = aᵀ b / N between the rank-one agent's vectors.</summary>
/// <param name="Zm">σ_zm (loss-visible).</param>
/// <param name="Zu">σ_zu (loss-visible).</param>
/// <param name="Vm">σ_vm (loss-visible).</param>
/// <param name="Vu">σ_vu (loss-visible).</param>
/// <param name="Mm">σ_mm.</param>
/// <param name="Zz">σ_zz.</param>
/// <param name="Uu">σ_uu.</param>
/// <param name="Vv">σ_vv.</param>
/// <param name="Mu">σ_mu.</param>
/// <param name="Zv">σ_zv.</param>
public readonly record struct Overlaps(double Zm, double Zu, double Vm, double Vu, double Mm, double Zz, double Uu, double Vv, double Mu, double Zv);
