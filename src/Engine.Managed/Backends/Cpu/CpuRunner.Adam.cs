using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Engine.Kernels;
using Engine.Numerics;

namespace Engine.Backends.Cpu;

/// <summary>The vectorised Adam step of <see cref="CpuRunner"/>.</summary>
internal sealed unsafe partial class CpuRunner
{
    /// <inheritdoc />
    /// <remarks>
    /// <see cref="AdamMath.Update{T, TA}"/> on whole vectors, the tail element by element: the same method, so the two
    /// agree to the last bit.
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
        TV scale = TS.Splat(c.GradScale), step = TS.Splat(c.StepSize), inv = TS.Splat(c.InvSqrtBias2), eps = TS.Splat(c.Epsilon);
        int w = TS.Lanes, k = 0;
        for (; k + w <= count; k += w)
        {
            TV pk = TS.Load(p + k), mk = TS.Load(m + k), vk = TS.Load(v + k);
            AdamMath.Update<TV, TS>(ref pk, ref mk, ref vk, TS.Load(g + k), scale, step, inv, eps);
            TS.Store(mk, m + k);
            TS.Store(vk, v + k);
            TS.Store(pk, p + k);
        }

        return k;
    }
}
