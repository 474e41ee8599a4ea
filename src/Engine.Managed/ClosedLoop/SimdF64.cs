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

    /// <summary>
    /// <see cref="MatTVecAdd"/> for <paramref name="count"/> ≤ 4 vectors: dst[dOff[k] + j] += Σ_i W[i, j] g[gOff[k] + i].
    /// Each load of four W rows serves two vectors (their broadcasts held in registers); per element the additions
    /// happen in MatTVecAdd's order. With Wᵀ in place of W it is the forward product W h without horizontal sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatTVecAddBlock(ReadOnlySpan<double> w, int rows, int cols, double[] g, int[] gOff, double[] dst, int[] dOff, int count)
    {
        if (count == 1 || !Vector512.IsHardwareAccelerated)
        {
            for (int k = 0; k < count; k++)
            {
                MatTVecAdd(w, rows, cols, g.AsSpan(gOff[k], rows), dst.AsSpan(dOff[k], cols));
            }

            return;
        }

        ref double wr = ref MemoryMarshal.GetReference(w);
        int vend = cols - cols % 8;
        int i = 0;
        for (; i + 4 <= rows; i += 4)
        {
            nuint r0 = (nuint)(i * cols), r1 = r0 + (nuint)cols, r2 = r1 + (nuint)cols, r3 = r2 + (nuint)cols;
            for (int k = 0; k < count; k += 2)
            {
                // two vectors per pass over the four W rows: their broadcasts stay in registers
                bool two = k + 1 < count;
                int ga = gOff[k] + i, gb = two ? gOff[k + 1] + i : ga;
                var a0 = Vector512.Create(g[ga]);
                var a1 = Vector512.Create(g[ga + 1]);
                var a2 = Vector512.Create(g[ga + 2]);
                var a3 = Vector512.Create(g[ga + 3]);
                var b0 = Vector512.Create(g[gb]);
                var b1 = Vector512.Create(g[gb + 1]);
                var b2 = Vector512.Create(g[gb + 2]);
                var b3 = Vector512.Create(g[gb + 3]);
                ref double da = ref dst[dOff[k]];
                ref double db = ref dst[dOff[two ? k + 1 : k]];
                for (int j = 0; j < vend; j += 8)
                {
                    var w0 = Vector512.LoadUnsafe(ref wr, r0 + (nuint)j);
                    var w1 = Vector512.LoadUnsafe(ref wr, r1 + (nuint)j);
                    var w2 = Vector512.LoadUnsafe(ref wr, r2 + (nuint)j);
                    var w3 = Vector512.LoadUnsafe(ref wr, r3 + (nuint)j);
                    var x = Vector512.LoadUnsafe(ref da, (nuint)j);
                    x = Vector512.FusedMultiplyAdd(w0, a0, x);
                    x = Vector512.FusedMultiplyAdd(w1, a1, x);
                    x = Vector512.FusedMultiplyAdd(w2, a2, x);
                    x = Vector512.FusedMultiplyAdd(w3, a3, x);
                    x.StoreUnsafe(ref da, (nuint)j);
                    if (two)
                    {
                        var y = Vector512.LoadUnsafe(ref db, (nuint)j);
                        y = Vector512.FusedMultiplyAdd(w0, b0, y);
                        y = Vector512.FusedMultiplyAdd(w1, b1, y);
                        y = Vector512.FusedMultiplyAdd(w2, b2, y);
                        y = Vector512.FusedMultiplyAdd(w3, b3, y);
                        y.StoreUnsafe(ref db, (nuint)j);
                    }
                }
            }

            for (int k = 0; k < count; k++)
            {
                int go = gOff[k] + i, d = dOff[k];
                double g0 = g[go], g1 = g[go + 1], g2 = g[go + 2], g3 = g[go + 3];
                for (int j = vend; j < cols; j++)
                {
                    dst[d + j] += w[(int)r0 + j] * g0 + w[(int)r1 + j] * g1 + w[(int)r2 + j] * g2 + w[(int)r3 + j] * g3;
                }
            }
        }

        for (; i < rows; i++)
        {
            for (int k = 0; k < count; k++)
            {
                double gi = g[gOff[k] + i];
                int d = dOff[k];
                for (int j = 0; j < cols; j++)
                {
                    dst[d + j] += w[i * cols + j] * gi;
                }
            }
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
    /// b_k = Bm[bStart + k·bStride .. + cols]. A register-blocked outer-product GEMM: 4 rows × 16 columns (eight
    /// independent accumulators, so the FMA latency is hidden), then 4 × 8, a scalar column tail; with fewer than
    /// 8 columns (the m and z gradients) the rows are the vector dimension instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OuterAccumulate(Span<double> c, int rows, int cols, ReadOnlySpan<double> a, int aStart, int aStride,
        ReadOnlySpan<double> bm, int bStart, int bStride, int count)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            for (int r = 0; r < rows; r++)
            {
                ScalarTail(c, cols, a, aStart, aStride, bm, bStart, bStride, count, r, 0);
            }

            return;
        }

        if (cols < 8)
        {
            NarrowOuterAccumulate(c, rows, cols, a, aStart, aStride, bm, bStart, bStride, count);
            return;
        }

        ref double ar = ref MemoryMarshal.GetReference(a);
        ref double br = ref MemoryMarshal.GetReference(bm);
        ref double cr = ref MemoryMarshal.GetReference(c);
        int v16 = cols - cols % 16, vend = cols - cols % 8;
        int i = 0;
        for (; i + 4 <= rows; i += 4)
        {
            for (int j = 0; j < v16; j += 16)
            {
                Vector512<double> c0 = default, c1 = default, c2 = default, c3 = default;
                Vector512<double> d0 = default, d1 = default, d2 = default, d3 = default;
                nuint ai = (nuint)(aStart + i), bj = (nuint)(bStart + j);
                for (int k = 0; k < count; k++)
                {
                    var bv = Vector512.LoadUnsafe(ref br, bj);
                    var bw = Vector512.LoadUnsafe(ref br, bj + 8);
                    var x0 = Vector512.Create(Unsafe.Add(ref ar, ai));
                    var x1 = Vector512.Create(Unsafe.Add(ref ar, ai + 1));
                    var x2 = Vector512.Create(Unsafe.Add(ref ar, ai + 2));
                    var x3 = Vector512.Create(Unsafe.Add(ref ar, ai + 3));
                    c0 = Vector512.FusedMultiplyAdd(x0, bv, c0);
                    d0 = Vector512.FusedMultiplyAdd(x0, bw, d0);
                    c1 = Vector512.FusedMultiplyAdd(x1, bv, c1);
                    d1 = Vector512.FusedMultiplyAdd(x1, bw, d1);
                    c2 = Vector512.FusedMultiplyAdd(x2, bv, c2);
                    d2 = Vector512.FusedMultiplyAdd(x2, bw, d2);
                    c3 = Vector512.FusedMultiplyAdd(x3, bv, c3);
                    d3 = Vector512.FusedMultiplyAdd(x3, bw, d3);
                    ai += (nuint)aStride;
                    bj += (nuint)bStride;
                }

                nuint o = (nuint)(i * cols + j), cs = (nuint)cols;
                AddStore(ref cr, o, c0, d0);
                AddStore(ref cr, o + cs, c1, d1);
                AddStore(ref cr, o + 2 * cs, c2, d2);
                AddStore(ref cr, o + 3 * cs, c3, d3);
            }

            for (int j = v16; j < vend; j += 8)
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

            if (vend < cols)
            {
                // the last columns: rows are the vector dimension, like the narrow case
                NarrowOuterAccumulate(c.Slice(i * cols + vend), 4, cols - vend, a, aStart + i, aStride, bm, bStart + vend, bStride, count, cols);
            }
        }

        for (; i < rows; i++)
        {
            ScalarTail(c, cols, a, aStart, aStride, bm, bStart, bStride, count, i, 0);
        }
    }

    private static void AddStore(ref double cr, nuint o, Vector512<double> lo, Vector512<double> hi)
    {
        (Vector512.LoadUnsafe(ref cr, o) + lo).StoreUnsafe(ref cr, o);
        (Vector512.LoadUnsafe(ref cr, o + 8) + hi).StoreUnsafe(ref cr, o + 8);
    }

    /// <summary>
    /// The outer-product GEMM for few columns: for each column j, Σ_k a_k b_k[j] with the rows as the vector dimension
    /// (four 8-row chunks at a time); C row stride <paramref name="cStride"/> (default <paramref name="cols"/>).
    /// </summary>
    private static void NarrowOuterAccumulate(Span<double> c, int rows, int cols, ReadOnlySpan<double> a, int aStart, int aStride,
        ReadOnlySpan<double> bm, int bStart, int bStride, int count, int cStride = -1)
    {
        if (cStride < 0)
        {
            cStride = cols;
        }

        ref double ar = ref MemoryMarshal.GetReference(a);
        ref double br = ref MemoryMarshal.GetReference(bm);
        int rv = rows - rows % 8;
        Span<double> lanes = stackalloc double[8];
        for (int j = 0; j < cols; j++)
        {
            int i = 0;
            for (; i + 32 <= rv; i += 32)
            {
                Vector512<double> s0 = default, s1 = default, s2 = default, s3 = default;
                nuint ai = (nuint)(aStart + i), bj = (nuint)(bStart + j);
                for (int k = 0; k < count; k++)
                {
                    var bk = Vector512.Create(Unsafe.Add(ref br, bj));
                    s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ar, ai), bk, s0);
                    s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ar, ai + 8), bk, s1);
                    s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ar, ai + 16), bk, s2);
                    s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ar, ai + 24), bk, s3);
                    ai += (nuint)aStride;
                    bj += (nuint)bStride;
                }

                Scatter(c, cStride, j, i, s0, lanes);
                Scatter(c, cStride, j, i + 8, s1, lanes);
                Scatter(c, cStride, j, i + 16, s2, lanes);
                Scatter(c, cStride, j, i + 24, s3, lanes);
            }

            for (; i < rv; i += 8)
            {
                var s0 = Vector512<double>.Zero;
                nuint ai = (nuint)(aStart + i), bj = (nuint)(bStart + j);
                for (int k = 0; k < count; k++)
                {
                    s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ar, ai), Vector512.Create(Unsafe.Add(ref br, bj)), s0);
                    ai += (nuint)aStride;
                    bj += (nuint)bStride;
                }

                Scatter(c, cStride, j, i, s0, lanes);
            }

            for (; i < rows; i++)
            {
                double s = 0;
                for (int k = 0; k < count; k++)
                {
                    s += a[aStart + k * aStride + i] * bm[bStart + k * bStride + j];
                }

                c[i * cStride + j] += s;
            }
        }
    }

    private static void Scatter(Span<double> c, int cStride, int j, int i, Vector512<double> s, Span<double> lanes)
    {
        s.CopyTo(lanes);
        for (int l = 0; l < 8; l++)
        {
            c[(i + l) * cStride + j] += lanes[l];
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
