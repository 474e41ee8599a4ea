using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Engine.Model;
using Engine.Numerics;

namespace Engine.Backends.Cpu;

/// <summary>Loss, BPTT and the weight-gradient products of <see cref="NetworkWorkspace"/>.</summary>
internal sealed unsafe partial class NetworkWorkspace
{
    /// <summary>Masked MSE of the readout against the batch's targets; writes e = 2 m (y − ŷ) / M and dd = Σ e.</summary>
    /// <remarks>
    /// M = max(1, Σ m). Sums run in double over (trial, step, output) order, as in the reference. Padded trials get
    /// e = 0, which keeps them out of every gradient.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Errors(TrialBatch batch, int network)
    {
        int s = batch.SetOf(network), b = _b, t = _t, no = _no, op = _op, bp = _bp;
        var targets = batch.Targets.AsSpan(s * b * t * no, b * t * no);
        var mask = batch.Mask.AsSpan(s * b * t * no, b * t * no);
        double maskSum = 0;
        foreach (float m in mask)
        {
            maskSum += m;
        }

        double denom = Math.Max(1.0, maskSum), sse = 0;
        Array.Clear(_dd);
        for (int k = 0; k < t && b < bp; k++)
        {
            new Span<float>(_err.Pointer + ((long)k * bp + b) * op, (bp - b) * op).Clear();
        }

        for (int r = 0; r < b; r++)
        {
            for (int k = 0; k < t; k++)
            {
                long row = (long)k * bp + r;
                for (int o = 0; o < no; o++)
                {
                    int q = (r * t + k) * no + o;
                    double diff = (double)_y.Pointer[row * op + o] - targets[q];
                    sse += mask[q] * diff * diff;
                    float e = (float)(2.0 * mask[q] * diff / denom);
                    _err.Pointer[row * op + o] = e;
                    _dd[o] += e;
                }
            }
        }

        Loss = sse / denom;
    }

    /// <summary>
    /// Backpropagates trials [r0, r1) from step T to 1: δ_t into P, and the per-trial ∂L/∂h₀ into G;
    /// <paramref name="activity"/> is λ of the activity term λ · mean over (b, t, i) of h_t,i² (0: none).
    /// </summary>
    /// <remarks>
    /// g_t = carry + Cᵀ e_t + s h_t with s = 2λ / (B T N) (only on real trials, and only when λ ≠ 0, so λ = 0 runs
    /// exactly the operations it ran before the term existed); δ_t = α g_t ⊙ φ′(a_t); carry for t − 1 =
    /// (1 − α) g_t + δ_t W (the micro-kernel with A = δ_t, B = W row-major). The last product (to h₀) runs only when
    /// h₀ is learned. The rate cell runs <see cref="BackwardRate"/> instead.
    /// </remarks>
    public void Backward(int r0, int r1, float activity)
    {
        float s = ActivityScale(activity);
        if (_rate)
        {
            BackwardRate(r0, r1, s);
        }
        else if (_wide)
        {
            Backward<Simd512, Vector512<float>>(r0, r1, s);
        }
        else
        {
            Backward<Simd256, Vector256<float>>(r0, r1, s);
        }
    }

    /// <summary>s = 2λ / (B T N), the factor of h_t in the gradient of λ · mean h² (computed in double, then rounded).</summary>
    private float ActivityScale(float activity) => activity == 0f ? 0f : (float)(2.0 * activity / ((double)_b * _t * _n));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Backward<TS, TV>(int r0, int r1, float s)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        int np = _np, bp = _bp, op = _op, w = TS.Lanes, rows = TileKernel.Rows;
        bool leaky = _alpha != 1f, regularised = s != 0f;
        TV alpha = TS.Splat(_alpha), keep = TS.Splat(1f - _alpha), scale = TS.Splat(s);
        new Span<float>(_g.Pointer + (long)r0 * np, (r1 - r0) * np).Clear();
        for (int t = _t; t >= 1; t--)
        {
            for (int r = r0; r < r1; r += rows)
            {
                long row = (long)(t - 1) * bp + r;
                float* g = _g.Pointer + (long)r * np;
                float* p = _p.Pointer + row * np;
                float* e = _err.Pointer + row * op;
                float* h = _h.Pointer + (row + bp) * np;
                for (int m = 0; m < rows; m++)
                {
                    float* gm = g + m * np, pm = p + m * np, em = e + m * op, hm = h + m * np;
                    bool act = regularised && r + m < _b;
                    float* xm = r + m < _extraTrials ? _extra!.Pointer + (row + m) * np : null;
                    for (int k = 0; k < np; k += w)
                    {
                        TV gv = TS.Load(gm + k);
                        for (int o = 0; o < _no; o++)
                        {
                            gv = TS.Fma(TS.Load(_cp.Pointer + o * np + k), TS.Splat(em[o]), gv);
                        }

                        if (act)
                        {
                            gv = TS.Fma(scale, TS.Load(hm + k), gv);
                        }

                        if (xm != null)
                        {
                            gv = TS.Add(gv, TS.Load(xm + k));
                        }

                        TS.Store(TS.Mul(TS.Mul(alpha, gv), TS.Load(pm + k)), pm + k);
                        if (leaky)
                        {
                            TS.Store(TS.Mul(keep, gv), gm + k);
                        }
                    }
                }

                if (t > 1 || _learnedH0)
                {
                    TileKernel.RowStrip<TS, TV>(p, np, 1, _n, _wr.Pointer, np, g, np, np, load: leaky);
                }
            }
        }
    }

    /// <summary>
    /// Runs the state loss on this network's probe trials after <see cref="Forward"/>: gathers their states [P][T][N],
    /// asks <paramref name="term"/> for dTerm/dh and keeps it (time-major, like H) for the next <see cref="Backward"/>;
    /// null, or a term that is off for this network now, turns the extra gradient off.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void ApplyStateLoss(IStateLoss? term, int network)
    {
        _extraTrials = 0;
        if (term is null)
        {
            return;
        }

        int probe = term.ProbeTrials, t = _t, n = _n, np = _np, bp = _bp;
        int size = probe * t * n;
        if (_probeStates.Length != size)
        {
            _probeStates = new float[size];
            _probeGradient = new float[size];
        }

        for (int r = 0; r < probe; r++)
        {
            for (int k = 0; k < t; k++)
            {
                new ReadOnlySpan<float>(_h.Pointer + ((long)(k + 1) * bp + r) * np, n).CopyTo(_probeStates.AsSpan((r * t + k) * n, n));
            }
        }

        if (!term.Gradient(network, _probeStates, _probeGradient))
        {
            return;
        }

        _extra = Fit(_extra, (long)t * bp * np);
        for (int r = 0; r < probe; r++)
        {
            for (int k = 0; k < t; k++)
            {
                float* dst = _extra.Pointer + ((long)k * bp + r) * np;
                _probeGradient.AsSpan((r * t + k) * n, n).CopyTo(new Span<float>(dst, n));
                new Span<float>(dst + n, np - n).Clear();
            }
        }

        _extraTrials = probe;
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of the weight gradients: dW rows i ≡ part (mod parts,
    /// in tiles of 4); part 0 also dC and [dUᵀ; dbᵀ].
    /// </summary>
    /// <remarks>
    /// dW = Σ_t δ_tᵀ H_{t−1}, dC = Σ_t e_tᵀ H_t, [dU | db]ᵀ = Σ_t X̃_tᵀ δ_t, each one product over all T·Bp rows
    /// (the rate cell reads its rates R = φ(H) in place of H: dW = Σ_t δ_tᵀ R_{t−1}, dC = Σ_t e_tᵀ R_t),
    /// run in chunks of 128 rows so the operands stay in L2. Every element sums its rows in order, so the split
    /// into parts never changes a result.
    /// </remarks>
    public void WeightGradients(int part, int parts)
    {
        if (_wide)
        {
            WeightGradients<Simd512, Vector512<float>>(part, parts);
        }
        else
        {
            WeightGradients<Simd256, Vector256<float>>(part, parts);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WeightGradients<TS, TV>(int part, int parts)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        int np = _np, ip = _ip, op = _op, bp = _bp, rows = TileKernel.Rows;
        int tiles = RoundUp(_n, rows) / rows;
        float* states = _rate ? _r!.Pointer : _h.Pointer; // what W and C multiply: h, or the rates φ(h) of the rate cell
        long seq = (long)_t * bp;
        for (int i = part; i < tiles; i += parts)
        {
            new Span<float>(_dw.Pointer + (long)i * rows * np, rows * np).Clear();
        }

        if (part == 0)
        {
            _dc.Span.Clear();
            _dut.Span.Clear();
        }

        for (long k0 = 0; k0 < seq + bp; k0 += ChunkRows)
        {
            long k1 = Math.Min(k0 + ChunkRows, seq + bp);
            if (k0 < seq)
            {
                int len = (int)(Math.Min(k1, seq) - k0);
                for (int i = part; i < tiles; i += parts)
                {
                    TileKernel.RowStrip<TS, TV>(_p.Pointer + k0 * np + i * rows, 1, np, len, states + k0 * np, np, _dw.Pointer + (long)i * rows * np, np, np, load: true);
                }

                if (part == 0)
                {
                    for (int j = 0; j < ip; j += rows)
                    {
                        TileKernel.RowStrip<TS, TV>(_x.Pointer + k0 * ip + j, 1, ip, len, _p.Pointer + k0 * np, np, _dut.Pointer + (long)j * np, np, np, load: true);
                    }
                }
            }

            if (part == 0 && k1 > bp)
            {
                long from = Math.Max(k0, bp);
                int len = (int)(k1 - from);
                for (int o = 0; o < op; o += rows)
                {
                    TileKernel.RowStrip<TS, TV>(_err.Pointer + (from - bp) * op + o, 1, op, len, states + from * np, np, _dc.Pointer + (long)o * np, np, np, load: true);
                }
            }
        }
    }
}
