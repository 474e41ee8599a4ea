namespace Engine.ClosedLoop;

/// <summary>
/// The fast CPU path for one agent: the same losses and gradients as <see cref="ClosedLoopReference"/>, with every
/// buffer allocated once for (B, T) and the N-sized work in float64 SIMD (<see cref="SimdF64"/>).
/// </summary>
/// <remarks>
/// Buffers (row-major): targets and states B×(T+1)×n, observations B×(T+1)×q, hidden states and their adjoints
/// B×(T+1)×N, controls and their adjoints B×(T+1)×p. ∂L/∂W = Σ_{b,t} g_a,t+1 h_tᵀ is one outer-product GEMM per
/// trial after the backward sweep. Per step ≈ 6 N² B T FLOP (forward W h, backward Wᵀ g_a, and the GEMM).
/// </remarks>
internal sealed class AgentWorkspace
{
    private readonly Plant _plant;
    private readonly ControlTask _task;
    private readonly AgentLayout _layout;
    private readonly AgentActivation _act;
    private readonly double _beta;
    private readonly int _horizon;
    private readonly double[] _targets, _x, _y, _u, _gu;
    private readonly double[] _gx, _gxNext, _mtga;
    private double[] _h, _ga;
    private int _trials;

    public AgentWorkspace(Plant plant, ControlTask task, AgentLayout layout, AgentActivation act, double beta, int horizon)
    {
        _plant = plant;
        _task = task;
        _layout = layout;
        _act = act;
        _beta = beta;
        _horizon = horizon;
        int bt = task.Trials, T1 = horizon + 1;
        _targets = new double[bt * T1 * plant.N];
        task.FillTargets(horizon, _targets);
        _x = new double[bt * T1 * plant.N];
        _y = new double[bt * T1 * plant.Q];
        _u = new double[bt * T1 * plant.P];
        _gu = new double[bt * T1 * plant.P];
        _gx = new double[plant.N];
        _gxNext = new double[plant.N];
        _mtga = new double[plant.Q];
        _trials = bt;
        _h = new double[bt * T1 * layout.Hidden];
        _ga = new double[bt * T1 * layout.Hidden];
    }

    public int Horizon => _horizon;

    /// <summary>Closed-loop loss and (optionally) gradient; see <see cref="ClosedLoopReference.ClosedLoopLoss"/>.</summary>
    public double ClosedLoop(double[] theta, double[]? grad, bool rankOne)
    {
        int n = _plant.N, p = _plant.P, q = _plant.Q, nh = _layout.Hidden, bt = _task.Trials, T = _horizon, T1 = T + 1;
        EnsureTrials(bt);
        var w = theta.AsSpan(0, nh * nh);
        var m = theta.AsSpan(_layout.MOffset, nh * q);
        var z = theta.AsSpan(_layout.ZOffset, nh * p);
        var A = _plant.A;
        var B = _plant.B;
        var wts = _task.StateWeights;
        double loss = 0, invBT = 1.0 / (bt * (double)T);
        for (int b = 0; b < bt; b++)
        {
            int xb = b * T1 * n, yb = b * T1 * q, hb = b * T1 * nh, ub = b * T1 * p;
            _task.InitialStates.AsSpan(b * n, n).CopyTo(_x.AsSpan(xb, n));
            Observe(b, 0);
            var h0 = _h.AsSpan(hb, nh);
            SimdF64.MatVec(m, nh, q, _y.AsSpan(yb, q), h0, accumulate: false);
            Activate(h0);
            for (int t = 0; t < T; t++)
            {
                var ht = _h.AsSpan(hb + t * nh, nh);
                var ut = _u.AsSpan(ub + t * p, p);
                for (int j = 0; j < p; j++)
                {
                    double s = 0;
                    for (int i = 0; i < nh; i++)
                    {
                        s += z[i * p + j] * ht[i];
                    }

                    ut[j] = s;
                    loss += _beta / bt * s * s;
                }

                int xt = xb + t * n, x1 = xt + n;
                for (int i = 0; i < n; i++)
                {
                    double s = 0;
                    for (int k = 0; k < n; k++)
                    {
                        s += A[i * n + k] * _x[xt + k];
                    }

                    for (int j = 0; j < p; j++)
                    {
                        s += B[i * p + j] * ut[j];
                    }

                    _x[x1 + i] = s;
                    double d = s - _targets[x1 + i];
                    loss += wts[i] * d * d * invBT;
                }

                Observe(b, t + 1);
                var h1 = _h.AsSpan(hb + (t + 1) * nh, nh);
                SimdF64.MatVec(w, nh, nh, ht, h1, accumulate: false);
                SimdF64.MatVec(m, nh, q, _y.AsSpan(yb + (t + 1) * q, q), h1, accumulate: true);
                Activate(h1);
            }
        }

        if (grad is null)
        {
            return loss;
        }

        Array.Clear(grad);
        var gW = grad.AsSpan(0, nh * nh);
        var gm = grad.AsSpan(_layout.MOffset, nh * q);
        var gz = grad.AsSpan(_layout.ZOffset, nh * p);
        for (int b = 0; b < bt; b++)
        {
            int xb = b * T1 * n, yb = b * T1 * q, hb = b * T1 * nh, ub = b * T1 * p;
            Array.Clear(_gxNext);
            for (int t = T; t >= 0; t--)
            {
                var ga = _ga.AsSpan(hb + t * nh, nh);
                var gu = _gu.AsSpan(ub + t * p, p);
                ga.Clear();
                gu.Clear();
                if (t < T)
                {
                    for (int j = 0; j < p; j++)
                    {
                        double s = 2 * _beta / bt * _u[ub + t * p + j];
                        for (int i = 0; i < n; i++)
                        {
                            s += B[i * p + j] * _gxNext[i];
                        }

                        gu[j] = s;
                    }

                    SimdF64.MatTVecAdd(w, nh, nh, _ga.AsSpan(hb + (t + 1) * nh, nh), ga);
                    SimdF64.MatVec(z, nh, p, gu, ga, accumulate: true);
                    if (_act == AgentActivation.Tanh)
                    {
                        var ht = _h.AsSpan(hb + t * nh, nh);
                        for (int i = 0; i < nh; i++)
                        {
                            ga[i] *= 1 - ht[i] * ht[i];
                        }
                    }
                }

                Array.Clear(_mtga);
                SimdF64.MatTVecAdd(m, nh, q, ga, _mtga);
                int xt = xb + t * n;
                for (int i = 0; i < n; i++)
                {
                    double s = t >= 1 ? 2 * wts[i] * (_x[xt + i] - _targets[xt + i]) * invBT : 0;
                    for (int k = 0; k < n; k++)
                    {
                        s += A[k * n + i] * _gxNext[k];
                    }

                    for (int k = 0; k < q; k++)
                    {
                        s += _plant.C[k * n + i] * _mtga[k];
                    }

                    _gx[i] = s;
                }

                _gx.CopyTo(_gxNext, 0);
            }

            SimdF64.OuterAccumulate(gW, nh, nh, _ga, hb + nh, nh, _h, hb, nh, T);
            SimdF64.OuterAccumulate(gz, nh, p, _h, hb, nh, _gu, ub, p, T);
            SimdF64.OuterAccumulate(gm, nh, q, _ga, hb, nh, _y, yb, q, T + 1);
        }

        if (rankOne)
        {
            _layout.FactorGradients(theta, grad);
        }

        return loss;
    }

    /// <summary>Open-loop imitation loss and gradient; see <see cref="ClosedLoopReference.OpenLoopLoss"/>.</summary>
    public double OpenLoop(double[] theta, int trials, double[] ys, double[] us, double[]? grad, bool rankOne)
    {
        int nh = _layout.Hidden, q = _layout.Observations, p = _layout.Controls, T = _horizon, T1 = T + 1;
        EnsureTrials(trials);
        var w = theta.AsSpan(0, nh * nh);
        var m = theta.AsSpan(_layout.MOffset, nh * q);
        var z = theta.AsSpan(_layout.ZOffset, nh * p);
        var gus = new Span<double>(_guOpen ??= new double[p]);
        double loss = 0, scale = 1.0 / (trials * (double)T);
        if (grad is not null)
        {
            Array.Clear(grad);
        }

        for (int b = 0; b < trials; b++)
        {
            int hb = b * T1 * nh;
            for (int t = 0; t <= T; t++)
            {
                var ht = _h.AsSpan(hb + t * nh, nh);
                if (t > 0)
                {
                    SimdF64.MatVec(w, nh, nh, _h.AsSpan(hb + (t - 1) * nh, nh), ht, accumulate: false);
                }
                else
                {
                    ht.Clear();
                }

                SimdF64.MatVec(m, nh, q, ys.AsSpan((b * T1 + t) * q, q), ht, accumulate: true);
                Activate(ht);
            }

            if (grad is null)
            {
                for (int t = 0; t < T; t++)
                {
                    loss += OutputError(z, b, t, us, scale, gus);
                }

                continue;
            }

            var gW = grad.AsSpan(0, nh * nh);
            var gm = grad.AsSpan(_layout.MOffset, nh * q);
            var gz = grad.AsSpan(_layout.ZOffset, nh * p);
            for (int t = T; t >= 0; t--)
            {
                var ga = _ga.AsSpan(hb + t * nh, nh);
                ga.Clear();
                if (t < T)
                {
                    loss += OutputError(z, b, t, us, scale, gus);
                    SimdF64.MatTVecAdd(w, nh, nh, _ga.AsSpan(hb + (t + 1) * nh, nh), ga);
                    SimdF64.MatVec(z, nh, p, gus, ga, accumulate: true);
                    var ht = _h.AsSpan(hb + t * nh, nh);
                    for (int j = 0; j < p; j++)
                    {
                        for (int i = 0; i < nh; i++)
                        {
                            gz[i * p + j] += ht[i] * gus[j];
                        }
                    }

                    if (_act == AgentActivation.Tanh)
                    {
                        for (int i = 0; i < nh; i++)
                        {
                            ga[i] *= 1 - ht[i] * ht[i];
                        }
                    }
                }
            }

            SimdF64.OuterAccumulate(gW, nh, nh, _ga, hb + nh, nh, _h, hb, nh, T);
            SimdF64.OuterAccumulate(gm, nh, q, _ga, hb, nh, ys, b * T1 * q, q, T + 1);
        }

        if (grad is not null && rankOne)
        {
            _layout.FactorGradients(theta, grad);
        }

        return loss;
    }

    private double[]? _guOpen;

    private double OutputError(ReadOnlySpan<double> z, int b, int t, double[] us, double scale, Span<double> gu)
    {
        int nh = _layout.Hidden, p = _layout.Controls, T1 = _horizon + 1;
        var ht = _h.AsSpan((b * T1 + t) * nh, nh);
        double loss = 0;
        for (int j = 0; j < p; j++)
        {
            double s = 0;
            for (int i = 0; i < nh; i++)
            {
                s += z[i * p + j] * ht[i];
            }

            double d = s - us[(b * _horizon + t) * p + j];
            loss += d * d * scale;
            gu[j] = 2 * d * scale;
        }

        return loss;
    }

    private void EnsureTrials(int trials)
    {
        if (trials > _trials)
        {
            _trials = trials;
            _h = new double[trials * (_horizon + 1) * _layout.Hidden];
            _ga = new double[trials * (_horizon + 1) * _layout.Hidden];
        }
    }

    private void Activate(Span<double> h)
    {
        if (_act == AgentActivation.Tanh)
        {
            System.Numerics.Tensors.TensorPrimitives.Tanh(h, h);
        }
    }

    private void Observe(int b, int t)
    {
        int n = _plant.N, T1 = _horizon + 1;
        int xt = (b * T1 + t) * n;
        for (int k = 0; k < _plant.Q; k++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                double off = _task.ObserveError ? _targets[xt + i] : 0;
                s += _plant.C[k * n + i] * (_x[xt + i] - off);
            }

            _y[(b * T1 + t) * _plant.Q + k] = s;
        }
    }
}
