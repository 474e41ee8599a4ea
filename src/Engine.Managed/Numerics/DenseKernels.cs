using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Numerics;

/// <summary>float64 dense products of the fast CPU path (the closed-loop agents), written once over <see cref="ISimd{TV, T}"/>.</summary>
/// <remarks>
/// Each public method picks <see cref="Simd512D"/> where 512-bit vectors are accelerated, else <see cref="Simd256D"/>.
/// Every kernel has a fixed reduction order that depends neither on threads nor on how a caller splits its work, so
/// results are reproducible. Row-major matrices throughout.
/// </remarks>
internal static unsafe class DenseKernels
{
    /// <summary>dst[i] = Σ_j W[i, j] x[j] (+ dst[i] when <paramref name="accumulate"/>), W rows×cols.</summary>
    public static void MatVec(ReadOnlySpan<double> w, int rows, int cols, ReadOnlySpan<double> x, Span<double> dst, bool accumulate)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            MatVec<Simd512D, Vector512<double>>(w, rows, cols, x, dst, accumulate);
        }
        else
        {
            MatVec<Simd256D, Vector256<double>>(w, rows, cols, x, dst, accumulate);
        }
    }

    /// <summary>dst[j] += Σ_i W[i, j] g[i] (Wᵀ g, accumulated), W rows×cols; four rows per pass over dst.</summary>
    public static void MatTVecAdd(ReadOnlySpan<double> w, int rows, int cols, ReadOnlySpan<double> g, Span<double> dst)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            MatTVecAdd<Simd512D, Vector512<double>>(w, rows, cols, g, dst);
        }
        else
        {
            MatTVecAdd<Simd256D, Vector256<double>>(w, rows, cols, g, dst);
        }
    }

    /// <summary>
    /// <see cref="MatTVecAdd"/> for <paramref name="count"/> ≤ 4 vectors: dst[dOff[k] + j] += Σ_i W[i, j] g[gOff[k] + i].
    /// Each load of four W rows serves two vectors (their broadcasts held in registers); per element the additions
    /// happen in MatTVecAdd's order. With Wᵀ in place of W it is the forward product W h without horizontal sums.
    /// </summary>
    public static void MatTVecAddBlock(ReadOnlySpan<double> w, int rows, int cols, double[] g, int[] gOff, double[] dst, int[] dOff, int count)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            MatTVecAddBlock<Simd512D, Vector512<double>>(w, rows, cols, g, gOff, dst, dOff, count);
        }
        else
        {
            MatTVecAddBlock<Simd256D, Vector256<double>>(w, rows, cols, g, gOff, dst, dOff, count);
        }
    }

    /// <summary>
    /// C (rows×cols) += Σ_k a_k b_kᵀ over <paramref name="count"/> pairs: a_k = A[aStart + k·aStride .. + rows],
    /// b_k = Bm[bStart + k·bStride .. + cols]. A register-blocked outer-product GEMM: 4 rows × 2 vectors (eight
    /// independent accumulators, so the FMA latency is hidden), then 4 × 1 vector, then the last columns with the
    /// rows as the vector dimension; with fewer columns than a vector (the m and z gradients) the rows are the vector
    /// dimension throughout.
    /// </summary>
    public static void OuterAccumulate(Span<double> c, int rows, int cols, ReadOnlySpan<double> a, int aStart, int aStride,
        ReadOnlySpan<double> bm, int bStart, int bStride, int count)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            OuterAccumulate<Simd512D, Vector512<double>>(c, rows, cols, a, aStart, aStride, bm, bStart, bStride, count);
        }
        else
        {
            OuterAccumulate<Simd256D, Vector256<double>>(c, rows, cols, a, aStart, aStride, bm, bStart, bStride, count);
        }
    }

    private static void MatVec<TS, TV>(ReadOnlySpan<double> w, int rows, int cols, ReadOnlySpan<double> x, Span<double> dst, bool accumulate)
        where TS : struct, ISimd<TV, double>
        where TV : struct
    {
        int lanes = TS.Lanes;
        int i = 0;
        if (cols >= lanes)
        {
            int vend = cols - cols % lanes;
            fixed (double* wp = w, xp = x)
            {
                for (; i + 4 <= rows; i += 4)
                {
                    TV a0 = TS.Splat(0), a1 = a0, a2 = a0, a3 = a0;
                    double* r0 = wp + i * cols, r1 = r0 + cols, r2 = r1 + cols, r3 = r2 + cols;
                    for (int j = 0; j < vend; j += lanes)
                    {
                        TV xv = TS.Load(xp + j);
                        a0 = TS.Fma(TS.Load(r0 + j), xv, a0);
                        a1 = TS.Fma(TS.Load(r1 + j), xv, a1);
                        a2 = TS.Fma(TS.Load(r2 + j), xv, a2);
                        a3 = TS.Fma(TS.Load(r3 + j), xv, a3);
                    }

                    double s0 = TS.Sum(a0), s1 = TS.Sum(a1), s2 = TS.Sum(a2), s3 = TS.Sum(a3);
                    for (int j = vend; j < cols; j++)
                    {
                        double xj = xp[j];
                        s0 += r0[j] * xj;
                        s1 += r1[j] * xj;
                        s2 += r2[j] * xj;
                        s3 += r3[j] * xj;
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MatTVecAddBlock<TS, TV>(ReadOnlySpan<double> w, int rows, int cols, double[] g, int[] gOff, double[] dst, int[] dOff, int count)
        where TS : struct, ISimd<TV, double>
        where TV : struct
    {
        if (count == 1)
        {
            MatTVecAdd<TS, TV>(w, rows, cols, g.AsSpan(gOff[0], rows), dst.AsSpan(dOff[0], cols));
            return;
        }

        int lanes = TS.Lanes;
        int vend = cols - cols % lanes;
        int i = 0;
        fixed (double* wp = w, gp = g, dp = dst)
        {
            for (; i + 4 <= rows; i += 4)
            {
                double* r0 = wp + i * cols, r1 = r0 + cols, r2 = r1 + cols, r3 = r2 + cols;
                for (int k = 0; k < count; k += 2)
                {
                    // two vectors per pass over the four W rows: their broadcasts stay in registers
                    bool two = k + 1 < count;
                    int ga = gOff[k] + i, gb = two ? gOff[k + 1] + i : ga;
                    TV a0 = TS.Splat(gp[ga]), a1 = TS.Splat(gp[ga + 1]), a2 = TS.Splat(gp[ga + 2]), a3 = TS.Splat(gp[ga + 3]);
                    TV b0 = TS.Splat(gp[gb]), b1 = TS.Splat(gp[gb + 1]), b2 = TS.Splat(gp[gb + 2]), b3 = TS.Splat(gp[gb + 3]);
                    double* da = dp + dOff[k];
                    double* db = dp + dOff[two ? k + 1 : k];
                    for (int j = 0; j < vend; j += lanes)
                    {
                        TV w0 = TS.Load(r0 + j), w1 = TS.Load(r1 + j), w2 = TS.Load(r2 + j), w3 = TS.Load(r3 + j);
                        TV x = TS.Load(da + j);
                        x = TS.Fma(w0, a0, x);
                        x = TS.Fma(w1, a1, x);
                        x = TS.Fma(w2, a2, x);
                        x = TS.Fma(w3, a3, x);
                        TS.Store(x, da + j);
                        if (two)
                        {
                            TV y = TS.Load(db + j);
                            y = TS.Fma(w0, b0, y);
                            y = TS.Fma(w1, b1, y);
                            y = TS.Fma(w2, b2, y);
                            y = TS.Fma(w3, b3, y);
                            TS.Store(y, db + j);
                        }
                    }
                }

                for (int k = 0; k < count; k++)
                {
                    int go = gOff[k] + i;
                    double* d = dp + dOff[k];
                    double g0 = gp[go], g1 = gp[go + 1], g2 = gp[go + 2], g3 = gp[go + 3];
                    for (int j = vend; j < cols; j++)
                    {
                        d[j] += r0[j] * g0 + r1[j] * g1 + r2[j] * g2 + r3[j] * g3;
                    }
                }
            }

            for (; i < rows; i++)
            {
                for (int k = 0; k < count; k++)
                {
                    double gi = gp[gOff[k] + i];
                    double* d = dp + dOff[k];
                    for (int j = 0; j < cols; j++)
                    {
                        d[j] += wp[i * cols + j] * gi;
                    }
                }
            }
        }
    }

    private static void MatTVecAdd<TS, TV>(ReadOnlySpan<double> w, int rows, int cols, ReadOnlySpan<double> g, Span<double> dst)
        where TS : struct, ISimd<TV, double>
        where TV : struct
    {
        int lanes = TS.Lanes;
        int vend = cols - cols % lanes;
        int i = 0;
        fixed (double* wp = w, dp = dst)
        {
            for (; i + 4 <= rows; i += 4)
            {
                double g0 = g[i], g1 = g[i + 1], g2 = g[i + 2], g3 = g[i + 3];
                TV v0 = TS.Splat(g0), v1 = TS.Splat(g1), v2 = TS.Splat(g2), v3 = TS.Splat(g3);
                double* r0 = wp + i * cols, r1 = r0 + cols, r2 = r1 + cols, r3 = r2 + cols;
                for (int j = 0; j < vend; j += lanes)
                {
                    TV acc = TS.Load(dp + j);
                    acc = TS.Fma(TS.Load(r0 + j), v0, acc);
                    acc = TS.Fma(TS.Load(r1 + j), v1, acc);
                    acc = TS.Fma(TS.Load(r2 + j), v2, acc);
                    acc = TS.Fma(TS.Load(r3 + j), v3, acc);
                    TS.Store(acc, dp + j);
                }

                for (int j = vend; j < cols; j++)
                {
                    dp[j] += r0[j] * g0 + r1[j] * g1 + r2[j] * g2 + r3[j] * g3;
                }
            }

            for (; i < rows; i++)
            {
                double gi = g[i];
                for (int j = 0; j < cols; j++)
                {
                    dp[j] += wp[i * cols + j] * gi;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OuterAccumulate<TS, TV>(Span<double> c, int rows, int cols, ReadOnlySpan<double> a, int aStart, int aStride,
        ReadOnlySpan<double> bm, int bStart, int bStride, int count)
        where TS : struct, ISimd<TV, double>
        where TV : struct
    {
        int lanes = TS.Lanes;
        if (cols < lanes)
        {
            NarrowOuterAccumulate<TS, TV>(c, rows, cols, a, aStart, aStride, bm, bStart, bStride, count, cols);
            return;
        }

        int v2 = cols - cols % (2 * lanes), vend = cols - cols % lanes;
        int i = 0;
        fixed (double* ap = a, bp = bm, cp = c)
        {
            for (; i + 4 <= rows; i += 4)
            {
                for (int j = 0; j < v2; j += 2 * lanes)
                {
                    TV c0 = TS.Splat(0), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
                    double* ai = ap + aStart + i;
                    double* bj = bp + bStart + j;
                    for (int k = 0; k < count; k++)
                    {
                        TV bv = TS.Load(bj), bw = TS.Load(bj + lanes);
                        TV x0 = TS.Splat(ai[0]), x1 = TS.Splat(ai[1]), x2 = TS.Splat(ai[2]), x3 = TS.Splat(ai[3]);
                        c0 = TS.Fma(x0, bv, c0);
                        d0 = TS.Fma(x0, bw, d0);
                        c1 = TS.Fma(x1, bv, c1);
                        d1 = TS.Fma(x1, bw, d1);
                        c2 = TS.Fma(x2, bv, c2);
                        d2 = TS.Fma(x2, bw, d2);
                        c3 = TS.Fma(x3, bv, c3);
                        d3 = TS.Fma(x3, bw, d3);
                        ai += aStride;
                        bj += bStride;
                    }

                    double* o = cp + i * cols + j;
                    AddStore<TS, TV>(o, lanes, c0, d0);
                    AddStore<TS, TV>(o + cols, lanes, c1, d1);
                    AddStore<TS, TV>(o + 2 * cols, lanes, c2, d2);
                    AddStore<TS, TV>(o + 3 * cols, lanes, c3, d3);
                }

                for (int j = v2; j < vend; j += lanes)
                {
                    TV c0 = TS.Splat(0), c1 = c0, c2 = c0, c3 = c0;
                    double* ai = ap + aStart + i;
                    double* bj = bp + bStart + j;
                    for (int k = 0; k < count; k++)
                    {
                        TV bv = TS.Load(bj);
                        c0 = TS.Fma(TS.Splat(ai[0]), bv, c0);
                        c1 = TS.Fma(TS.Splat(ai[1]), bv, c1);
                        c2 = TS.Fma(TS.Splat(ai[2]), bv, c2);
                        c3 = TS.Fma(TS.Splat(ai[3]), bv, c3);
                        ai += aStride;
                        bj += bStride;
                    }

                    double* o = cp + i * cols + j;
                    TS.Store(TS.Add(TS.Load(o), c0), o);
                    TS.Store(TS.Add(TS.Load(o + cols), c1), o + cols);
                    TS.Store(TS.Add(TS.Load(o + 2 * cols), c2), o + 2 * cols);
                    TS.Store(TS.Add(TS.Load(o + 3 * cols), c3), o + 3 * cols);
                }

                if (vend < cols)
                {
                    // the last columns: rows are the vector dimension, like the narrow case
                    NarrowOuterAccumulate<TS, TV>(c.Slice(i * cols + vend), 4, cols - vend, a, aStart + i, aStride, bm, bStart + vend, bStride, count, cols);
                }
            }
        }

        for (; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int k = 0; k < count; k++)
                {
                    s += a[aStart + k * aStride + i] * bm[bStart + k * bStride + j];
                }

                c[i * cols + j] += s;
            }
        }
    }

    private static void AddStore<TS, TV>(double* o, int lanes, TV lo, TV hi)
        where TS : struct, ISimd<TV, double>
        where TV : struct
    {
        TS.Store(TS.Add(TS.Load(o), lo), o);
        TS.Store(TS.Add(TS.Load(o + lanes), hi), o + lanes);
    }

    /// <summary>
    /// The outer-product GEMM for few columns: for each column j, Σ_k a_k b_k[j] with the rows as the vector dimension
    /// (four vectors of rows at a time, then one); C row stride <paramref name="cStride"/>.
    /// </summary>
    private static void NarrowOuterAccumulate<TS, TV>(Span<double> c, int rows, int cols, ReadOnlySpan<double> a, int aStart, int aStride,
        ReadOnlySpan<double> bm, int bStart, int bStride, int count, int cStride)
        where TS : struct, ISimd<TV, double>
        where TV : struct
    {
        int lanes = TS.Lanes;
        int rv = rows - rows % lanes;
        double* buffer = stackalloc double[lanes];
        fixed (double* ap = a, bp = bm)
        {
            for (int j = 0; j < cols; j++)
            {
                int i = 0;
                for (; i + 4 * lanes <= rv; i += 4 * lanes)
                {
                    TV s0 = TS.Splat(0), s1 = s0, s2 = s0, s3 = s0;
                    double* ai = ap + aStart + i;
                    double* bj = bp + bStart + j;
                    for (int k = 0; k < count; k++)
                    {
                        TV bk = TS.Splat(*bj);
                        s0 = TS.Fma(TS.Load(ai), bk, s0);
                        s1 = TS.Fma(TS.Load(ai + lanes), bk, s1);
                        s2 = TS.Fma(TS.Load(ai + 2 * lanes), bk, s2);
                        s3 = TS.Fma(TS.Load(ai + 3 * lanes), bk, s3);
                        ai += aStride;
                        bj += bStride;
                    }

                    Scatter<TS, TV>(c, cStride, j, i, s0, buffer);
                    Scatter<TS, TV>(c, cStride, j, i + lanes, s1, buffer);
                    Scatter<TS, TV>(c, cStride, j, i + 2 * lanes, s2, buffer);
                    Scatter<TS, TV>(c, cStride, j, i + 3 * lanes, s3, buffer);
                }

                for (; i < rv; i += lanes)
                {
                    TV s0 = TS.Splat(0);
                    double* ai = ap + aStart + i;
                    double* bj = bp + bStart + j;
                    for (int k = 0; k < count; k++)
                    {
                        s0 = TS.Fma(TS.Load(ai), TS.Splat(*bj), s0);
                        ai += aStride;
                        bj += bStride;
                    }

                    Scatter<TS, TV>(c, cStride, j, i, s0, buffer);
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
    }

    private static void Scatter<TS, TV>(Span<double> c, int cStride, int j, int i, TV s, double* buffer)
        where TS : struct, ISimd<TV, double>
        where TV : struct
    {
        TS.Store(s, buffer);
        for (int l = 0; l < TS.Lanes; l++)
        {
            c[(i + l) * cStride + j] += buffer[l];
        }
    }
}
