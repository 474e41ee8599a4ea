using System.Runtime.Intrinsics;
using Engine.Backends.Cpu;
using Engine.Kernels;
using Engine.Kernels.FixedPoints;
using Engine.Model;
using Engine.Numerics;

namespace Engine.Backends.Cpu;

/// <summary>The fast CPU Adam search: float32, the backend's register-blocked micro-kernel, long-lived worker threads.</summary>
/// <remarks>
/// Per network the seeds are the rows of two small matrix products per iteration. Discrete and leaky cells: Z = H Wᵀ
/// (S×N · N×N), R = α(φ(Z + c) − H), G = D W with D = φ′(Z + c) ⊙ R, gradient α (G − R). Rate cell: P = φ(H), Z = P Wᵀ,
/// R = α(Z + c − H), G = R W, gradient α (φ′(H) ⊙ G − R). Adam updates H in place. tanh is the backend's <see cref="TanhVector"/>.
/// Work is split into tasks of up to 64 seeds of one network; a task runs all iterations of a chunk (between two
/// schedule checks) tile by tile (4 seeds at a time), so a tile's states, moments and scratch stay in L1 while W and
/// Wᵀ (packed once, rows padded to 16 floats) stay in L2. Re-reading W from L2 per 4-seed tile costs nothing measurable
/// at N = 128: the two products alone run at ≈ 108 GFLOP/s per core (peak ≈ 114) whether each tile streams all of W or
/// blocks of 16, 32 or 64 seeds share each 2- or 4-vector strip of it (measured side by side on the 2-core Zen 4 box),
/// so the search keeps the simpler tile order; the rest of its time is the elementwise work and Adam. Seeds are independent, so results do not depend on the
/// thread count. 4N² FLOP per seed and iteration in the products (plus O(N) elementwise).
/// </remarks>
public sealed unsafe class CpuFixedPointSearch : FixedPointSearch
{
    private const int RowsPerTask = 64;
    private readonly WorkerPool _pool;
    private readonly bool _wide;
    private readonly Action<int, int> _task;
    private AlignedBuffer[] _scratch = [];
    private Net[] _nets = [];
    private int _seeds, _n, _np, _sp, _blocks, _first, _count, _maxIterations;
    private float _alpha, _tolerance, _epsilon;
    private bool _rate;
    private ActivationKind _activation;
    private double[] _lr = [];

    /// <summary>Creates the search with <paramref name="threads"/> workers (0 = one per core).</summary>
    public CpuFixedPointSearch(int threads = 0)
        : this(threads, Vector512.IsHardwareAccelerated)
    {
    }

    /// <summary>Creates the search on 512-bit vectors (<paramref name="wide"/>, where accelerated) or 256-bit ones (tests of the fallback).</summary>
    internal CpuFixedPointSearch(int threads, bool wide)
    {
        _pool = new WorkerPool(threads <= 0 ? Environment.ProcessorCount : threads);
        _wide = wide && Vector512.IsHardwareAccelerated;
        _task = RunTask;
    }

    /// <inheritdoc />
    public override string Name => "cpu";

    /// <inheritdoc />
    protected override void Load(FixedPointProblem problem, AdamSearchOptions options)
    {
        var spec = problem.Spec;
        _n = spec.Hidden;
        _np = (_n + 15) / 16 * 16;
        _seeds = problem.SeedsPerNetwork;
        _sp = (_seeds + 3) / 4 * 4;
        _blocks = (_sp + RowsPerTask - 1) / RowsPerTask;
        _alpha = spec.EffectiveAlpha;
        _rate = spec.Cell == CellType.Rate;
        _activation = spec.Activation;
        _tolerance = (float)options.Tolerance;
        _epsilon = (float)options.Epsilon;
        _maxIterations = options.MaxIterations;
        var drive = problem.Drive();
        _nets = new Net[spec.Networks];
        for (int e = 0; e < spec.Networks; e++)
        {
            var net = new Net(_np, _sp);
            var w = spec.Layout.WRec(problem.Parameters, e);
            for (int i = 0; i < _n; i++)
            {
                for (int j = 0; j < _n; j++)
                {
                    net.W.Span[i * _np + j] = w[i * _n + j];
                    net.Wt.Span[j * _np + i] = w[i * _n + j];
                }

                net.Drive.Span[i] = (float)drive[e * _n + i];
            }

            for (int s = 0; s < _sp; s++)
            {
                if (s < _seeds)
                {
                    problem.Seeds.AsSpan((e * _seeds + s) * _n, _n).CopyTo(net.H.Span.Slice(s * _np, _n));
                }
                else
                {
                    net.Status[s] = SearchStatusCode.Padding;
                }
            }

            _nets[e] = net;
        }

        if (_scratch.Length == 0 || _scratch[0].Length < 4 * 4 * _np)
        {
            _scratch = Enumerable.Range(0, _pool.Workers).Select(_ => new AlignedBuffer(4 * 4 * _np)).ToArray();
        }
    }

    /// <inheritdoc />
    protected override void Iterate(int first, int count, ReadOnlySpan<double> learningRates)
    {
        _first = first;
        _count = count;
        _lr = learningRates.ToArray();
        _pool.Run(_nets.Length * _blocks, _task);
    }

    /// <inheritdoc />
    protected override void ReadProgress(Span<float> q, Span<int> status, Span<int> iterations)
    {
        for (int e = 0; e < _nets.Length; e++)
        {
            _nets[e].Q.AsSpan(0, _seeds).CopyTo(q.Slice(e * _seeds, _seeds));
            _nets[e].Status.AsSpan(0, _seeds).CopyTo(status.Slice(e * _seeds, _seeds));
            _nets[e].Iterations.AsSpan(0, _seeds).CopyTo(iterations.Slice(e * _seeds, _seeds));
        }
    }

    /// <inheritdoc />
    protected override void ReadStates(Span<float> states)
    {
        for (int e = 0; e < _nets.Length; e++)
        {
            for (int s = 0; s < _seeds; s++)
            {
                _nets[e].H.Span.Slice(s * _np, _n).CopyTo(states.Slice((e * _seeds + s) * _n, _n));
            }
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _pool.Dispose();
        base.Dispose();
    }

    private void RunTask(int task, int worker)
    {
        switch (_wide, _activation)
        {
            case (true, ActivationKind.Tanh): RunTask<Simd512, Vector512<float>, TanhVector>(task, worker); break;
            case (true, ActivationKind.Relu): RunTask<Simd512, Vector512<float>, ReluVector>(task, worker); break;
            case (true, _): RunTask<Simd512, Vector512<float>, IdentityVector>(task, worker); break;
            case (false, ActivationKind.Tanh): RunTask<Simd256, Vector256<float>, TanhVector>(task, worker); break;
            case (false, ActivationKind.Relu): RunTask<Simd256, Vector256<float>, ReluVector>(task, worker); break;
            default: RunTask<Simd256, Vector256<float>, IdentityVector>(task, worker); break;
        }
    }

    private void RunTask<TS, TV, TA>(int task, int worker)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        where TA : struct, IVectorActivation
    {
        var net = _nets[task / _blocks];
        int r0 = task % _blocks * RowsPerTask, r1 = Math.Min(_sp, r0 + RowsPerTask);
        int np = _np, n = _n, lanes = TS.Lanes;
        float* z = _scratch[worker].Pointer, rr = z + 4 * np, d = rr + 4 * np, g = d + 4 * np;
        float lr = (float)_lr[task / _blocks];
        TV alpha = TS.Splat(_alpha), half = TS.Splat(0.5f);
        TV one = TS.Splat(1f), eps = TS.Splat(_epsilon);
        for (int r = r0; r < r1; r += 4)
        {
            float* h = net.H.Pointer + (long)r * np;
            float* m = net.M.Pointer + (long)r * np;
            float* v = net.V.Pointer + (long)r * np;
            for (int it = _first; it < _first + _count; it++)
            {
                bool any = false;
                for (int k = 0; k < 4; k++)
                {
                    any |= net.Status[r + k] == SearchStatusCode.Active;
                }

                if (!any)
                {
                    break;
                }

                // Z = H Wᵀ (rate: Z = φ(H) Wᵀ, φ(H) kept in d) for the 4 rows, then r, φ′ ⊙ r and q per row.
                if (_rate)
                {
                    for (int c = 0; c < 4 * np; c += lanes)
                    {
                        TS.Store(TA.Apply<TS, TV>(TS.Load(h + c)), d + c);
                    }
                }

                TileKernel.RowStrip<TS, TV>(_rate ? d : h, np, 1, n, net.Wt.Pointer, np, z, np, np, load: false);
                bool update = false;
                for (int k = 0; k < 4; k++)
                {
                    if (net.Status[r + k] != SearchStatusCode.Active)
                    {
                        continue;
                    }

                    float* hk = h + k * np, zk = z + k * np, rk = rr + k * np, dk = d + k * np;
                    TV acc = TS.Splat(0f);
                    if (_rate)
                    {
                        for (int c = 0; c < np; c += lanes)
                        {
                            TV res = TS.Mul(alpha, TS.Sub(TS.Add(TS.Load(zk + c), TS.Load(net.Drive.Pointer + c)), TS.Load(hk + c)));
                            TS.Store(res, rk + c);
                            acc = TS.Fma(res, res, acc);
                        }
                    }
                    else
                    {
                        for (int c = 0; c < np; c += lanes)
                        {
                            TV a = TA.Apply<TS, TV>(TS.Add(TS.Load(zk + c), TS.Load(net.Drive.Pointer + c)));
                            TV res = TS.Mul(alpha, TS.Sub(a, TS.Load(hk + c)));
                            TS.Store(res, rk + c);
                            TS.Store(TS.Mul(TA.Derivative<TS, TV>(a), res), dk + c);
                            acc = TS.Fma(res, res, acc);
                        }
                    }

                    float q = TS.Sum(TS.Mul(half, acc));
                    net.Q[r + k] = q;
                    int status = !float.IsFinite(q) ? SearchStatusCode.NonFinite
                        : q < _tolerance ? SearchStatusCode.Converged
                        : it >= _maxIterations ? SearchStatusCode.MaxIterations
                        : SearchStatusCode.Active;
                    if (status != SearchStatusCode.Active)
                    {
                        net.Status[r + k] = status;
                        net.Iterations[r + k] = it;
                    }
                    else
                    {
                        update = true;
                    }
                }

                if (!update)
                {
                    continue;
                }

                // G = D W (rate: G = R W); gradient α (G − R) (rate: α (φ′(H) ⊙ G − R)); Adam on the active rows.
                TileKernel.RowStrip<TS, TV>(_rate ? rr : d, np, 1, n, net.W.Pointer, np, g, np, np, load: false);
                var coef = AdamMath.Coefficients(lr, it + 1, 1f);
                TV step = TS.Splat(coef.StepSize), inv = TS.Splat(coef.InvSqrtBias2);
                for (int k = 0; k < 4; k++)
                {
                    if (net.Status[r + k] != SearchStatusCode.Active)
                    {
                        continue;
                    }

                    float* hk = h + k * np, mk = m + k * np, vk = v + k * np, gk = g + k * np, rk = rr + k * np, pk = d + k * np;
                    for (int c = 0; c < np; c += lanes)
                    {
                        TV back = _rate ? TS.Mul(TA.Derivative<TS, TV>(TS.Load(pk + c)), TS.Load(gk + c)) : TS.Load(gk + c);
                        TV grad = TS.Mul(alpha, TS.Sub(back, TS.Load(rk + c)));
                        TV hv = TS.Load(hk + c), mv = TS.Load(mk + c), vv = TS.Load(vk + c);
                        AdamMath.Update<TV, TS>(ref hv, ref mv, ref vv, grad, one, step, inv, eps);
                        TS.Store(mv, mk + c);
                        TS.Store(vv, vk + c);
                        TS.Store(hv, hk + c);
                    }
                }
            }
        }
    }

    /// <summary>One network's packed weights and per-seed state (rows padded to 4, columns to 16).</summary>
    private sealed class Net(int np, int sp)
    {
        public AlignedBuffer W { get; } = new((long)np * np);

        public AlignedBuffer Wt { get; } = new((long)np * np);

        public AlignedBuffer Drive { get; } = new(np);

        public AlignedBuffer H { get; } = new((long)sp * np);

        public AlignedBuffer M { get; } = new((long)sp * np);

        public AlignedBuffer V { get; } = new((long)sp * np);

        public float[] Q { get; } = new float[sp];

        public int[] Status { get; } = new int[sp];

        public int[] Iterations { get; } = new int[sp];
    }
}
