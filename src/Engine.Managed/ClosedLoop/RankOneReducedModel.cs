using System.Numerics;
using Engine.Model;
using Engine.Tasks.Control;

namespace Engine.ClosedLoop;

/// <summary>
/// The rank-one reduced model: a linear SISO agent with W = u vᵀ, described only by the inner products of its
/// four vectors (m, z, u, v), with its own gradient dynamics (SGD on u and v, optional clipping).
/// </summary>
/// <remarks>
/// With h_0 = m y_0 and W = u vᵀ the state stays in span{m, u}: h_t = α_t m + γ_t u with α_t = y_t and
/// γ_{t+1} = σ_vm α_t + σ_vu γ_t (σ_ab = aᵀb/N, written here for the raw products G_ab = aᵀb = N σ_ab);
/// u_t = G_zm α_t + G_zu γ_t. So the closed loop, its loss and the joint spectrum depend only on the four
/// loss-visible overlaps σ_zm, σ_zu, σ_vm, σ_vu: the reduced joint matrix on (x, α, γ) is
/// <code>
/// P̃ = [[A, B G_zm, B G_zu], [C A, C B G_zm, C B G_zu], [0, G_vm, G_vu]]     ((n+2)×(n+2))
/// </code>
/// and the full P has the same eigenvalues plus N − 2 zeros. The adjoint stays in span{z, v}
/// (g_a,t = ζ_t z + ν_t v, ζ_t = g_u,t, ν_t = ζ_{t+1} G_uz + ν_{t+1} G_uv), so ∂L/∂W = Σ c_ab a bᵀ over
/// a ∈ {z, v}, b ∈ {m, u}, and the factor gradients are ∂L/∂u = (c_zm G_mv + c_zu G_uv) z + (c_vm G_mv + c_vu G_uv) v,
/// ∂L/∂v = (c_zm G_zu + c_vm G_vu) m + (c_zu G_zu + c_vu G_vu) u. An SGD step is then a linear change of basis
/// of (m, z, u, v), and the Gram matrix updates exactly as G′ = Kᵀ G K: the learning dynamics close on the
/// ten inner products (the loss-invisible ones, σ_uu, σ_vv, σ_mu, σ_zv, σ_mm, σ_zz, are needed to describe
/// learning but not the loss). Exact for any N, so it reproduces a full rank-one network's learning curve to
/// rounding error.
/// </remarks>
public sealed class RankOneReducedModel
{
    private const int Im = 0, Iz = 1, Iu = 2, Iv = 3;
    private readonly Plant _plant;
    private readonly ControlTask _task;
    private readonly double _beta;
    private readonly double[,] _g = new double[4, 4];

    /// <summary>A reduced model from the Gram matrix G (4×4, order m, z, u, v) of the raw inner products.</summary>
    public RankOneReducedModel(Plant plant, ControlTask task, int hidden, double[,] gram, double beta = 0)
    {
        ArgumentNullException.ThrowIfNull(plant);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(gram);
        if (!plant.IsSiso)
        {
            throw new ArgumentException($"the rank-one reduced model needs a plant with one control and one observation, got p = {plant.P}, q = {plant.Q}.", nameof(plant));
        }

        if (task.ObserveReference)
        {
            throw new ArgumentException($"the rank-one reduced model has one input m; task '{task.Name}' also shows the agent the reference.", nameof(task));
        }

        if (gram.GetLength(0) != 4 || gram.GetLength(1) != 4)
        {
            throw new ArgumentException($"the Gram matrix must be 4×4 (m, z, u, v), got {gram.GetLength(0)}×{gram.GetLength(1)}.", nameof(gram));
        }

        Util.Guard.AtLeast(hidden, 1, "hidden");
        _plant = plant;
        _task = task;
        _beta = beta;
        Hidden = hidden;
        Array.Copy(gram, _g, 16);
    }

    /// <summary>N (sets the overlap scale σ = G / N).</summary>
    public int Hidden { get; }

    /// <summary>The Gram matrix of (m, z, u, v) (raw inner products; a copy).</summary>
    public double[,] Gram => (double[,])_g.Clone();

    /// <summary>The reduced model matching a rank-one agent's parameters exactly.</summary>
    public static RankOneReducedModel FromAgent(Plant plant, ControlTask task, ParameterLayout layout, double[] theta, double beta = 0)
    {
        layout.CheckAgent(nameof(layout));
        ArgumentNullException.ThrowIfNull(theta);
        var vecs = new[] { layout.M(theta).ToArray(), layout.Z(theta).ToArray(), layout.U(theta).ToArray(), layout.V(theta).ToArray() };
        var g = new double[4, 4];
        for (int a = 0; a < 4; a++)
        {
            for (int b = 0; b < 4; b++)
            {
                g[a, b] = System.Numerics.Tensors.TensorPrimitives.Dot<double>(vecs[a], vecs[b]);
            }
        }

        return new RankOneReducedModel(plant, task, layout.Hidden, g, beta);
    }

    /// <summary>The overlaps σ_ab = G_ab / N.</summary>
    public Overlaps Overlaps
    {
        get
        {
            double n = Hidden;
            return new Overlaps(_g[Iz, Im] / n, _g[Iz, Iu] / n, _g[Iv, Im] / n, _g[Iv, Iu] / n, _g[Im, Im] / n,
                _g[Iz, Iz] / n, _g[Iu, Iu] / n, _g[Iv, Iv] / n, _g[Im, Iu] / n, _g[Iz, Iv] / n);
        }
    }

    /// <summary>The reduced joint matrix P̃ on (x, α, γ), row-major (n+2)×(n+2).</summary>
    public double[] JointMatrix()
    {
        int n = _plant.N, d = n + 2;
        var P = new double[d * d];
        double gzm = _g[Iz, Im], gzu = _g[Iz, Iu];
        double cb = 0;
        for (int i = 0; i < n; i++)
        {
            cb += _plant.C[i] * _plant.B[i];
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                P[i * d + j] = _plant.A[i * n + j];
            }

            P[i * d + n] = _plant.B[i] * gzm;
            P[i * d + n + 1] = _plant.B[i] * gzu;
        }

        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int k = 0; k < n; k++)
            {
                s += _plant.C[k] * _plant.A[k * n + j];
            }

            P[n * d + j] = s;
        }

        P[n * d + n] = cb * gzm;
        P[n * d + n + 1] = cb * gzu;
        P[(n + 1) * d + n] = _g[Iv, Im];
        P[(n + 1) * d + n + 1] = _g[Iv, Iu];
        return P;
    }

    /// <summary>Eigenvalues of P̃ (sorted by modulus): the non-zero spectrum of the full joint matrix.</summary>
    public Complex[] Eigenvalues() => ClosedLoopTheory.Eigenvalues(JointMatrix(), _plant.N + 2);

    /// <summary>The effective feedback gains (k1, k2) fitted on the reduced model's own rollouts (see <see cref="ClosedLoopTheory.LeastSquaresGains"/>).</summary>
    public (double K1, double K2) FeedbackGains(int horizon)
    {
        int n = _plant.N, bt = _task.Trials, T = horizon;
        var xs = new double[bt * (T + 1) * n];
        var us = new double[bt * T];
        Run(T, 0, 0, update: false, xs, us);
        return ClosedLoopTheory.LeastSquaresGains(xs, us, n, 1, bt, T);
    }

    /// <summary>The closed-loop loss at horizon T (same definition as <c>ClosedLoopReference.ClosedLoopLoss</c>).</summary>
    public double Loss(int horizon) => Run(horizon, 0, 0, update: false);

    /// <summary>One SGD step on (u, v) through the Gram matrix; returns the loss before the step.</summary>
    public double Step(int horizon, double learningRate, double clip = 0) => Run(horizon, learningRate, clip, update: true);

    private double Run(int T, double lr, double clip, bool update, double[]? xsOut = null, double[]? usOut = null)
    {
        ClosedLoopEnsemble.CheckHorizon(T, _task.Trials, 1);
        int n = _plant.N, bt = _task.Trials;
        var A = _plant.A;
        var B = _plant.B;
        var C = _plant.C;
        var w = _task.StateWeights;
        var targets = new double[bt * (T + 1) * n];
        _task.FillTargets(T, targets);
        double gzm = _g[Iz, Im], gzu = _g[Iz, Iu], gvm = _g[Iv, Im], gvu = _g[Iv, Iu];
        double loss = 0, invBT = 1.0 / (bt * (double)T);
        double czm = 0, czu = 0, cvm = 0, cvu = 0;
        var x = new double[(T + 1) * n];
        var al = new double[T + 1];
        var ga = new double[T + 1];
        var uu = new double[T + 1];
        var gx = new double[n];
        var gxn = new double[n];
        for (int b = 0; b < bt; b++)
        {
            for (int i = 0; i < n; i++)
            {
                x[i] = _task.InitialStates[b * n + i];
            }

            al[0] = Obs(x, targets, b, 0, T);
            ga[0] = 0;
            for (int t = 0; t < T; t++)
            {
                double u = gzm * al[t] + gzu * ga[t];
                uu[t] = u;
                loss += _beta / bt * u * u;
                for (int i = 0; i < n; i++)
                {
                    double s = B[i] * u;
                    for (int k = 0; k < n; k++)
                    {
                        s += A[i * n + k] * x[t * n + k];
                    }

                    x[(t + 1) * n + i] = s;
                    double d = s - targets[(b * (T + 1) + t + 1) * n + i];
                    loss += w[i] * d * d * invBT;
                }

                ga[t + 1] = gvm * al[t] + gvu * ga[t];
                if (usOut is not null)
                {
                    usOut[b * T + t] = u;
                }
                al[t + 1] = Obs(x, targets, b, t + 1, T);
            }

            if (xsOut is not null)
            {
                Array.Copy(x, 0, xsOut, b * (T + 1) * n, (T + 1) * n);
            }

            if (!update)
            {
                continue;
            }

            Array.Clear(gxn);
            double zetaN = 0, nuN = 0;
            for (int t = T; t >= 0; t--)
            {
                double zeta = 0, nu = 0;
                if (t < T)
                {
                    double gu = 2 * _beta / bt * uu[t];
                    for (int i = 0; i < n; i++)
                    {
                        gu += B[i] * gxn[i];
                    }

                    zeta = gu;
                    nu = zetaN * _g[Iu, Iz] + nuN * _g[Iu, Iv];
                    czm += zetaN * al[t];
                    czu += zetaN * ga[t];
                    cvm += nuN * al[t];
                    cvu += nuN * ga[t];
                }

                double mga = zeta * _g[Im, Iz] + nu * _g[Im, Iv];
                for (int i = 0; i < n; i++)
                {
                    double s = t >= 1 ? 2 * w[i] * (x[t * n + i] - targets[(b * (T + 1) + t) * n + i]) * invBT : 0;
                    for (int k = 0; k < n; k++)
                    {
                        s += A[k * n + i] * gxn[k];
                    }

                    gx[i] = s + C[i] * mga;
                }

                Array.Copy(gx, gxn, n);
                zetaN = zeta;
                nuN = nu;
            }
        }

        if (!update)
        {
            return loss;
        }

        double kz = czm * _g[Im, Iv] + czu * _g[Iu, Iv], kv = cvm * _g[Im, Iv] + cvu * _g[Iu, Iv];
        double lm = czm * _g[Iz, Iu] + cvm * _g[Iv, Iu], lu = czu * _g[Iz, Iu] + cvu * _g[Iv, Iu];
        double scale = 1;
        if (clip > 0)
        {
            double nu2 = kz * kz * _g[Iz, Iz] + 2 * kz * kv * _g[Iz, Iv] + kv * kv * _g[Iv, Iv];
            double nv2 = lm * lm * _g[Im, Im] + 2 * lm * lu * _g[Im, Iu] + lu * lu * _g[Iu, Iu];
            double norm = Math.Sqrt(nu2 + nv2);
            if (norm > clip)
            {
                scale = clip / norm;
            }
        }

        double e = lr * scale;
        var k4 = new double[4, 4];
        k4[Im, Im] = 1;
        k4[Iz, Iz] = 1;
        k4[Iu, Iu] = 1;
        k4[Iz, Iu] = -e * kz;
        k4[Iv, Iu] = -e * kv;
        k4[Iv, Iv] = 1;
        k4[Im, Iv] = -e * lm;
        k4[Iu, Iv] = -e * lu;
        var ng = new double[4, 4];
        for (int a = 0; a < 4; a++)
        {
            for (int c = 0; c < 4; c++)
            {
                double s = 0;
                for (int i = 0; i < 4; i++)
                {
                    for (int j = 0; j < 4; j++)
                    {
                        s += k4[i, a] * _g[i, j] * k4[j, c];
                    }
                }

                ng[a, c] = s;
            }
        }

        Array.Copy(ng, _g, 16);
        return loss;
    }

    /// <summary>The scalar input y_t the task shows the agent (the reduced model has one input: no reference).</summary>
    private double Obs(double[] x, double[] targets, int b, int t, int T)
    {
        int n = _plant.N;
        Span<double> y = stackalloc double[1];
        _task.Observe(_plant, x.AsSpan(t * n, n), targets.AsSpan((b * (T + 1) + t) * n, n), y);
        return y[0];
    }
}
