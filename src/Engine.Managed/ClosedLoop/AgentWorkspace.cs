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
    private readonly double _beta, _leak;
    private readonly int _horizon;
    private readonly double[] _targets, _x, _y, _u, _gu;
    private readonly double[] _gx, _gxNext, _mtga;
    private double[] _gh, _ghNext;
    private double[] _h, _ga;
    private double[]? _r;
    private int _trials;

    public AgentWorkspace(Plant plant, ControlTask task, AgentLayout layout, AgentActivation act, double beta, int horizon, double leak = 1.0)
    {
        ClosedLoopReference.CheckInputs(plant, task, layout);
        _plant = plant;
        _task = task;
        _layout = layout;
        _act = act;
        _beta = beta;
        _leak = leak;
        _horizon = horizon;
        int bt = task.Trials, T1 = horizon + 1;
        _targets = new double[bt * T1 * plant.N];
        task.FillTargets(horizon, _targets);
        _x = new double[bt * T1 * plant.N];
        _y = new double[bt * T1 * layout.Observations];
        _u = new double[bt * T1 * plant.P];
        _gu = new double[bt * T1 * plant.P];
        _gx = new double[plant.N];
        _gxNext = new double[plant.N];
        _mtga = new double[layout.Observations];
        _gh = new double[layout.Hidden];
        _ghNext = new double[layout.Hidden];
        _trials = bt;
        _h = new double[bt * T1 * layout.Hidden];
        _ga = new double[bt * T1 * layout.Hidden];
        _r = Leaky ? new double[bt * T1 * layout.Hidden] : null;
    }

    /// <summary>Whether h_t = (1 − α) h_{t−1} + α φ(a_t) needs φ(a_t) kept apart from h_t (α &lt; 1).</summary>
    private bool Leaky => _leak != 1.0;

    public int Horizon => _horizon;

    /// <summary>Closed-loop loss and (optionally) gradient; see <see cref="ClosedLoopReference.ClosedLoopLoss"/>.</summary>
    public double ClosedLoop(double[] theta, double[]? grad, bool rankOne)
    {
        int n = _plant.N, p = _plant.P, q = _plant.Q, qa = _layout.Observations, nh = _layout.Hidden, bt = _task.Trials, T = _horizon, T1 = T + 1;
        EnsureTrials(bt);
        var w = theta.AsSpan(0, nh * nh);
        var m = theta.AsSpan(_layout.MOffset, nh * qa);
        var z = theta.AsSpan(_layout.ZOffset, nh * p);
        var A = _plant.A;
        var B = _plant.B;
        var wts = _task.StateWeights;
        double loss = 0, invBT = 1.0 / (bt * (double)T);
        for (int b = 0; b < bt; b++)
        {
            int xb = b * T1 * n, yb = b * T1 * qa, hb = b * T1 * nh, ub = b * T1 * p;
            _task.InitialStates.AsSpan(b * n, n).CopyTo(_x.AsSpan(xb, n));
            Observe(b, 0);
            Advance(w, m, [], _y.AsSpan(yb, qa), hb);
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
                Advance(w, m, ht, _y.AsSpan(yb + (t + 1) * qa, qa), hb + (t + 1) * nh);
            }
        }

        if (grad is null)
        {
            return loss;
        }

        Array.Clear(grad);
        var gW = grad.AsSpan(0, nh * nh);
        var gm = grad.AsSpan(_layout.MOffset, nh * qa);
        var gz = grad.AsSpan(_layout.ZOffset, nh * p);
        var mtga = _mtga.AsSpan();
        for (int b = 0; b < bt; b++)
        {
            int xb = b * T1 * n, yb = b * T1 * qa, hb = b * T1 * nh, ub = b * T1 * p;
            Array.Clear(_gxNext);
            Array.Clear(_ghNext);
            for (int t = T; t >= 0; t--)
            {
                var gu = _gu.AsSpan(ub + t * p, p);
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
                }

                HiddenAdjoint(w, z, t < T, gu, hb, t);
                mtga.Clear();
                SimdF64.MatTVecAdd(m, nh, qa, _ga.AsSpan(hb + t * nh, nh), mtga);
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
                        s += _plant.C[k * n + i] * mtga[k];
                    }

                    _gx[i] = s;
                }

                _gx.CopyTo(_gxNext, 0);
            }

            SimdF64.OuterAccumulate(gW, nh, nh, _ga, hb + nh, nh, _h, hb, nh, T);
            SimdF64.OuterAccumulate(gz, nh, p, _h, hb, nh, _gu, ub, p, T);
            SimdF64.OuterAccumulate(gm, nh, qa, _ga, hb, nh, _y, yb, qa, T + 1);
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
                Advance(w, m, t > 0 ? _h.AsSpan(hb + (t - 1) * nh, nh) : [], ys.AsSpan((b * T1 + t) * q, q), hb + t * nh);
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
            Array.Clear(_ghNext);
            for (int t = T; t >= 0; t--)
            {
                gus.Clear();
                if (t < T)
                {
                    loss += OutputError(z, b, t, us, scale, gus);
                    var ht = _h.AsSpan(hb + t * nh, nh);
                    for (int j = 0; j < p; j++)
                    {
                        for (int i = 0; i < nh; i++)
                        {
                            gz[i * p + j] += ht[i] * gus[j];
                        }
                    }
                }

                HiddenAdjoint(w, z, t < T, gus, hb, t);
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

    /// <summary>
    /// One agent step into slot <paramref name="at"/> of the trajectory: a = W h_prev + m y (no W term when
    /// <paramref name="hPrev"/> is empty), r = φ(a), h = (1 − α) h_prev + α r (h = r when α = 1).
    /// </summary>
    private void Advance(ReadOnlySpan<double> w, ReadOnlySpan<double> m, ReadOnlySpan<double> hPrev, ReadOnlySpan<double> y, int at)
    {
        int nh = _layout.Hidden;
        var h = _h.AsSpan(at, nh);
        var r = Leaky ? _r!.AsSpan(at, nh) : h;
        if (hPrev.IsEmpty)
        {
            SimdF64.MatVec(m, nh, _layout.Observations, y, r, accumulate: false);
        }
        else
        {
            SimdF64.MatVec(w, nh, nh, hPrev, r, accumulate: false);
            SimdF64.MatVec(m, nh, _layout.Observations, y, r, accumulate: true);
        }

        Activate(r);
        if (Leaky)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(r, _leak, h);
            if (!hPrev.IsEmpty)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(hPrev, 1 - _leak, h, h);
            }
        }
    }

    /// <summary>
    /// g_h,t = z g_u,t + (1 − α) g_h,t+1 + Wᵀ g_a,t+1 (zero at t = T) and g_a,t = α φ′(a_t) ⊙ g_h,t into the g_a
    /// buffer of trial slot <paramref name="hb"/>; keeps g_h,t for the next (earlier) step.
    /// </summary>
    private void HiddenAdjoint(ReadOnlySpan<double> w, ReadOnlySpan<double> z, bool hasNext, ReadOnlySpan<double> gu, int hb, int t)
    {
        int nh = _layout.Hidden, p = _layout.Controls;
        var gh = _gh.AsSpan();
        gh.Clear();
        if (hasNext)
        {
            SimdF64.MatTVecAdd(w, nh, nh, _ga.AsSpan(hb + (t + 1) * nh, nh), gh);
            SimdF64.MatVec(z, nh, p, gu, gh, accumulate: true);
            if (Leaky)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_ghNext, 1 - _leak, gh, gh);
            }
        }

        var ga = _ga.AsSpan(hb + t * nh, nh);
        var r = Leaky ? _r!.AsSpan(hb + t * nh, nh) : _h.AsSpan(hb + t * nh, nh);
        if (_act == AgentActivation.Tanh)
        {
            for (int i = 0; i < nh; i++)
            {
                ga[i] = _leak * (1 - r[i] * r[i]) * gh[i];
            }
        }
        else if (Leaky)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(gh, _leak, ga);
        }
        else
        {
            gh.CopyTo(ga);
        }

        (_gh, _ghNext) = (_ghNext, _gh);
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
            _r = Leaky ? new double[trials * (_horizon + 1) * _layout.Hidden] : null;
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
        int n = _plant.N, qa = _layout.Observations, T1 = _horizon + 1;
        int xt = (b * T1 + t) * n;
        _task.Observe(_plant, _x.AsSpan(xt, n), _targets.AsSpan(xt, n), _y.AsSpan((b * T1 + t) * qa, qa));
    }
}
