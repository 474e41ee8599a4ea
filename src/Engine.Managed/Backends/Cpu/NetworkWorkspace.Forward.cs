using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Engine.Model;
using Engine.Numerics;

namespace Engine.Backends.Cpu;

/// <summary>The forward recurrence of <see cref="NetworkWorkspace"/>.</summary>
internal sealed unsafe partial class NetworkWorkspace
{
    /// <summary>
    /// Runs trials [r0, r1) (a multiple of 4 apart) through all T steps; keeps φ′(a) in P when
    /// <paramref name="keepDerivative"/>; writes the readout Y. The rate cell runs <see cref="ForwardRate"/> instead.
    /// </summary>
    /// <remarks>
    /// Per step and 4-trial tile: Z = X̃_t [Uᵀ; bᵀ] + H_{t−1} Wᵀ (one micro-kernel pass, input terms first), then the epilogue
    /// a = φ(Z), h = (1 − α) h_{t−1} + α a + σ√α ξ, and y = C h + d while the tile is in L1.
    /// </remarks>
    public void Forward(int r0, int r1, bool keepDerivative)
    {
        if (_rate)
        {
            ForwardRate(r0, r1);
            return;
        }

        switch (_wide, _activation)
        {
            case (true, ActivationKind.Tanh): Forward<Simd512, Vector512<float>, TanhVector>(r0, r1, keepDerivative); break;
            case (true, ActivationKind.Relu): Forward<Simd512, Vector512<float>, ReluVector>(r0, r1, keepDerivative); break;
            case (true, _): Forward<Simd512, Vector512<float>, IdentityVector>(r0, r1, keepDerivative); break;
            case (false, ActivationKind.Tanh): Forward<Simd256, Vector256<float>, TanhVector>(r0, r1, keepDerivative); break;
            case (false, ActivationKind.Relu): Forward<Simd256, Vector256<float>, ReluVector>(r0, r1, keepDerivative); break;
            default: Forward<Simd256, Vector256<float>, IdentityVector>(r0, r1, keepDerivative); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Forward<TS, TV, TA>(int r0, int r1, bool keepDerivative)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        where TA : struct, IVectorActivation
    {
        int np = _np, bp = _bp, ip = _ip;
        for (int t = 1; t <= _t; t++)
        {
            for (int r = r0; r < r1; r += TileKernel.Rows)
            {
                long row = (long)(t - 1) * bp + r;
                float* hc = _h.Pointer + (row + bp) * np;
                float* hp = _h.Pointer + row * np;
                TileKernel.RowStrip<TS, TV>(_x.Pointer + row * ip, ip, _ni + 1, _ut.Pointer, hp, np, 1, _n, _wt.Pointer, np, hc, np, np, load: false);
                Epilogue<TS, TV, TA>(hc, hp, _p.Pointer + row * np, TileKernel.Rows * np, keepDerivative);
                Readout<TS, TV>(hc, _y.Pointer + row * _op);
            }
        }
    }

    /// <summary>h = (1 − α) h_prev + α φ(z) (+ noise held in p); p ← φ′ when asked. Over <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Epilogue<TS, TV, TA>(float* h, float* hPrev, float* p, int count, bool keepDerivative)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        where TA : struct, IVectorActivation
    {
        int w = TS.Lanes;
        bool leaky = _alpha != 1f, noise = _noiseScale != 0f;
        TV alpha = TS.Splat(_alpha), keep = TS.Splat(1f - _alpha);
        for (int k = 0; k < count; k += w)
        {
            TV a = TA.Apply<TS, TV>(TS.Load(h + k));
            TV hn = leaky ? TS.Fma(alpha, a, TS.Mul(keep, TS.Load(hPrev + k))) : a;
            if (noise)
            {
                hn = TS.Add(hn, TS.Load(p + k));
            }

            if (keepDerivative)
            {
                TS.Store(TA.Derivative<TS, TV>(a), p + k);
            }

            TS.Store(hn, h + k);
        }
    }

    /// <summary>y = C h + d for the 4 rows of a tile; y rows have Op entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Readout<TS, TV>(float* h, float* y)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        int w = TS.Lanes, np = _np;
        for (int m = 0; m < TileKernel.Rows; m++)
        {
            float* hm = h + m * np;
            for (int o = 0; o < _no; o++)
            {
                float* c = _cp.Pointer + o * np;
                TV acc = TS.Mul(TS.Load(c), TS.Load(hm));
                for (int k = w; k < np; k += w)
                {
                    acc = TS.Fma(TS.Load(c + k), TS.Load(hm + k), acc);
                }

                y[m * _op + o] = TS.Sum(acc) + _d[o];
            }
        }
    }
}
