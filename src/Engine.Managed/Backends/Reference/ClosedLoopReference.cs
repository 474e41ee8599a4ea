using Engine.Backends.Cpu;
using Engine.Kernels;
using Engine.Model;
using Engine.Tasks.Control;

namespace Engine.Backends.Reference;

/// <summary>
/// The float64 oracle: closed-loop BPTT through agent and plant, and the open-loop imitation loss, in plain loops
/// written for reading. The fast path (<see cref="AgentWorkspace"/>) is checked against it.
/// </summary>
/// <remarks>
/// Closed loop, per trial b (all vectors float64; α the leak, 1 for the discrete agent; h_{−1} = 0):
/// <code>
/// y_t = [C (x_t − o_t); C x*_t]   (the second block only when the task observes the reference)
/// a_t = W h_{t−1} + m y_t,  r_t = φ(a_t),  h_t = (1 − α) h_{t−1} + α r_t
/// u_t = zᵀ h_t,  x_{t+1} = A x_t + B u_t
/// L = (1/(B T)) Σ_{t=1..T} (x_t − x*_t)ᵀ diag(w) (x_t − x*_t) + (β/B) Σ_{t=0..T−1} ‖u_t‖²
/// </code>
/// with o = x* when the task observes the error, else 0. The adjoints run from t = T down to 0:
/// g_u,t = Bᵀ g_x,t+1 + 2β u_t / B, g_h,t = z g_u,t + (1 − α) g_h,t+1 + Wᵀ g_a,t+1, g_a,t = α φ′(a_t) ⊙ g_h,t,
/// g_x,t = 2 diag(w)(x_t − x*_t)/(B T) + Aᵀ g_x,t+1 + Cᵀ m_xᵀ g_a,t (m_x: the columns of m that see the state);
/// then ∂L/∂W = Σ_t g_a,t+1 h_tᵀ, ∂L/∂m = Σ_t g_a,t y_tᵀ, ∂L/∂z = Σ_t h_t g_u,tᵀ. Gradients of every block are
/// written (the optimiser masks the ones that do not train); in the rank-one parametrisation the factor gradients
/// G v and Gᵀ u are added too.
/// </remarks>
public static class ClosedLoopReference
{
    /// <summary>Closed-loop loss; when <paramref name="grad"/> is non-null it receives ∂L/∂θ (overwritten, layout length).</summary>
    public static double ClosedLoopLoss(Plant plant, ControlTask task, ActivationKind act, double beta, ParameterLayout layout,
        double[] theta, int horizon, double[]? grad, bool rankOne = false, double leak = 1.0)
    {
        int n = plant.N, p = plant.P, q = plant.Q, qa = layout.Observations, nh = layout.Hidden, bt = task.Trials, T = horizon;
        AgentDynamics.CheckInputs(plant, task, layout);
        var targets = new double[bt * (T + 1) * n];
        task.FillTargets(T, targets);
        double loss = 0;
        if (grad is not null)
        {
            Array.Clear(grad);
        }

        for (int b = 0; b < bt; b++)
        {
            var x = Rows(T + 1, n);
            var y = Rows(T + 1, qa);
            var r = Rows(T + 1, nh);
            var h = Rows(T + 1, nh);
            var u = Rows(T + 1, p);
            task.InitialStates.AsSpan(b * n, n).CopyTo(x[0]);
            task.Observe(plant, x[0], targets.AsSpan(b * (T + 1) * n, n), y[0]);
            AgentDynamics.Step(layout, act, leak, theta, null, y[0], r[0], h[0]);
            for (int t = 0; t < T; t++)
            {
                for (int j = 0; j < p; j++)
                {
                    double s = 0;
                    for (int i = 0; i < nh; i++)
                    {
                        s += theta[layout.ZOffset + i * p + j] * h[t][i];
                    }

                    u[t][j] = s;
                    loss += beta / bt * s * s;
                }

                for (int i = 0; i < n; i++)
                {
                    double s = 0;
                    for (int k = 0; k < n; k++)
                    {
                        s += plant.A[i * n + k] * x[t][k];
                    }

                    for (int j = 0; j < p; j++)
                    {
                        s += plant.B[i * p + j] * u[t][j];
                    }

                    x[t + 1][i] = s;
                }

                var target = targets.AsSpan((b * (T + 1) + t + 1) * n, n);
                task.Observe(plant, x[t + 1], target, y[t + 1]);
                AgentDynamics.Step(layout, act, leak, theta, h[t], y[t + 1], r[t + 1], h[t + 1]);
                for (int i = 0; i < n; i++)
                {
                    double d = x[t + 1][i] - target[i];
                    loss += task.StateWeights[i] * d * d / (bt * (double)T);
                }
            }

            if (grad is null)
            {
                continue;
            }

            var gxNext = new double[n];
            var gaNext = new double[nh];
            var ghNext = new double[nh];
            for (int t = T; t >= 0; t--)
            {
                var gu = new double[p];
                if (t < T)
                {
                    for (int j = 0; j < p; j++)
                    {
                        double s = 2 * beta / bt * u[t][j];
                        for (int i = 0; i < n; i++)
                        {
                            s += plant.B[i * p + j] * gxNext[i];
                        }

                        gu[j] = s;
                    }
                }

                var gh = new double[nh];
                var ga = new double[nh];
                HiddenAdjoint(layout, act, leak, theta, t < T, ghNext, gaNext, gu, r[t], gh, ga);
                var mtga = new double[q];
                for (int k = 0; k < q; k++)
                {
                    double s = 0;
                    for (int i = 0; i < nh; i++)
                    {
                        s += theta[layout.MOffset + i * qa + k] * ga[i];
                    }

                    mtga[k] = s;
                }

                var gx = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double s = t >= 1 ? 2 * task.StateWeights[i] * (x[t][i] - targets[(b * (T + 1) + t) * n + i]) / (bt * (double)T) : 0;
                    for (int k = 0; k < n; k++)
                    {
                        s += plant.A[k * n + i] * gxNext[k];
                    }

                    for (int k = 0; k < q; k++)
                    {
                        s += plant.C[k * n + i] * mtga[k];
                    }

                    gx[i] = s;
                }

                AccumulateGradients(layout, grad, t < T, gaNext, h[t], gu, ga, y[t]);
                gxNext = gx;
                gaNext = ga;
                ghNext = gh;
            }
        }

        if (grad is not null && rankOne)
        {
            layout.FactorGradients(theta, grad);
        }

        return loss;
    }

    /// <summary>Open-loop imitation loss on given inputs; <paramref name="grad"/> (if non-null) receives ∂L/∂θ.</summary>
    /// <remarks>
    /// Inputs <paramref name="ys"/> are B×(T+1)×q (y_0 … y_T), targets <paramref name="us"/> B×T×p (u*_0 … u*_{T−1}).
    /// The agent runs as in the closed loop (a_t = W h_{t−1} + m y_t, h_t = (1 − α) h_{t−1} + α φ(a_t)), û_t = zᵀ h_t,
    /// L = (1/(B T)) Σ_{b,t} ‖û_t − u*_t‖².
    /// </remarks>
    public static double OpenLoopLoss(ActivationKind act, ParameterLayout layout, double[] theta, int trials, int horizon,
        double[] ys, double[] us, double[]? grad, bool rankOne = false, double leak = 1.0)
    {
        int nh = layout.Hidden, q = layout.Observations, p = layout.Controls, T = horizon;
        double loss = 0;
        if (grad is not null)
        {
            Array.Clear(grad);
        }

        for (int b = 0; b < trials; b++)
        {
            var r = Rows(T + 1, nh);
            var h = Rows(T + 1, nh);
            var uh = Rows(T, p);
            for (int t = 0; t <= T; t++)
            {
                AgentDynamics.Step(layout, act, leak, theta, t > 0 ? h[t - 1] : null, ys.AsSpan((b * (T + 1) + t) * q, q), r[t], h[t]);
                if (t < T)
                {
                    for (int j = 0; j < p; j++)
                    {
                        double s = 0;
                        for (int i = 0; i < nh; i++)
                        {
                            s += theta[layout.ZOffset + i * p + j] * h[t][i];
                        }

                        uh[t][j] = s;
                        double d = s - us[(b * T + t) * p + j];
                        loss += d * d / (trials * (double)T);
                    }
                }
            }

            if (grad is null)
            {
                continue;
            }

            var gaNext = new double[nh];
            var ghNext = new double[nh];
            for (int t = T; t >= 0; t--)
            {
                var gu = new double[p];
                if (t < T)
                {
                    for (int j = 0; j < p; j++)
                    {
                        gu[j] = 2 * (uh[t][j] - us[(b * T + t) * p + j]) / (trials * (double)T);
                    }
                }

                var gh = new double[nh];
                var ga = new double[nh];
                HiddenAdjoint(layout, act, leak, theta, t < T, ghNext, gaNext, gu, r[t], gh, ga);
                AccumulateGradients(layout, grad, t < T, gaNext, h[t], gu, ga, ys.AsSpan((b * (T + 1) + t) * q, q));
                gaNext = ga;
                ghNext = gh;
            }
        }

        if (grad is not null && rankOne)
        {
            layout.FactorGradients(theta, grad);
        }

        return loss;
    }

    /// <summary>φ′ written in terms of φ's output r = φ(a) (tanh: 1 − r²).</summary>
    internal static double PhiPrime(ActivationKind act, double r) => ActivationCode.DerivativeFromOutput((int)act, r);

    private static double[][] Rows(int rows, int cols) => Enumerable.Range(0, rows).Select(_ => new double[cols]).ToArray();

    /// <summary>
    /// The gradient reaching h_t and a_t: g_h = z g_u + (1 − α) g_h,t+1 + Wᵀ g_a,t+1 (the last two only when
    /// <paramref name="hasNext"/>), g_a = α φ′(a_t) ⊙ g_h, with W [N×N] and z [N×P] read from <paramref name="theta"/>.
    /// </summary>
    private static void HiddenAdjoint(ParameterLayout layout, ActivationKind act, double leak, double[] theta, bool hasNext,
        double[] ghNext, double[] gaNext, double[] gu, double[] r, double[] gh, double[] ga)
    {
        int nh = gh.Length, p = gu.Length;
        for (int k = 0; k < nh; k++)
        {
            double s = 0;
            if (hasNext)
            {
                s = (1 - leak) * ghNext[k];
                for (int i = 0; i < nh; i++)
                {
                    s += theta[i * nh + k] * gaNext[i];
                }

                for (int j = 0; j < p; j++)
                {
                    s += theta[layout.ZOffset + k * p + j] * gu[j];
                }
            }

            gh[k] = s;
            ga[k] = leak * PhiPrime(act, r[k]) * s;
        }
    }

    /// <summary>Adds step t's terms: ∂W += g_a,t+1 h_tᵀ and ∂z += h_t g_u,tᵀ (when <paramref name="hasNext"/>), ∂m += g_a,t y_tᵀ.</summary>
    private static void AccumulateGradients(ParameterLayout layout, double[]? grad, bool hasNext, double[] gaNext, double[] h,
        double[] gu, double[] ga, ReadOnlySpan<double> y)
    {
        if (grad is null)
        {
            return;
        }

        int nh = layout.Hidden, p = layout.Controls, q = layout.Observations;
        for (int i = 0; i < nh; i++)
        {
            if (hasNext)
            {
                for (int k = 0; k < nh; k++)
                {
                    grad[i * nh + k] += gaNext[i] * h[k];
                }

                for (int j = 0; j < p; j++)
                {
                    grad[layout.ZOffset + i * p + j] += h[i] * gu[j];
                }
            }

            for (int k = 0; k < q; k++)
            {
                grad[layout.MOffset + i * q + k] += ga[i] * y[k];
            }
        }
    }
}
