using System.Runtime.Intrinsics;

namespace Engine.Numerics;

/// <summary>
/// C = op(A)·B for the modest dense products of the representational losses (a few hundred rows and columns), on the
/// float32 GEMM micro-kernel (<see cref="TileKernel"/>) with float64 operands and results.
/// </summary>
/// <remarks>
/// Products of fewer than <see cref="KernelThreshold"/> multiply-adds run as plain float64 loops (so small problems, and
/// the finite-difference tests on them, stay in float64); larger ones round the operands to float32 once, multiply on
/// the micro-kernel (float32 accumulation, relative error about 1e-6 of the row norms) and widen the result.
/// </remarks>
internal static unsafe class SmallGemm
{
    /// <summary>Multiply-adds from which the float32 kernel is used.</summary>
    public const long KernelThreshold = 1L << 18;

    /// <summary>C [m][n] = A·B with A [m][k] (or, when <paramref name="transposeA"/>, Aᵀ with A stored [k][m]) and B [k][n], row-major.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static double[] Multiply(ReadOnlySpan<double> a, bool transposeA, int m, int k, ReadOnlySpan<double> b, int n)
    {
        var c = new double[m * n];
        Multiply(a, transposeA, m, k, b, n, c);
        return c;
    }

    /// <summary>The same product written into <paramref name="c"/> [m][n] (fully overwritten; it must not overlap A or B).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<double> a, bool transposeA, int m, int k, ReadOnlySpan<double> b, int n, Span<double> c)
    {
        c = c.Slice(0, m * n);
        if ((long)m * k * n < KernelThreshold)
        {
            c.Clear();
            for (int i = 0; i < m; i++)
            {
                var ci = c.Slice(i * n, n);
                for (int q = 0; q < k; q++)
                {
                    double v = transposeA ? a[q * m + i] : a[i * k + q];
                    if (v != 0.0)
                    {
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b.Slice(q * n, n), v, ci, ci);
                    }
                }
            }

            return;
        }

        int lanes = Vector256<float>.Count;
        int mp = (m + TileKernel.Rows - 1) / TileKernel.Rows * TileKernel.Rows, np = (n + lanes - 1) / lanes * lanes;
        var pool = System.Buffers.ArrayPool<float>.Shared;
        var ap = pool.Rent(mp * k);
        var bp = pool.Rent(k * np);
        var cp = pool.Rent(mp * np);
        try
        {
            ap.AsSpan(0, mp * k).Clear();
            bp.AsSpan(0, k * np).Clear();
            fixed (float* pa = ap, pb = bp, pc = cp)
            {
                Run(a, transposeA, m, k, b, n, c, mp, np, pa, pb, pc);
            }
        }
        finally
        {
            pool.Return(ap);
            pool.Return(bp);
            pool.Return(cp);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Run(ReadOnlySpan<double> a, bool transposeA, int m, int k, ReadOnlySpan<double> b, int n, Span<double> c, int mp, int np, float* pa, float* pb, float* pc)
    {
        nint ars, aks;
        if (transposeA)
        {
            // Stored [k][m]: keep it as [k][mp], A(i, q) = pa[q·mp + i].
            for (int q = 0; q < k; q++)
            {
                for (int i = 0; i < m; i++)
                {
                    pa[q * mp + i] = (float)a[q * m + i];
                }
            }

            (ars, aks) = (1, mp);
        }
        else
        {
            for (int i = 0; i < m; i++)
            {
                for (int q = 0; q < k; q++)
                {
                    pa[i * k + q] = (float)a[i * k + q];
                }
            }

            (ars, aks) = (k, 1);
        }

        for (int q = 0; q < k; q++)
        {
            for (int j = 0; j < n; j++)
            {
                pb[q * np + j] = (float)b[q * n + j];
            }
        }

        for (int r = 0; r < mp; r += TileKernel.Rows)
        {
            TileKernel.RowStrip<Simd256, Vector256<float>>(pa + r * ars, ars, aks, k, pb, np, pc + (long)r * np, np, np, load: false);
        }

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                c[i * n + j] = pc[(long)i * np + j];
            }
        }
    }
}
