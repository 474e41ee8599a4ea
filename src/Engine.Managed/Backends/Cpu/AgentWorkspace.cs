using Engine.Backends.Reference;
using Engine.Kernels;
using Engine.Model;
using Engine.Numerics;
using Engine.Tasks.Control;

namespace Engine.Backends.Cpu;

/// <summary>
/// The fast CPU path for one agent: the same losses and gradients as <see cref="ClosedLoopReference"/>, with every
/// buffer allocated once for (B, T) and the N-sized work in float64 SIMD (<see cref="DenseKernels"/>).
/// </summary>
/// <remarks>
/// Buffers (row-major): targets and states B×(T+1)×n, observations B×(T+1)×q, hidden states and their adjoints
/// B×(T+1)×N, controls and their adjoints B×(T+1)×p. Trials run in blocks of four in lockstep, so each pass over W
/// (forward W h, backward Wᵀ g_a) serves four trials; per trial the arithmetic is the same as one trial alone.
/// ∂L/∂W = Σ_{b,t} g_a,t+1 h_tᵀ is one outer-product GEMM per trial after the backward sweep. Per step
/// ≈ 6 N² B T FLOP (forward W h, backward Wᵀ g_a, and the GEMM).
/// </remarks>
internal sealed class AgentWorkspace
{
    /// <summary>Trials per lockstep block.</summary>
    private const int Block = 4;

    private readonly Plant _plant;
    private readonly ControlTask _task;
    private readonly ParameterLayout _layout;
    private readonly ActivationKind _act;
    private readonly double _beta, _leak;
    private readonly int _horizon;
    private readonly double[] _targets, _x, _y, _u, _gu;
    private readonly double[] _gx, _gxNext, _mtga, _guOpen, _zT, _wT, _mT;
    private readonly int[] _src = new int[Block], _dst = new int[Block], _guAt = new int[Block];
    private double[] _gh, _ghNext;
    private double[] _h, _ga;
    private double[]? _r;
    private int _trials;

    public AgentWorkspace(Plant plant, ControlTask task, ParameterLayout layout, ActivationKind act, double beta, int horizon, double leak = 1.0)
    {
        AgentDynamics.CheckInputs(plant, task, layout);
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
        _gx = new double[Block * plant.N];
        _gxNext = new double[Block * plant.N];
        _mtga = new double[layout.Observations];
        _guOpen = new double[Block * layout.Controls];
        _zT = new double[layout.Controls * layout.Hidden];
        _wT = new double[layout.Hidden * layout.Hidden];
        _mT = new double[layout.Observations * layout.Hidden];
        _gh = new double[Block * layout.Hidden];
        _ghNext = new double[Block * layout.Hidden];
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
        Transposes(w, m, z);

        for (int b0 = 0; b0 < bt; b0 += Block)
        {
            int nb = Math.Min(Block, bt - b0);
            for (int b = b0; b < b0 + nb; b++)
            {
                _task.InitialStates.AsSpan(b * n, n).CopyTo(_x.AsSpan(b * T1 * n, n));
                Observe(b, 0);
            }

            Advance(b0, nb, 0);
            for (int t = 0; t < T; t++)
            {
                for (int b = b0; b < b0 + nb; b++)
                {
                    int xb = b * T1 * n, hb = b * T1 * nh, ub = b * T1 * p;
                    var ht = _h.AsSpan(hb + t * nh, nh);
                    var ut = _u.AsSpan(ub + t * p, p);
                    for (int j = 0; j < p; j++)
                    {
                        double s = System.Numerics.Tensors.TensorPrimitives.Dot(_zT.AsSpan(j * nh, nh), ht);
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
                }

                Advance(b0, nb, t + 1);
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
        for (int b0 = 0; b0 < bt; b0 += Block)
        {
            int nb = Math.Min(Block, bt - b0);
            Array.Clear(_gxNext);
            Array.Clear(_ghNext);
            for (int t = T; t >= 0; t--)
            {
                for (int k = 0; k < nb; k++)
                {
                    int ub = (b0 + k) * T1 * p;
                    var gu = _gu.AsSpan(ub + t * p, p);
                    gu.Clear();
                    if (t < T)
                    {
                        for (int j = 0; j < p; j++)
                        {
                            double s = 2 * _beta / bt * _u[ub + t * p + j];
                            for (int i = 0; i < n; i++)
                            {
                                s += B[i * p + j] * _gxNext[k * n + i];
                            }

                            gu[j] = s;
                        }
                    }

                    _guAt[k] = ub + t * p;
                }

                HiddenAdjoint(w, z, t < T, _gu, b0, nb, t);
                for (int k = 0; k < nb; k++)
                {
                    int b = b0 + k, xt = (b * T1 + t) * n;
                    mtga.Clear();
                    DenseKernels.MatTVecAdd(m, nh, qa, _ga.AsSpan((b * T1 + t) * nh, nh), mtga);
                    for (int i = 0; i < n; i++)
                    {
                        double s = t >= 1 ? 2 * wts[i] * (_x[xt + i] - _targets[xt + i]) * invBT : 0;
                        for (int c = 0; c < n; c++)
                        {
                            s += A[c * n + i] * _gxNext[k * n + c];
                        }

                        for (int c = 0; c < q; c++)
                        {
                            s += _plant.C[c * n + i] * mtga[c];
                        }

                        _gx[k * n + i] = s;
                    }
                }

                _gx.AsSpan(0, nb * n).CopyTo(_gxNext);
            }

            for (int b = b0; b < b0 + nb; b++)
            {
                int yb = b * T1 * qa, hb = b * T1 * nh, ub = b * T1 * p;
                DenseKernels.OuterAccumulate(gW, nh, nh, _ga, hb + nh, nh, _h, hb, nh, T);
                DenseKernels.OuterAccumulate(gz, nh, p, _h, hb, nh, _gu, ub, p, T);
                DenseKernels.OuterAccumulate(gm, nh, qa, _ga, hb, nh, _y, yb, qa, T + 1);
            }
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
        double loss = 0, scale = 1.0 / (trials * (double)T);
        Transposes(w, m, z);
        if (grad is not null)
        {
            Array.Clear(grad);
        }

        for (int b0 = 0; b0 < trials; b0 += Block)
        {
            int nb = Math.Min(Block, trials - b0);
            for (int t = 0; t <= T; t++)
            {
                Advance(b0, nb, t, ys);
            }

            if (grad is null)
            {
                for (int b = b0; b < b0 + nb; b++)
                {
                    for (int t = 0; t < T; t++)
                    {
                        loss += OutputError(z, b, t, us, scale, _guOpen.AsSpan(0, p));
                    }
                }

                continue;
            }

            var gz = grad.AsSpan(_layout.ZOffset, nh * p);
            Array.Clear(_ghNext);
            for (int t = T; t >= 0; t--)
            {
                for (int k = 0; k < nb; k++)
                {
                    var gus = _guOpen.AsSpan(k * p, p);
                    gus.Clear();
                    _guAt[k] = k * p;
                    if (t < T)
                    {
                        loss += OutputError(z, b0 + k, t, us, scale, gus);
                        var ht = _h.AsSpan(((b0 + k) * T1 + t) * nh, nh);
                        for (int j = 0; j < p; j++)
                        {
                            for (int i = 0; i < nh; i++)
                            {
                                gz[i * p + j] += ht[i] * gus[j];
                            }
                        }
                    }
                }

                HiddenAdjoint(w, z, t < T, _guOpen, b0, nb, t);
            }

            var gW = grad.AsSpan(0, nh * nh);
            var gm = grad.AsSpan(_layout.MOffset, nh * q);
            for (int b = b0; b < b0 + nb; b++)
            {
                int hb = b * T1 * nh;
                DenseKernels.OuterAccumulate(gW, nh, nh, _ga, hb + nh, nh, _h, hb, nh, T);
                DenseKernels.OuterAccumulate(gm, nh, q, _ga, hb, nh, ys, b * T1 * q, q, T + 1);
            }
        }

        if (grad is not null && rankOne)
        {
            _layout.FactorGradients(theta, grad);
        }

        return loss;
    }

    /// <summary>Wᵀ, mᵀ and zᵀ for this call: the forward pass then reads contiguous rows only.</summary>
    private void Transposes(ReadOnlySpan<double> w, ReadOnlySpan<double> m, ReadOnlySpan<double> z)
    {
        int nh = _layout.Hidden, qa = _layout.Observations, p = _layout.Controls;
        for (int i = 0; i < nh; i++)
        {
            for (int j = 0; j < nh; j++)
            {
                _wT[j * nh + i] = w[i * nh + j];
            }

            for (int c = 0; c < qa; c++)
            {
                _mT[c * nh + i] = m[i * qa + c];
            }

            for (int j = 0; j < p; j++)
            {
                _zT[j * nh + i] = z[i * p + j];
            }
        }
    }

    /// <summary>
    /// One agent step at time t for trials b0 … b0+nb−1 in lockstep: a = W h_{t−1} + m y_t (no W term at t = 0),
    /// r = φ(a), h_t = (1 − α) h_{t−1} + α r (h = r when α = 1); inputs from <paramref name="ys"/> (default: the
    /// closed loop's own observations).
    /// </summary>
    private void Advance(int b0, int nb, int t, double[]? ys = null)
    {
        int nh = _layout.Hidden, qa = _layout.Observations, T1 = _horizon + 1;
        var rbuf = Leaky ? _r! : _h;
        var y = ys ?? _y;
        for (int k = 0; k < nb; k++)
        {
            _dst[k] = ((b0 + k) * T1 + t) * nh;
            _src[k] = _dst[k] - nh;
        }

        for (int k = 0; k < nb; k++)
        {
            rbuf.AsSpan(_dst[k], nh).Clear();
        }

        if (t > 0)
        {
            // W h as Σ_j h_j W[:, j]: rows of Wᵀ scaled and added, no horizontal sums
            DenseKernels.MatTVecAddBlock(_wT, nh, nh, _h, _src, rbuf, _dst, nb);
        }

        for (int k = 0; k < nb; k++)
        {
            var r = rbuf.AsSpan(_dst[k], nh);
            var yk = y.AsSpan(((b0 + k) * T1 + t) * qa, qa);
            for (int c = 0; c < qa; c++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_mT.AsSpan(c * nh, nh), yk[c], r, r);
            }

            Activate(r);
            if (Leaky)
            {
                var h = _h.AsSpan(_dst[k], nh);
                System.Numerics.Tensors.TensorPrimitives.Multiply(r, _leak, h);
                if (t > 0)
                {
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_h.AsSpan(_src[k], nh), 1 - _leak, h, h);
                }
            }
        }
    }

    /// <summary>
    /// For trials b0 … b0+nb−1 at time t: g_h,t = Wᵀ g_a,t+1 + z g_u,t + (1 − α) g_h,t+1 (zero at t = T) and
    /// g_a,t = α φ′(a_t) ⊙ g_h,t into the g_a buffer; g_u,t of block trial k is read at <c>gu[_guAt[k]]</c>. Keeps
    /// g_h,t for the next (earlier) step.
    /// </summary>
    private void HiddenAdjoint(ReadOnlySpan<double> w, ReadOnlySpan<double> z, bool hasNext, double[] gu, int b0, int nb, int t)
    {
        int nh = _layout.Hidden, p = _layout.Controls, T1 = _horizon + 1;
        Array.Clear(_gh, 0, nb * nh);
        if (hasNext)
        {
            for (int k = 0; k < nb; k++)
            {
                _src[k] = ((b0 + k) * T1 + t + 1) * nh;
            }

            for (int k = 0; k < nb; k++)
            {
                _dst[k] = k * nh;
            }

            DenseKernels.MatTVecAddBlock(w, nh, nh, _ga, _src, _gh, _dst, nb);
            for (int k = 0; k < nb; k++)
            {
                var gh = _gh.AsSpan(k * nh, nh);
                DenseKernels.MatVec(z, nh, p, gu.AsSpan(_guAt[k], p), gh, accumulate: true);
                if (Leaky)
                {
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_ghNext.AsSpan(k * nh, nh), 1 - _leak, gh, gh);
                }
            }
        }

        for (int k = 0; k < nb; k++)
        {
            var gh = _gh.AsSpan(k * nh, nh);
            int at = ((b0 + k) * T1 + t) * nh;
            var ga = _ga.AsSpan(at, nh);
            var r = Leaky ? _r!.AsSpan(at, nh) : _h.AsSpan(at, nh);
            if (_act == ActivationKind.Tanh)
            {
                for (int i = 0; i < nh; i++)
                {
                    ga[i] = _leak * (1 - r[i] * r[i]) * gh[i];
                }
            }
            else if (_act == ActivationKind.Relu)
            {
                for (int i = 0; i < nh; i++)
                {
                    ga[i] = _leak * ReluActivation.DerivativeFromOutput(r[i]) * gh[i];
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
        }

        (_gh, _ghNext) = (_ghNext, _gh);
    }

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
        if (_act == ActivationKind.Tanh)
        {
            System.Numerics.Tensors.TensorPrimitives.Tanh(h, h);
        }
        else if (_act == ActivationKind.Relu)
        {
            System.Numerics.Tensors.TensorPrimitives.Max(h, 0.0, h);
        }
    }

    private void Observe(int b, int t)
    {
        int n = _plant.N, qa = _layout.Observations, T1 = _horizon + 1;
        int xt = (b * T1 + t) * n;
        _task.Observe(_plant, _x.AsSpan(xt, n), _targets.AsSpan(xt, n), _y.AsSpan((b * T1 + t) * qa, qa));
    }
}
