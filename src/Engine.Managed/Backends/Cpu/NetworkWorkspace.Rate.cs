using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Engine.Model;
using Engine.Numerics;

namespace Engine.Backends.Cpu;

/// <summary>The rate (µP) cell's forward recurrence and BPTT in <see cref="NetworkWorkspace"/>.</summary>
/// <remarks>
/// The rate cell integrates the currents and reads out the rates: h_t = (1 − α) h_{t−1} + α (W φ(h_{t−1}) + U x_t + b)
/// + σ√α ξ_t, y_t = C φ(h_t) + d. The workspace keeps the rates R_t = φ(h_t) next to H, so the recurrent product takes
/// R_{t−1} where the other cells take H_{t−1}, and the weight-gradient products dW = Σ_t δ_tᵀ R_{t−1} and
/// dC = Σ_t e_tᵀ R_t are the same micro-kernel calls on R. φ′ is always taken through the output, φ′(h) = φ′(r).
/// </remarks>
internal sealed unsafe partial class NetworkWorkspace
{
    /// <summary>Runs trials [r0, r1) of the rate cell through all T steps: H, R and the readout Y.</summary>
    /// <remarks>
    /// First R_0 = φ(h₀); then per step and 4-trial tile: Z = X̃_t [Uᵀ; bᵀ] + R_{t−1} Wᵀ (one micro-kernel pass, input
    /// terms first), then the epilogue h = (1 − α) h_{t−1} + α z + σ√α ξ, r = φ(h), and y = C r + d while the tile is
    /// in L1. P keeps the noise; the backward pass overwrites it with δ.
    /// </remarks>
    private void ForwardRate(int r0, int r1)
    {
        switch (_wide, _activation)
        {
            case (true, ActivationKind.Tanh): ForwardRate<Simd512, Vector512<float>, TanhVector>(r0, r1); break;
            case (true, ActivationKind.Relu): ForwardRate<Simd512, Vector512<float>, ReluVector>(r0, r1); break;
            case (true, _): ForwardRate<Simd512, Vector512<float>, IdentityVector>(r0, r1); break;
            case (false, ActivationKind.Tanh): ForwardRate<Simd256, Vector256<float>, TanhVector>(r0, r1); break;
            case (false, ActivationKind.Relu): ForwardRate<Simd256, Vector256<float>, ReluVector>(r0, r1); break;
            default: ForwardRate<Simd256, Vector256<float>, IdentityVector>(r0, r1); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardRate<TS, TV, TA>(int r0, int r1)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        where TA : struct, IVectorActivation
    {
        int np = _np, bp = _bp, ip = _ip, w = TS.Lanes;
        float* rates = _r!.Pointer;
        float* h0 = _h.Pointer + (long)r0 * np, rates0 = rates + (long)r0 * np;
        for (long k = 0, count = (long)(r1 - r0) * np; k < count; k += w)
        {
            TS.Store(TA.Apply<TS, TV>(TS.Load(h0 + k)), rates0 + k);
        }

        bool leaky = _alpha != 1f, noise = _noiseScale != 0f;
        TV alpha = TS.Splat(_alpha), keep = TS.Splat(1f - _alpha);
        for (int t = 1; t <= _t; t++)
        {
            for (int r = r0; r < r1; r += TileKernel.Rows)
            {
                long row = (long)(t - 1) * bp + r;
                float* hc = _h.Pointer + (row + bp) * np;
                float* hp = _h.Pointer + row * np;
                float* rc = rates + (row + bp) * np;
                float* p = _p.Pointer + row * np;
                TileKernel.RowStrip<TS, TV>(_x.Pointer + row * ip, ip, _ni + 1, _ut.Pointer, rates + row * np, np, 1, _n, _wt.Pointer, np, hc, np, np, load: false);
                for (int k = 0; k < TileKernel.Rows * np; k += w)
                {
                    TV z = TS.Load(hc + k);
                    TV hn = leaky ? TS.Fma(alpha, z, TS.Mul(keep, TS.Load(hp + k))) : z;
                    if (noise)
                    {
                        hn = TS.Add(hn, TS.Load(p + k));
                    }

                    TS.Store(hn, hc + k);
                    TS.Store(TA.Apply<TS, TV>(hn), rc + k);
                }

                Readout<TS, TV>(rc, _y.Pointer + row * _op);
            }
        }
    }

    /// <summary>Backpropagates trials [r0, r1) of the rate cell from step T to 1: δ_t into P, the per-trial ∂L/∂h₀ into G.</summary>
    /// <remarks>
    /// With q_t = δ_t W (the micro-kernel with A = δ_t, B = W row-major, into Q) and q_{T+1} = 0, the gradient reaching h_t is
    /// g_t = (1 − α) g_{t+1} + φ′(r_t) ⊙ (q_{t+1} + Cᵀ e_t) + s h_t (s = 2λ / (B T N), real trials only, skipped when
    /// λ = 0): the readout error and the carry from t + 1 both pass φ′ at h_t. Then δ_t = α g_t (no φ′), and when h₀ is
    /// learned, ∂L/∂h₀ = (1 − α) g_1 + φ′(r_0) ⊙ q_1. G holds (1 − α) g_t between steps.
    /// </remarks>
    private void BackwardRate(int r0, int r1, float s)
    {
        switch (_wide, _activation)
        {
            case (true, ActivationKind.Tanh): BackwardRate<Simd512, Vector512<float>, TanhVector>(r0, r1, s); break;
            case (true, ActivationKind.Relu): BackwardRate<Simd512, Vector512<float>, ReluVector>(r0, r1, s); break;
            case (true, _): BackwardRate<Simd512, Vector512<float>, IdentityVector>(r0, r1, s); break;
            case (false, ActivationKind.Tanh): BackwardRate<Simd256, Vector256<float>, TanhVector>(r0, r1, s); break;
            case (false, ActivationKind.Relu): BackwardRate<Simd256, Vector256<float>, ReluVector>(r0, r1, s); break;
            default: BackwardRate<Simd256, Vector256<float>, IdentityVector>(r0, r1, s); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardRate<TS, TV, TA>(int r0, int r1, float s)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        where TA : struct, IVectorActivation
    {
        int np = _np, bp = _bp, op = _op, w = TS.Lanes, rows = TileKernel.Rows;
        bool leaky = _alpha != 1f, regularised = s != 0f;
        TV alpha = TS.Splat(_alpha), keep = TS.Splat(1f - _alpha), scale = TS.Splat(s);
        float* rates = _r!.Pointer;
        new Span<float>(_g.Pointer + (long)r0 * np, (r1 - r0) * np).Clear();
        new Span<float>(_q!.Pointer + (long)r0 * np, (r1 - r0) * np).Clear();
        for (int t = _t; t >= 1; t--)
        {
            for (int r = r0; r < r1; r += rows)
            {
                long row = (long)(t - 1) * bp + r;
                float* g = _g.Pointer + (long)r * np;
                float* q = _q.Pointer + (long)r * np;
                float* p = _p.Pointer + row * np;
                float* e = _err.Pointer + row * op;
                float* h = _h.Pointer + (row + bp) * np;
                float* rc = rates + (row + bp) * np;
                for (int m = 0; m < rows; m++)
                {
                    float* gm = g + m * np, qm = q + m * np, pm = p + m * np, em = e + m * op, hm = h + m * np, rm = rc + m * np;
                    bool act = regularised && r + m < _b;
                    float* xm = r + m < _extraTrials ? _extra!.Pointer + (row + m) * np : null;
                    for (int k = 0; k < np; k += w)
                    {
                        TV back = TS.Load(qm + k);
                        for (int o = 0; o < _no; o++)
                        {
                            back = TS.Fma(TS.Load(_cp.Pointer + o * np + k), TS.Splat(em[o]), back);
                        }

                        TV slope = TA.Derivative<TS, TV>(TS.Load(rm + k));
                        TV gv = leaky ? TS.Fma(slope, back, TS.Load(gm + k)) : TS.Mul(slope, back);
                        if (act)
                        {
                            gv = TS.Fma(scale, TS.Load(hm + k), gv);
                        }

                        if (xm != null)
                        {
                            gv = TS.Add(gv, TS.Load(xm + k));
                        }

                        TS.Store(TS.Mul(alpha, gv), pm + k);
                        if (leaky)
                        {
                            TS.Store(TS.Mul(keep, gv), gm + k);
                        }
                    }
                }

                if (t > 1 || _learnedH0)
                {
                    TileKernel.RowStrip<TS, TV>(p, np, 1, _n, _wr.Pointer, np, q, np, np, load: false);
                }
            }
        }

        if (_learnedH0)
        {
            // ∂L/∂h₀ = (1 − α) g_1 + φ′(r_0) ⊙ q_1, per trial, into G for Finish to sum.
            float* g = _g.Pointer + (long)r0 * np, q = _q.Pointer + (long)r0 * np, r0Rates = rates + (long)r0 * np;
            for (long k = 0, count = (long)(r1 - r0) * np; k < count; k += w)
            {
                TV slope = TA.Derivative<TS, TV>(TS.Load(r0Rates + k));
                TV gv = leaky ? TS.Fma(slope, TS.Load(q + k), TS.Load(g + k)) : TS.Mul(slope, TS.Load(q + k));
                TS.Store(gv, g + k);
            }
        }
    }
}
