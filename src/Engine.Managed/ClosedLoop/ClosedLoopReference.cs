namespace Engine.ClosedLoop;

/// <summary>
/// The float64 oracle: closed-loop BPTT through agent and plant, and the open-loop imitation loss, in plain loops
/// written for reading. The fast path (<see cref="AgentWorkspace"/>) is checked against it.
/// </summary>
/// <remarks>
/// Closed loop, per trial b (all vectors float64):
/// <code>
/// y_0 = C (x_0 − o_0), h_0 = φ(m y_0)
/// u_t = zᵀ h_t,  x_{t+1} = A x_t + B u_t,  y_{t+1} = C (x_{t+1} − o_{t+1}),  h_{t+1} = φ(W h_t + m y_{t+1})
/// L = (1/(B T)) Σ_{t=1..T} (x_t − x*_t)ᵀ diag(w) (x_t − x*_t) + (β/B) Σ_{t=0..T−1} ‖u_t‖²
/// </code>
/// with o = x* when the task observes the error, else 0. The adjoints run from t = T down to 0:
/// g_u,t = Bᵀ g_x,t+1 + 2β u_t / B, g_h,t = Wᵀ g_a,t+1 + z g_u,t, g_a,t = φ′(a_t) ⊙ g_h,t,
/// g_x,t = 2 diag(w)(x_t − x*_t)/(B T) + Aᵀ g_x,t+1 + Cᵀ mᵀ g_a,t; then ∂L/∂W = Σ_t g_a,t+1 h_tᵀ,
/// ∂L/∂m = Σ_t g_a,t y_tᵀ, ∂L/∂z = Σ_t h_t g_u,tᵀ. Gradients of every block are written (the optimiser masks
/// the ones that do not train); in the rank-one parametrisation the factor gradients G v and Gᵀ u are added too.
/// </remarks>
public static class ClosedLoopReference
{
    /// <summary>Closed-loop loss; when <paramref name="grad"/> is non-null it receives ∂L/∂θ (overwritten, layout length).</summary>
    public static double ClosedLoopLoss(Plant plant, ControlTask task, AgentActivation act, double beta, AgentLayout layout,
        double[] theta, int horizon, double[]? grad, bool rankOne = false)
    {
        int n = plant.N, p = plant.P, q = plant.Q, nh = layout.Hidden, bt = task.Trials, T = horizon;
        var targets = new double[bt * (T + 1) * n];
        task.FillTargets(T, targets);
        double loss = 0;
        if (grad is not null)
        {
            Array.Clear(grad);
        }

        for (int b = 0; b < bt; b++)
        {
            var x = new double[T + 1, n];
            var y = new double[T + 1, q];
            var a = new double[T + 1, nh];
            var h = new double[T + 1, nh];
            var u = new double[T + 1, p];
            for (int i = 0; i < n; i++)
            {
                x[0, i] = task.InitialStates[b * n + i];
            }

            Observe(plant, task, targets, b, 0, T, x, y);
            for (int i = 0; i < nh; i++)
            {
                double s = 0;
                for (int k = 0; k < q; k++)
                {
                    s += theta[layout.MOffset + i * q + k] * y[0, k];
                }

                a[0, i] = s;
                h[0, i] = Phi(act, s);
            }

            for (int t = 0; t < T; t++)
            {
                for (int j = 0; j < p; j++)
                {
                    double s = 0;
                    for (int i = 0; i < nh; i++)
                    {
                        s += theta[layout.ZOffset + i * p + j] * h[t, i];
                    }

                    u[t, j] = s;
                    loss += beta / bt * s * s;
                }

                for (int i = 0; i < n; i++)
                {
                    double s = 0;
                    for (int k = 0; k < n; k++)
                    {
                        s += plant.A[i * n + k] * x[t, k];
                    }

                    for (int j = 0; j < p; j++)
                    {
                        s += plant.B[i * p + j] * u[t, j];
                    }

                    x[t + 1, i] = s;
                }

                Observe(plant, task, targets, b, t + 1, T, x, y);
                for (int i = 0; i < nh; i++)
                {
                    double s = 0;
                    for (int k = 0; k < nh; k++)
                    {
                        s += theta[i * nh + k] * h[t, k];
                    }

                    for (int k = 0; k < q; k++)
                    {
                        s += theta[layout.MOffset + i * q + k] * y[t + 1, k];
                    }

                    a[t + 1, i] = s;
                    h[t + 1, i] = Phi(act, s);
                }

                for (int i = 0; i < n; i++)
                {
                    double d = x[t + 1, i] - targets[(b * (T + 1) + t + 1) * n + i];
                    loss += task.StateWeights[i] * d * d / (bt * (double)T);
                }
            }

            if (grad is null)
            {
                continue;
            }

            var gxNext = new double[n];
            var gaNext = new double[nh];
            for (int t = T; t >= 0; t--)
            {
                var gu = new double[p];
                var gh = new double[nh];
                if (t < T)
                {
                    for (int j = 0; j < p; j++)
                    {
                        double s = 2 * beta / bt * u[t, j];
                        for (int i = 0; i < n; i++)
                        {
                            s += plant.B[i * p + j] * gxNext[i];
                        }

                        gu[j] = s;
                    }

                    CarryToHidden(layout, theta, gaNext, gu, gh);
                }

                var ga = new double[nh];
                for (int i = 0; i < nh; i++)
                {
                    ga[i] = PhiPrime(act, h[t, i]) * gh[i];
                }

                var mtga = new double[q];
                for (int k = 0; k < q; k++)
                {
                    double s = 0;
                    for (int i = 0; i < nh; i++)
                    {
                        s += theta[layout.MOffset + i * q + k] * ga[i];
                    }

                    mtga[k] = s;
                }

                var gx = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double s = t >= 1 ? 2 * task.StateWeights[i] * (x[t, i] - targets[(b * (T + 1) + t) * n + i]) / (bt * (double)T) : 0;
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

                if (t < T)
                {
                    for (int i = 0; i < nh; i++)
                    {
                        for (int k = 0; k < nh; k++)
                        {
                            grad[i * nh + k] += gaNext[i] * h[t, k];
                        }

                        for (int j = 0; j < p; j++)
                        {
                            grad[layout.ZOffset + i * p + j] += h[t, i] * gu[j];
                        }
                    }
                }

                for (int i = 0; i < nh; i++)
                {
                    for (int k = 0; k < q; k++)
                    {
                        grad[layout.MOffset + i * q + k] += ga[i] * y[t, k];
                    }
                }

                gxNext = gx;
                gaNext = ga;
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
    /// h_0 = φ(m y_0), h_{t+1} = φ(W h_t + m y_{t+1}), û_t = zᵀ h_t, L = (1/(B T)) Σ_{b,t} ‖û_t − u*_t‖².
    /// </remarks>
    public static double OpenLoopLoss(AgentActivation act, AgentLayout layout, double[] theta, int trials, int horizon,
        double[] ys, double[] us, double[]? grad, bool rankOne = false)
    {
        int nh = layout.Hidden, q = layout.Observations, p = layout.Controls, T = horizon;
        double loss = 0;
        if (grad is not null)
        {
            Array.Clear(grad);
        }

        for (int b = 0; b < trials; b++)
        {
            var h = new double[T + 1, nh];
            var uh = new double[T, p];
            for (int t = 0; t <= T; t++)
            {
                for (int i = 0; i < nh; i++)
                {
                    double s = 0;
                    if (t > 0)
                    {
                        for (int k = 0; k < nh; k++)
                        {
                            s += theta[i * nh + k] * h[t - 1, k];
                        }
                    }

                    for (int k = 0; k < q; k++)
                    {
                        s += theta[layout.MOffset + i * q + k] * ys[(b * (T + 1) + t) * q + k];
                    }

                    h[t, i] = Phi(act, s);
                }

                if (t < T)
                {
                    for (int j = 0; j < p; j++)
                    {
                        double s = 0;
                        for (int i = 0; i < nh; i++)
                        {
                            s += theta[layout.ZOffset + i * p + j] * h[t, i];
                        }

                        uh[t, j] = s;
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
            for (int t = T; t >= 0; t--)
            {
                var gu = new double[p];
                var gh = new double[nh];
                if (t < T)
                {
                    for (int j = 0; j < p; j++)
                    {
                        gu[j] = 2 * (uh[t, j] - us[(b * T + t) * p + j]) / (trials * (double)T);
                    }

                    CarryToHidden(layout, theta, gaNext, gu, gh);

                    for (int i = 0; i < nh; i++)
                    {
                        for (int k = 0; k < nh; k++)
                        {
                            grad[i * nh + k] += gaNext[i] * h[t, k];
                        }

                        for (int j = 0; j < p; j++)
                        {
                            grad[layout.ZOffset + i * p + j] += h[t, i] * gu[j];
                        }
                    }
                }

                var ga = new double[nh];
                for (int i = 0; i < nh; i++)
                {
                    ga[i] = PhiPrime(act, h[t, i]) * gh[i];
                    for (int k = 0; k < q; k++)
                    {
                        grad[layout.MOffset + i * q + k] += ga[i] * ys[(b * (T + 1) + t) * q + k];
                    }
                }

                gaNext = ga;
            }
        }

        if (grad is not null && rankOne)
        {
            layout.FactorGradients(theta, grad);
        }

        return loss;
    }

    /// <summary>A closed-loop rollout: states B×(T+1)×n, observations B×(T+1)×q and controls B×T×p.</summary>
    public static (double[] X, double[] Y, double[] U) Rollout(Plant plant, ControlTask task, AgentActivation act,
        AgentLayout layout, double[] theta, int horizon)
    {
        int n = plant.N, p = plant.P, q = plant.Q, nh = layout.Hidden, bt = task.Trials, T = horizon;
        var targets = new double[bt * (T + 1) * n];
        task.FillTargets(T, targets);
        var xs = new double[bt * (T + 1) * n];
        var ys = new double[bt * (T + 1) * q];
        var us = new double[bt * T * p];
        for (int b = 0; b < bt; b++)
        {
            var x = new double[T + 1, n];
            var y = new double[T + 1, q];
            var h = new double[nh];
            for (int i = 0; i < n; i++)
            {
                x[0, i] = task.InitialStates[b * n + i];
            }

            Observe(plant, task, targets, b, 0, T, x, y);
            for (int i = 0; i < nh; i++)
            {
                double s = 0;
                for (int k = 0; k < q; k++)
                {
                    s += theta[layout.MOffset + i * q + k] * y[0, k];
                }

                h[i] = Phi(act, s);
            }

            for (int t = 0; t < T; t++)
            {
                var uu = new double[p];
                for (int j = 0; j < p; j++)
                {
                    for (int i = 0; i < nh; i++)
                    {
                        uu[j] += theta[layout.ZOffset + i * p + j] * h[i];
                    }

                    us[(b * T + t) * p + j] = uu[j];
                }

                for (int i = 0; i < n; i++)
                {
                    double s = 0;
                    for (int k = 0; k < n; k++)
                    {
                        s += plant.A[i * n + k] * x[t, k];
                    }

                    for (int j = 0; j < p; j++)
                    {
                        s += plant.B[i * p + j] * uu[j];
                    }

                    x[t + 1, i] = s;
                }

                Observe(plant, task, targets, b, t + 1, T, x, y);
                var hn = new double[nh];
                for (int i = 0; i < nh; i++)
                {
                    double s = 0;
                    for (int k = 0; k < nh; k++)
                    {
                        s += theta[i * nh + k] * h[k];
                    }

                    for (int k = 0; k < q; k++)
                    {
                        s += theta[layout.MOffset + i * q + k] * y[t + 1, k];
                    }

                    hn[i] = Phi(act, s);
                }

                h = hn;
            }

            for (int t = 0; t <= T; t++)
            {
                for (int i = 0; i < n; i++)
                {
                    xs[(b * (T + 1) + t) * n + i] = x[t, i];
                }

                for (int k = 0; k < q; k++)
                {
                    ys[(b * (T + 1) + t) * q + k] = y[t, k];
                }
            }
        }

        return (xs, ys, us);
    }

    /// <summary>A frozen agent's open-loop outputs û (B×T×p) on inputs <paramref name="ys"/> (B×(T+1)×q).</summary>
    public static double[] OpenLoopOutputs(AgentActivation act, AgentLayout layout, double[] theta, int trials, int horizon, double[] ys)
    {
        int nh = layout.Hidden, q = layout.Observations, p = layout.Controls, T = horizon;
        var us = new double[trials * T * p];
        var h = new double[nh];
        var hn = new double[nh];
        for (int b = 0; b < trials; b++)
        {
            for (int t = 0; t < T; t++)
            {
                for (int i = 0; i < nh; i++)
                {
                    double s = 0;
                    if (t > 0)
                    {
                        for (int k = 0; k < nh; k++)
                        {
                            s += theta[i * nh + k] * h[k];
                        }
                    }

                    for (int k = 0; k < q; k++)
                    {
                        s += theta[layout.MOffset + i * q + k] * ys[(b * (T + 1) + t) * q + k];
                    }

                    hn[i] = Phi(act, s);
                }

                (h, hn) = (hn, h);
                for (int j = 0; j < p; j++)
                {
                    double s = 0;
                    for (int i = 0; i < nh; i++)
                    {
                        s += theta[layout.ZOffset + i * p + j] * h[i];
                    }

                    us[(b * T + t) * p + j] = s;
                }
            }
        }

        return us;
    }

    internal static double Phi(AgentActivation act, double a) => act == AgentActivation.Tanh ? Math.Tanh(a) : a;

    /// <summary>φ′ written in terms of φ's output h (tanh: 1 − h²).</summary>
    internal static double PhiPrime(AgentActivation act, double h) => act == AgentActivation.Tanh ? 1 - h * h : 1;

    /// <summary>
    /// The gradient reaching h_t from the next step's pre-activation and this step's control:
    /// g_h = Wᵀ g_a(t+1) + z g_u(t), with W [N×N] and z [N×P] read from <paramref name="theta"/>.
    /// </summary>
    private static void CarryToHidden(AgentLayout layout, double[] theta, double[] gaNext, double[] gu, double[] gh)
    {
        int nh = gh.Length, p = gu.Length;
        for (int k = 0; k < nh; k++)
        {
            double s = 0;
            for (int i = 0; i < nh; i++)
            {
                s += theta[i * nh + k] * gaNext[i];
            }

            for (int j = 0; j < p; j++)
            {
                s += theta[layout.ZOffset + k * p + j] * gu[j];
            }

            gh[k] = s;
        }
    }

    private static void Observe(Plant plant, ControlTask task, double[] targets, int b, int t, int T, double[,] x, double[,] y)
    {
        int n = plant.N;
        for (int k = 0; k < plant.Q; k++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                double off = task.ObserveError ? targets[(b * (T + 1) + t) * n + i] : 0;
                s += plant.C[k * n + i] * (x[t, i] - off);
            }

            y[t, k] = s;
        }
    }
}
