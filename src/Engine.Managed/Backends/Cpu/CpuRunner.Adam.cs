using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Engine.Kernels;

namespace Engine.Backends.Cpu;

/// <summary>The vectorised Adam step of <see cref="CpuRunner"/>.</summary>
internal sealed unsafe partial class CpuRunner
{
    /// <inheritdoc />
    /// <remarks>
    /// <see cref="AdamMath.Update"/> on whole vectors, with the same operations in the same order (separate
    /// multiplies and adds, no fused multiply-add), so it matches the scalar formula to the last bit.
    /// </remarks>
    public override void AdamStep(ReadOnlySpan<AdamCoefficients> coefficients)
    {
        ThrowIfDisposed();
        AdamBlocks.Expand(coefficients, Spec.Networks, Layout, _coefficients);
        _pool.Run(Spec.Networks, _adam);
    }

    private void AdamTask(int e, int worker)
    {
        int blocks = Layout.BlockCount;
        for (int blk = 0; blk < blocks; blk++)
        {
            var c = _coefficients[e * blocks + blk];
            int start = e * Layout.Stride + Layout.BlockStart(blk), count = Layout.BlockEnd(blk) - Layout.BlockStart(blk);
            if (c.StepSize == 0f || count == 0)
            {
                continue;
            }

            fixed (float* p = &Parameters[start], m = &FirstMoment[start], v = &SecondMoment[start], g = &Gradient[start])
            {
                int k = _wide ? Adam<Simd512, Vector512<float>>(p, m, v, g, count, c) : Adam<Simd256, Vector256<float>>(p, m, v, g, count, c);
                for (; k < count; k++)
                {
                    AdamMath.Update(ref p[k], ref m[k], ref v[k], g[k], c);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Adam<TS, TV>(float* p, float* m, float* v, float* g, int count, AdamCoefficients c)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        TV scale = TS.Splat(c.GradScale), b1 = TS.Splat(AdamMath.Beta1), b2 = TS.Splat(AdamMath.Beta2);
        TV c1 = TS.Splat(1f - AdamMath.Beta1), c2 = TS.Splat(1f - AdamMath.Beta2);
        TV step = TS.Splat(c.StepSize), inv = TS.Splat(c.InvSqrtBias2), eps = TS.Splat(c.Epsilon);
        int w = TS.Lanes, k = 0;
        for (; k + w <= count; k += w)
        {
            TV gs = TS.Mul(TS.Load(g + k), scale);
            TV mn = TS.Add(TS.Mul(b1, TS.Load(m + k)), TS.Mul(c1, gs));
            TV vn = TS.Add(TS.Mul(b2, TS.Load(v + k)), TS.Mul(TS.Mul(c2, gs), gs));
            TS.Store(mn, m + k);
            TS.Store(vn, v + k);
            TV update = TS.Div(TS.Mul(step, mn), TS.Add(TS.Mul(TS.Sqrt(vn), inv), eps));
            TS.Store(TS.Sub(TS.Load(p + k), update), p + k);
        }

        return k;
    }
}
