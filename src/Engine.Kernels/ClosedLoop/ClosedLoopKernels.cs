using ILGPU;

namespace Engine.Kernels.ClosedLoop;

/// <summary>Arguments of the closed-loop kernels: E agents, each run on the same B trials through one linear plant.</summary>
/// <remarks>
/// Agent e's parameters are Theta[e·L ..]: W (N×N) at 0, m (N×q_a) at <see cref="MOffset"/>, z (N×p) at
/// <see cref="ZOffset"/>, row-major. Plant A (n×n), B (n×p), C (q×n); task: initial states X0 [B][n], targets
/// [B][T+1][n], state weights [n]. Trajectories, per (e, b) slot s = e·B + b: X [s][T+1][n], Y [s][T+1][q_a],
/// R = φ(a) and H [s][T+1][N], U and GU [s][T+1][p], GA and GH [s][T+1][N], GX [s][T+2][n] (row T+1 stays 0).
/// Losses [s] are partial sums per slot; gradients [E][L] (W, m, z parts). <see cref="Step"/> is the time step a
/// per-step kernel works on.
/// </remarks>
public readonly struct ClosedLoopArgs
{
    /// <summary>Creates the pack.</summary>
    public ClosedLoopArgs(int agents, int trials, int horizon, int hidden, int states, int controls, int observed, int inputs,
        int layoutLength, int mOffset, int zOffset, int activation, double leak, double beta, int observeError, int observeReference, int step,
        ArrayView<double> theta, ArrayView<double> plantA, ArrayView<double> plantB, ArrayView<double> plantC, ArrayView<double> initial,
        ArrayView<double> targets, ArrayView<double> weights, ArrayView<double> x, ArrayView<double> y, ArrayView<double> r, ArrayView<double> h,
        ArrayView<double> u, ArrayView<double> losses, ArrayView<double> ga, ArrayView<double> gh, ArrayView<double> gu, ArrayView<double> gx,
        ArrayView<double> gradients)
    {
        Agents = agents;
        Trials = trials;
        Horizon = horizon;
        Hidden = hidden;
        States = states;
        Controls = controls;
        Observed = observed;
        Inputs = inputs;
        LayoutLength = layoutLength;
        MOffset = mOffset;
        ZOffset = zOffset;
        Activation = activation;
        Leak = leak;
        Beta = beta;
        ObserveError = observeError;
        ObserveReference = observeReference;
        Step = step;
        Theta = theta;
        PlantA = plantA;
        PlantB = plantB;
        PlantC = plantC;
        Initial = initial;
        Targets = targets;
        Weights = weights;
        X = x;
        Y = y;
        R = r;
        H = h;
        U = u;
        Losses = losses;
        GA = ga;
        GH = gh;
        GU = gu;
        GX = gx;
        Gradients = gradients;
    }

    /// <summary>E.</summary>
    public int Agents { get; }

    /// <summary>B.</summary>
    public int Trials { get; }

    /// <summary>T.</summary>
    public int Horizon { get; }

    /// <summary>N.</summary>
    public int Hidden { get; }

    /// <summary>n.</summary>
    public int States { get; }

    /// <summary>p.</summary>
    public int Controls { get; }

    /// <summary>q, the plant's observations.</summary>
    public int Observed { get; }

    /// <summary>q_a, the agent's inputs (q, or 2q with the reference).</summary>
    public int Inputs { get; }

    /// <summary>L, one agent's parameter block.</summary>
    public int LayoutLength { get; }

    /// <summary>Offset of m in the block.</summary>
    public int MOffset { get; }

    /// <summary>Offset of z in the block.</summary>
    public int ZOffset { get; }

    /// <summary>φ as an <see cref="ActivationCode"/>.</summary>
    public int Activation { get; }

    /// <summary>α.</summary>
    public double Leak { get; }

    /// <summary>β.</summary>
    public double Beta { get; }

    /// <summary>1 when the agent sees C (x − x*).</summary>
    public int ObserveError { get; }

    /// <summary>1 when the agent also sees C x*.</summary>
    public int ObserveReference { get; }

    /// <summary>t.</summary>
    public int Step { get; }

    /// <summary>[E][L].</summary>
    public ArrayView<double> Theta { get; }

    /// <summary>A [n×n].</summary>
    public ArrayView<double> PlantA { get; }

    /// <summary>B [n×p].</summary>
    public ArrayView<double> PlantB { get; }

    /// <summary>C [q×n].</summary>
    public ArrayView<double> PlantC { get; }

    /// <summary>x_0 [B][n].</summary>
    public ArrayView<double> Initial { get; }

    /// <summary>x* [B][T+1][n].</summary>
    public ArrayView<double> Targets { get; }

    /// <summary>diag of the state weight [n].</summary>
    public ArrayView<double> Weights { get; }

    /// <summary>[E·B][T+1][n].</summary>
    public ArrayView<double> X { get; }

    /// <summary>[E·B][T+1][q_a].</summary>
    public ArrayView<double> Y { get; }

    /// <summary>φ(a_t) [E·B][T+1][N].</summary>
    public ArrayView<double> R { get; }

    /// <summary>h_t [E·B][T+1][N].</summary>
    public ArrayView<double> H { get; }

    /// <summary>u_t [E·B][T+1][p].</summary>
    public ArrayView<double> U { get; }

    /// <summary>Loss partials [E·B].</summary>
    public ArrayView<double> Losses { get; }

    /// <summary>g_a [E·B][T+1][N].</summary>
    public ArrayView<double> GA { get; }

    /// <summary>g_h [E·B][T+1][N].</summary>
    public ArrayView<double> GH { get; }

    /// <summary>g_u [E·B][T+1][p].</summary>
    public ArrayView<double> GU { get; }

    /// <summary>g_x [E·B][T+2][n].</summary>
    public ArrayView<double> GX { get; }

    /// <summary>∂L/∂θ [E][L] (W, m, z).</summary>
    public ArrayView<double> Gradients { get; }
}

/// <summary>
/// Closed-loop BPTT through agent and plant for many agents at once, one launch per phase of each time step (the
/// sequence of <c>ClosedLoopReference.ClosedLoopLoss</c>, float64 throughout).
/// </summary>
/// <remarks>
/// Forward: <see cref="Start"/>, <see cref="Hidden"/> (t = 0), then for t = 0 … T−1 <see cref="Plant"/> (u_t,
/// x_{t+1}, y_{t+1}, loss) and <see cref="Hidden"/> (t+1). Backward, for t = T … 0: <see cref="ControlAdjoint"/>,
/// <see cref="HiddenAdjoint"/>, <see cref="StateAdjoint"/>; then <see cref="Gradients"/>. Per-(agent, trial) work is
/// one thread; per-unit work is one thread per (agent, trial, unit).
/// </remarks>
public static class ClosedLoopKernels
{
    /// <summary>Thread per (e, b): x_0, y_0 and a zero loss partial.</summary>
    public static void Start(ClosedLoopArgs a)
    {
        int s = Grid.GlobalIndex.X;
        if (s >= a.Agents * a.Trials)
        {
            return;
        }

        int b = s % a.Trials, n = a.States;
        long xo = (long)s * (a.Horizon + 1) * n;
        for (int i = 0; i < n; i++)
        {
            a.X[xo + i] = a.Initial[b * n + i];
        }

        Observe(a, s, b, 0);
        a.Losses[s] = 0;
    }

    /// <summary>Thread per (e, b, i) at step t: a = W h_{t−1} + m y_t, r = φ(a), h_t = (1 − α) h_{t−1} + α r.</summary>
    public static void Hidden(ClosedLoopArgs a)
    {
        int idx = Grid.GlobalIndex.X, nh = a.Hidden;
        if (idx >= a.Agents * a.Trials * nh)
        {
            return;
        }

        int s = idx / nh, i = idx - s * nh, e = s / a.Trials, t = a.Step, qa = a.Inputs;
        long th = (long)e * a.LayoutLength, row = ((long)s * (a.Horizon + 1) + t) * nh;
        double sum = 0;
        if (t > 0)
        {
            long prev = row - nh;
            for (int k = 0; k < nh; k++)
            {
                sum += a.Theta[th + (long)i * nh + k] * a.H[prev + k];
            }
        }

        long yo = ((long)s * (a.Horizon + 1) + t) * qa;
        for (int c = 0; c < qa; c++)
        {
            sum += a.Theta[th + a.MOffset + (long)i * qa + c] * a.Y[yo + c];
        }

        double r = ActivationCode.ApplyOnDevice(a.Activation, sum);
        a.R[row + i] = r;
        a.H[row + i] = (t > 0 ? (1 - a.Leak) * a.H[row - nh + i] : 0) + a.Leak * r;
    }

    /// <summary>Thread per (e, b) at step t &lt; T: u_t = zᵀ h_t, x_{t+1} = A x_t + B u_t, y_{t+1}, and the loss terms.</summary>
    public static void Plant(ClosedLoopArgs a)
    {
        int s = Grid.GlobalIndex.X;
        if (s >= a.Agents * a.Trials)
        {
            return;
        }

        int b = s % a.Trials, e = s / a.Trials, t = a.Step, n = a.States, p = a.Controls, nh = a.Hidden, T1 = a.Horizon + 1;
        long th = (long)e * a.LayoutLength, ho = ((long)s * T1 + t) * nh, uo = ((long)s * T1 + t) * p, xo = ((long)s * T1 + t) * n;
        double loss = a.Losses[s];
        for (int j = 0; j < p; j++)
        {
            double u = 0;
            for (int i = 0; i < nh; i++)
            {
                u += a.Theta[th + a.ZOffset + (long)i * p + j] * a.H[ho + i];
            }

            a.U[uo + j] = u;
            loss += a.Beta / a.Trials * u * u;
        }

        long to = ((long)b * T1 + t + 1) * n;
        for (int i = 0; i < n; i++)
        {
            double v = 0;
            for (int k = 0; k < n; k++)
            {
                v += a.PlantA[i * n + k] * a.X[xo + k];
            }

            for (int j = 0; j < p; j++)
            {
                v += a.PlantB[i * p + j] * a.U[uo + j];
            }

            a.X[xo + n + i] = v;
            double d = v - a.Targets[to + i];
            loss += a.Weights[i] * d * d / (a.Trials * (double)a.Horizon);
        }

        a.Losses[s] = loss;
        Observe(a, s, b, t + 1);
    }

    /// <summary>Thread per (e, b) at step t: g_u,t = Bᵀ g_x,t+1 + 2β u_t / B (zero at t = T).</summary>
    public static void ControlAdjoint(ClosedLoopArgs a)
    {
        int s = Grid.GlobalIndex.X;
        if (s >= a.Agents * a.Trials)
        {
            return;
        }

        int t = a.Step, n = a.States, p = a.Controls, T1 = a.Horizon + 1;
        long uo = ((long)s * T1 + t) * p, gxNext = ((long)s * (T1 + 1) + t + 1) * n;
        for (int j = 0; j < p; j++)
        {
            double g = 0;
            if (t < a.Horizon)
            {
                g = 2 * a.Beta / a.Trials * a.U[uo + j];
                for (int i = 0; i < n; i++)
                {
                    g += a.PlantB[i * p + j] * a.GX[gxNext + i];
                }
            }

            a.GU[uo + j] = g;
        }
    }

    /// <summary>Thread per (e, b, k) at step t: g_h = Wᵀ g_a,t+1 + z g_u,t + (1 − α) g_h,t+1 (zero at t = T), g_a = α φ′ g_h.</summary>
    public static void HiddenAdjoint(ClosedLoopArgs a)
    {
        int idx = Grid.GlobalIndex.X, nh = a.Hidden;
        if (idx >= a.Agents * a.Trials * nh)
        {
            return;
        }

        int s = idx / nh, k = idx - s * nh, e = s / a.Trials, t = a.Step, p = a.Controls, T1 = a.Horizon + 1;
        long th = (long)e * a.LayoutLength, row = ((long)s * T1 + t) * nh;
        double g = 0;
        if (t < a.Horizon)
        {
            long next = row + nh;
            for (int i = 0; i < nh; i++)
            {
                g += a.Theta[th + (long)i * nh + k] * a.GA[next + i];
            }

            long uo = ((long)s * T1 + t) * p;
            for (int j = 0; j < p; j++)
            {
                g += a.Theta[th + a.ZOffset + (long)k * p + j] * a.GU[uo + j];
            }

            g += (1 - a.Leak) * a.GH[next + k];
        }

        a.GH[row + k] = g;
        double r = a.R[row + k];
        a.GA[row + k] = a.Leak * ActivationCode.DerivativeFromOutput(a.Activation, r) * g;
    }

    /// <summary>Thread per (e, b) at step t: g_x,t = 2 diag(w)(x_t − x*_t)/(B T) (t ≥ 1) + Aᵀ g_x,t+1 + Cᵀ m_xᵀ g_a,t.</summary>
    public static void StateAdjoint(ClosedLoopArgs a)
    {
        int s = Grid.GlobalIndex.X;
        if (s >= a.Agents * a.Trials)
        {
            return;
        }

        int b = s % a.Trials, e = s / a.Trials, t = a.Step, n = a.States, q = a.Observed, qa = a.Inputs, nh = a.Hidden, T1 = a.Horizon + 1;
        long th = (long)e * a.LayoutLength, row = ((long)s * T1 + t) * nh, xo = ((long)s * T1 + t) * n, to = ((long)b * T1 + t) * n;
        long gxo = ((long)s * (T1 + 1) + t) * n;
        for (int i = 0; i < n; i++)
        {
            double g = t >= 1 ? 2 * a.Weights[i] * (a.X[xo + i] - a.Targets[to + i]) / (a.Trials * (double)a.Horizon) : 0;
            for (int k = 0; k < n; k++)
            {
                g += a.PlantA[k * n + i] * a.GX[gxo + n + k];
            }

            for (int c = 0; c < q; c++)
            {
                double cm = a.PlantC[c * n + i];
                if (cm != 0)
                {
                    double mg = 0;
                    for (int j = 0; j < nh; j++)
                    {
                        mg += a.Theta[th + a.MOffset + (long)j * qa + c] * a.GA[row + j];
                    }

                    g += cm * mg;
                }
            }

            a.GX[gxo + i] = g;
        }
    }

    /// <summary>
    /// Thread per (e, entry) of W, m and z: ∂W_ik = Σ_b Σ_{t&lt;T} g_a,t+1,i h_t,k, ∂m_ic = Σ_b Σ_t g_a,t,i y_t,c,
    /// ∂z_ij = Σ_b Σ_{t&lt;T} h_t,i g_u,t,j (summed in b, t order).
    /// </summary>
    public static void Gradients(ClosedLoopArgs a)
    {
        int idx = Grid.GlobalIndex.X, nh = a.Hidden, qa = a.Inputs, p = a.Controls;
        int per = nh * nh + nh * qa + nh * p;
        if (idx >= a.Agents * per)
        {
            return;
        }

        int e = idx / per, r = idx - e * per, T = a.Horizon, T1 = T + 1;
        double g = 0;
        if (r < nh * nh)
        {
            int i = r / nh, k = r - i * nh;
            for (int b = 0; b < a.Trials; b++)
            {
                long o = ((long)(e * a.Trials + b) * T1) * nh;
                for (int t = 0; t < T; t++)
                {
                    g += a.GA[o + (long)(t + 1) * nh + i] * a.H[o + (long)t * nh + k];
                }
            }

            a.Gradients[(long)e * a.LayoutLength + r] = g;
        }
        else if (r < nh * nh + nh * qa)
        {
            int rm = r - nh * nh, i = rm / qa, c = rm - i * qa;
            for (int b = 0; b < a.Trials; b++)
            {
                long o = ((long)(e * a.Trials + b) * T1) * nh, yo = ((long)(e * a.Trials + b) * T1) * qa;
                for (int t = 0; t <= T; t++)
                {
                    g += a.GA[o + (long)t * nh + i] * a.Y[yo + (long)t * qa + c];
                }
            }

            a.Gradients[(long)e * a.LayoutLength + a.MOffset + rm] = g;
        }
        else
        {
            int rz = r - nh * nh - nh * qa, i = rz / p, j = rz - i * p;
            for (int b = 0; b < a.Trials; b++)
            {
                long o = ((long)(e * a.Trials + b) * T1) * nh, uo = ((long)(e * a.Trials + b) * T1) * p;
                for (int t = 0; t < T; t++)
                {
                    g += a.H[o + (long)t * nh + i] * a.GU[uo + (long)t * p + j];
                }
            }

            a.Gradients[(long)e * a.LayoutLength + a.ZOffset + rz] = g;
        }
    }

    /// <summary>y_t of slot s: C (x_t − o_t), then C x*_t when the agent sees the reference.</summary>
    private static void Observe(ClosedLoopArgs a, int s, int b, int t)
    {
        int n = a.States, q = a.Observed, qa = a.Inputs, T1 = a.Horizon + 1;
        long xo = ((long)s * T1 + t) * n, to = ((long)b * T1 + t) * n, yo = ((long)s * T1 + t) * qa;
        for (int c = 0; c < q; c++)
        {
            double v = 0, r = 0;
            for (int i = 0; i < n; i++)
            {
                double cm = a.PlantC[c * n + i], target = a.Targets[to + i];
                v += cm * (a.X[xo + i] - (a.ObserveError == 1 ? target : 0));
                r += cm * target;
            }

            a.Y[yo + c] = v;
            if (a.ObserveReference == 1)
            {
                a.Y[yo + q + c] = r;
            }
        }
    }
}
