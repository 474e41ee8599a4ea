using Engine.Kernels;
using Engine.Model;

namespace Engine.Tasks.Control;

/// <summary>
/// The agent's forward dynamics through a plant in float64 plain loops: one agent step, closed-loop rollouts and open-loop
/// outputs. The closed-loop losses and gradients of every backend are checked against the reference built on these.
/// </summary>
/// <remarks>
/// Per trial b (α the leak, 1 for the discrete agent; h_{−1} = 0): y_t = [C (x_t − o_t); C x*_t] (the second block only when
/// the task observes the reference; o = x* when it observes the error, else 0), a_t = W h_{t−1} + m y_t, r_t = φ(a_t),
/// h_t = (1 − α) h_{t−1} + α r_t, u_t = zᵀ h_t, x_{t+1} = A x_t + B u_t.
/// </remarks>
public static class AgentDynamics
{
    /// <summary>A closed-loop rollout: states B×(T+1)×n, agent inputs B×(T+1)×q (q = the layout's inputs) and controls B×T×p.</summary>
    public static (double[] X, double[] Y, double[] U) Rollout(Plant plant, ControlTask task, ActivationKind act,
        ParameterLayout layout, double[] theta, int horizon, double leak = 1.0)
    {
        int n = plant.N, p = plant.P, qa = layout.Observations, nh = layout.Hidden, bt = task.Trials, T = horizon;
        CheckInputs(plant, task, layout);
        var targets = new double[bt * (T + 1) * n];
        task.FillTargets(T, targets);
        var xs = new double[bt * (T + 1) * n];
        var ys = new double[bt * (T + 1) * qa];
        var us = new double[bt * T * p];
        var r = new double[nh];
        var h = new double[nh];
        var hn = new double[nh];
        for (int b = 0; b < bt; b++)
        {
            var x = xs.AsSpan(b * (T + 1) * n, (T + 1) * n);
            task.InitialStates.AsSpan(b * n, n).CopyTo(x);
            for (int t = 0; t <= T; t++)
            {
                var xt = x.Slice(t * n, n);
                if (t > 0)
                {
                    var xp = x.Slice((t - 1) * n, n);
                    for (int i = 0; i < n; i++)
                    {
                        double s = 0;
                        for (int k = 0; k < n; k++)
                        {
                            s += plant.A[i * n + k] * xp[k];
                        }

                        for (int j = 0; j < p; j++)
                        {
                            s += plant.B[i * p + j] * us[(b * T + t - 1) * p + j];
                        }

                        xt[i] = s;
                    }
                }

                var yt = ys.AsSpan((b * (T + 1) + t) * qa, qa);
                task.Observe(plant, xt, targets.AsSpan((b * (T + 1) + t) * n, n), yt);
                Step(layout, act, leak, theta, t > 0 ? h : null, yt, r, hn);
                (h, hn) = (hn, h);
                if (t < T)
                {
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
        }

        return (xs, ys, us);
    }

    /// <summary>A frozen agent's open-loop outputs û (B×T×p) on inputs <paramref name="ys"/> (B×(T+1)×q).</summary>
    public static double[] OpenLoopOutputs(ActivationKind act, ParameterLayout layout, double[] theta, int trials, int horizon, double[] ys,
        double leak = 1.0)
    {
        int nh = layout.Hidden, q = layout.Observations, p = layout.Controls, T = horizon;
        var us = new double[trials * T * p];
        var r = new double[nh];
        var h = new double[nh];
        var hn = new double[nh];
        for (int b = 0; b < trials; b++)
        {
            for (int t = 0; t < T; t++)
            {
                Step(layout, act, leak, theta, t > 0 ? h : null, ys.AsSpan((b * (T + 1) + t) * q, q), r, hn);
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

    /// <summary>Checks that the layout's input count is what the task shows the agent for this plant.</summary>
    public static void CheckInputs(Plant plant, ControlTask task, ParameterLayout layout)
    {
        int qa = task.AgentInputs(plant);
        if (layout.Observations != qa)
        {
            throw new ArgumentException($"the agent has {layout.Observations} inputs, task '{task.Name}' on plant '{plant.Name}' gives {qa} " +
                $"(q = {plant.Q}{(task.ObserveReference ? ", twice with the reference" : "")}).", nameof(layout));
        }
    }

    /// <summary>One agent step: a = W h_prev + m y (no W term without h_prev), r = φ(a), h = (1 − α) h_prev + α r.</summary>
    public static void Step(ParameterLayout layout, ActivationKind act, double leak, double[] theta, double[]? hPrev,
        ReadOnlySpan<double> y, double[] r, double[] h)
    {
        int nh = layout.Hidden, q = layout.Observations;
        for (int i = 0; i < nh; i++)
        {
            double s = 0;
            if (hPrev is not null)
            {
                for (int k = 0; k < nh; k++)
                {
                    s += theta[i * nh + k] * hPrev[k];
                }
            }

            for (int k = 0; k < q; k++)
            {
                s += theta[layout.MOffset + i * q + k] * y[k];
            }

            r[i] = ActivationCode.Apply((int)act, s);
            h[i] = (hPrev is null ? 0 : (1 - leak) * hPrev[i]) + leak * r[i];
        }
    }
}
