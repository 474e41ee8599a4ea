using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace Engine.ClosedLoop;

/// <summary>float64 SIMD kernels of the closed-loop fast path (Vector512 where the hardware has it, scalar tails).</summary>
/// <remarks>Every kernel has a fixed reduction order that does not depend on threads, so results are reproducible.</remarks>
internal static class SimdF64
{
    /// <summary>dst[i] = Σ_j W[i, j] x[j] (+ dst[i] when <paramref name="accumulate"/>), W row-major rows×cols.</summary>
    public static void MatVec(ReadOnlySpan<double> w, int rows, int cols, ReadOnlySpan<double> x, Span<double> dst, bool accumulate)
    {
        int i = 0;
        ref double wr = ref MemoryMarshal.GetReference(w);
        ref double xr = ref MemoryMarshal.GetReference(x);
        if (Vector512.IsHardwareAccelerated && cols >= 8)
        {
            int vend = cols - cols % 8;
            for (; i + 4 <= rows; i += 4)
            {
                var a0 = Vector512<double>.Zero;
                var a1 = Vector512<double>.Zero;
                var a2 = Vector512<double>.Zero;
                var a3 = Vector512<double>.Zero;
                nuint r0 = (nuint)(i * cols), r1 = r0 + (nuint)cols, r2 = r1 + (nuint)cols, r3 = r2 + (nuint)cols;
                for (int j = 0; j < vend; j += 8)
                {
                    var xv = Vector512.LoadUnsafe(ref xr, (nuint)j);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wr, r0 + (nuint)j), xv, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wr, r1 + (nuint)j), xv, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wr, r2 + (nuint)j), xv, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wr, r3 + (nuint)j), xv, a3);
                }

                double s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
                for (int j = vend; j < cols; j++)
                {
                    double xj = x[j];
                    s0 += w[(int)r0 + j] * xj;
                    s1 += w[(int)r1 + j] * xj;
                    s2 += w[(int)r2 + j] * xj;
                    s3 += w[(int)r3 + j] * xj;
                }

                if (accumulate)
                {
                    dst[i] += s0;
                    dst[i + 1] += s1;
                    dst[i + 2] += s2;
                    dst[i + 3] += s3;
                }
                else
                {
                    dst[i] = s0;
                    dst[i + 1] = s1;
                    dst[i + 2] = s2;
                    dst[i + 3] = s3;
                }
            }
        }

        if (cols < 8)
        {
            // a handful of inputs or controls: plain loops beat a vector call per row
            for (; i < rows; i++)
            {
                double s = 0;
                for (int j = 0; j < cols; j++)
                {
                    s += w[i * cols + j] * x[j];
                }

                dst[i] = accumulate ? dst[i] + s : s;
            }

            return;
        }

        for (; i < rows; i++)
        {
            double s = TensorPrimitives.Dot(w.Slice(i * cols, cols), x[..cols]);
            dst[i] = accumulate ? dst[i] + s : s;
        }
    }

    /// <summary>dst[j] += Σ_i W[i, j] g[i] (Wᵀ g, accumulated), W row-major rows×cols; four rows per pass over dst.</summary>
    public static void MatTVecAdd(ReadOnlySpan<double> w, int rows, int cols, ReadOnlySpan<double> g, Span<double> dst)
    {
        ref double wr = ref MemoryMarshal.GetReference(w);
        ref double dr = ref MemoryMarshal.GetReference(dst);
        int vend = Vector512.IsHardwareAccelerated ? cols - cols % 8 : 0;
        int i = 0;
        for (; i + 4 <= rows; i += 4)
        {
            double g0 = g[i], g1 = g[i + 1], g2 = g[i + 2], g3 = g[i + 3];
            var v0 = Vector512.Create(g0);
            var v1 = Vector512.Create(g1);
            var v2 = Vector512.Create(g2);
            var v3 = Vector512.Create(g3);
            nuint r0 = (nuint)(i * cols), r1 = r0 + (nuint)cols, r2 = r1 + (nuint)cols, r3 = r2 + (nuint)cols;
            for (int j = 0; j < vend; j += 8)
            {
                var acc = Vector512.LoadUnsafe(ref dr, (nuint)j);
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wr, r0 + (nuint)j), v0, acc);
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wr, r1 + (nuint)j), v1, acc);
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wr, r2 + (nuint)j), v2, acc);
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref wr, r3 + (nuint)j), v3, acc);
                acc.StoreUnsafe(ref dr, (nuint)j);
            }

            for (int j = vend; j < cols; j++)
            {
                dst[j] += w[(int)r0 + j] * g0 + w[(int)r1 + j] * g1 + w[(int)r2 + j] * g2 + w[(int)r3 + j] * g3;
            }
        }

        for (; i < rows; i++)
        {
            double gi = g[i];
            for (int j = 0; j < cols; j++)
            {
                dst[j] += w[i * cols + j] * gi;
            }
        }
    }

    /// <summary>
    /// C (rows×cols) += Σ_k a_k b_kᵀ over <paramref name="count"/> pairs: a_k = A[aStart + k·aStride .. + rows],
    /// b_k = Bm[bStart + k·bStride .. + cols]. A register-blocked outer-product GEMM (4 rows × 8 columns).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OuterAccumulate(Span<double> c, int rows, int cols, ReadOnlySpan<double> a, int aStart, int aStride,
        ReadOnlySpan<double> bm, int bStart, int bStride, int count)
    {
        ref double ar = ref MemoryMarshal.GetReference(a);
        ref double br = ref MemoryMarshal.GetReference(bm);
        ref double cr = ref MemoryMarshal.GetReference(c);
        int vend = Vector512.IsHardwareAccelerated ? cols - cols % 8 : 0;
        int i = 0;
        for (; i + 4 <= rows; i += 4)
        {
            for (int j = 0; j < vend; j += 8)
            {
                var c0 = Vector512<double>.Zero;
                var c1 = Vector512<double>.Zero;
                var c2 = Vector512<double>.Zero;
                var c3 = Vector512<double>.Zero;
                nuint ai = (nuint)(aStart + i), bj = (nuint)(bStart + j);
                for (int k = 0; k < count; k++)
                {
                    var bv = Vector512.LoadUnsafe(ref br, bj);
                    c0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref ar, ai)), bv, c0);
                    c1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref ar, ai + 1)), bv, c1);
                    c2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref ar, ai + 2)), bv, c2);
                    c3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref ar, ai + 3)), bv, c3);
                    ai += (nuint)aStride;
                    bj += (nuint)bStride;
                }

                nuint o = (nuint)(i * cols + j);
                (Vector512.LoadUnsafe(ref cr, o) + c0).StoreUnsafe(ref cr, o);
                (Vector512.LoadUnsafe(ref cr, o + (nuint)cols) + c1).StoreUnsafe(ref cr, o + (nuint)cols);
                (Vector512.LoadUnsafe(ref cr, o + (nuint)(2 * cols)) + c2).StoreUnsafe(ref cr, o + (nuint)(2 * cols));
                (Vector512.LoadUnsafe(ref cr, o + (nuint)(3 * cols)) + c3).StoreUnsafe(ref cr, o + (nuint)(3 * cols));
            }

            for (int r = i; r < i + 4; r++)
            {
                ScalarTail(c, cols, a, aStart, aStride, bm, bStart, bStride, count, r, vend);
            }
        }

        for (; i < rows; i++)
        {
            ScalarTail(c, cols, a, aStart, aStride, bm, bStart, bStride, count, i, 0);
        }
    }

    private static void ScalarTail(Span<double> c, int cols, ReadOnlySpan<double> a, int aStart, int aStride,
        ReadOnlySpan<double> bm, int bStart, int bStride, int count, int row, int fromCol)
    {
        for (int j = fromCol; j < cols; j++)
        {
            double s = 0;
            for (int k = 0; k < count; k++)
            {
                s += a[aStart + k * aStride + row] * bm[bStart + k * bStride + j];
            }

            c[row * cols + j] += s;
        }
    }
}
