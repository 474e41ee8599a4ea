using System.Runtime.CompilerServices;

namespace Engine.Numerics;

/// <summary>A compile-time count of vector columns in a micro-tile (1 to 4).</summary>
internal interface IColumns
{
    static abstract int Count { get; }
}

internal readonly struct Cols1 : IColumns
{
    public static int Count => 1;
}

internal readonly struct Cols2 : IColumns
{
    public static int Count => 2;
}

internal readonly struct Cols3 : IColumns
{
    public static int Count => 3;
}

internal readonly struct Cols4 : IColumns
{
    public static int Count => 4;
}

/// <summary>
/// The register-blocked GEMM micro-kernel: 4 rows × up to 4 vectors of accumulators, C (+)= A·B.
/// </summary>
/// <remarks>
/// C[m, :] (+)= Σ_k A(m, k) · B[k, :] for m = 0..3 and a column strip of <c>TC</c> vectors. A is addressed
/// through strides, A(m, k) = a[m·ars + k·aks], so the same kernel serves H·Wᵀ (ars = row length, aks = 1) and
/// the transposed products δᵀH (ars = 1, aks = row length). B is row-major with leading dimension ldb; C has ldc.
/// Every element is the plain sequence acc ← fma(A(m, k), B[k, j], acc) for k = 0, 1, …: its value never depends
/// on the tile it sits in, which makes results independent of how rows are split among threads.
/// </remarks>
internal static unsafe class TileKernel
{
    /// <summary>Rows per micro-tile; trial counts and other M dimensions are padded to a multiple of it.</summary>
    public const int Rows = 4;

    /// <summary>C (+)= A·B for 4 rows and a column strip of <paramref name="cols"/> floats (a multiple of the vector width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowStrip<TS, TV>(float* a, nint ars, nint aks, int kLen, float* b, nint ldb, float* c, nint ldc, int cols, bool load)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        => RowStrip<TS, TV>(null, 0, 0, null, a, ars, aks, kLen, b, ldb, c, ldc, cols, load);

    /// <summary>
    /// C (+)= Aₓ·Bₓ + A·B: a short first product (row stride <paramref name="arsx"/>, unit k stride, <paramref name="kx"/>
    /// terms, Bₓ with the same ldb) accumulated before the main one in the same registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowStrip<TS, TV>(
        float* ax, nint arsx, int kx, float* bx,
        float* a, nint ars, nint aks, int kLen, float* b, nint ldb, float* c, nint ldc, int cols, bool load)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        int lanes = TS.Lanes;
        int vecs = cols / lanes;
        int v = 0;
        for (; v + 4 <= vecs; v += 4)
        {
            Tile<TS, TV, Cols4>(ax, arsx, kx, bx == null ? null : bx + v * lanes, a, ars, aks, kLen, b + v * lanes, ldb, c + v * lanes, ldc, load);
        }

        switch (vecs - v)
        {
            case 3:
                Tile<TS, TV, Cols3>(ax, arsx, kx, bx == null ? null : bx + v * lanes, a, ars, aks, kLen, b + v * lanes, ldb, c + v * lanes, ldc, load);
                break;
            case 2:
                Tile<TS, TV, Cols2>(ax, arsx, kx, bx == null ? null : bx + v * lanes, a, ars, aks, kLen, b + v * lanes, ldb, c + v * lanes, ldc, load);
                break;
            case 1:
                Tile<TS, TV, Cols1>(ax, arsx, kx, bx == null ? null : bx + v * lanes, a, ars, aks, kLen, b + v * lanes, ldb, c + v * lanes, ldc, load);
                break;
        }
    }

    /// <summary>One 4 × TC-vector tile: accumulators start from C (<paramref name="load"/>) or zero; then the optional first product, then the main one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TS, TV, TC>(
        float* ax, nint arsx, int kx, float* bx,
        float* a, nint ars, nint aks, int kLen, float* b, nint ldb, float* c, nint ldc, bool load)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        where TC : struct, IColumns
    {
        int w = TS.Lanes;
        int n = TC.Count;
        float* c0 = c, c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc;
        TV z = TS.Splat(0f);
        TV r00 = z, r01 = z, r02 = z, r03 = z;
        TV r10 = z, r11 = z, r12 = z, r13 = z;
        TV r20 = z, r21 = z, r22 = z, r23 = z;
        TV r30 = z, r31 = z, r32 = z, r33 = z;
        if (load)
        {
            r00 = TS.Load(c0);
            r10 = TS.Load(c1);
            r20 = TS.Load(c2);
            r30 = TS.Load(c3);
            if (n > 1)
            {
                r01 = TS.Load(c0 + w);
                r11 = TS.Load(c1 + w);
                r21 = TS.Load(c2 + w);
                r31 = TS.Load(c3 + w);
            }

            if (n > 2)
            {
                r02 = TS.Load(c0 + 2 * w);
                r12 = TS.Load(c1 + 2 * w);
                r22 = TS.Load(c2 + 2 * w);
                r32 = TS.Load(c3 + 2 * w);
            }

            if (n > 3)
            {
                r03 = TS.Load(c0 + 3 * w);
                r13 = TS.Load(c1 + 3 * w);
                r23 = TS.Load(c2 + 3 * w);
                r33 = TS.Load(c3 + 3 * w);
            }
        }

        // Segment 0 is the optional first product (unit k stride), segment 1 the main one.
        float* pa = ax, pb = bx;
        nint step = 1, rs = arsx;
        int count = kx;
        if (kx == 0)
        {
            pa = a;
            pb = b;
            step = aks;
            rs = ars;
            count = kLen;
        }

        for (int segment = kx == 0 ? 1 : 0; segment < 2; segment++)
        {
            nint o1 = rs, o2 = 2 * rs, o3 = 3 * rs;
            float* ap = pa, bp = pb;
            for (int k = 0; k < count; k++)
            {
                TV b0 = TS.Load(bp);
                TV b1 = n > 1 ? TS.Load(bp + w) : z;
                TV b2 = n > 2 ? TS.Load(bp + 2 * w) : z;
                TV b3 = n > 3 ? TS.Load(bp + 3 * w) : z;

                TV x = TS.Splat(ap[0]);
                r00 = TS.Fma(x, b0, r00);
                if (n > 1) r01 = TS.Fma(x, b1, r01);
                if (n > 2) r02 = TS.Fma(x, b2, r02);
                if (n > 3) r03 = TS.Fma(x, b3, r03);

                x = TS.Splat(ap[o1]);
                r10 = TS.Fma(x, b0, r10);
                if (n > 1) r11 = TS.Fma(x, b1, r11);
                if (n > 2) r12 = TS.Fma(x, b2, r12);
                if (n > 3) r13 = TS.Fma(x, b3, r13);

                x = TS.Splat(ap[o2]);
                r20 = TS.Fma(x, b0, r20);
                if (n > 1) r21 = TS.Fma(x, b1, r21);
                if (n > 2) r22 = TS.Fma(x, b2, r22);
                if (n > 3) r23 = TS.Fma(x, b3, r23);

                x = TS.Splat(ap[o3]);
                r30 = TS.Fma(x, b0, r30);
                if (n > 1) r31 = TS.Fma(x, b1, r31);
                if (n > 2) r32 = TS.Fma(x, b2, r32);
                if (n > 3) r33 = TS.Fma(x, b3, r33);

                ap += step;
                bp += ldb;
            }

            pa = a;
            pb = b;
            step = aks;
            rs = ars;
            count = kLen;
        }

        TS.Store(r00, c0);
        TS.Store(r10, c1);
        TS.Store(r20, c2);
        TS.Store(r30, c3);
        if (n > 1)
        {
            TS.Store(r01, c0 + w);
            TS.Store(r11, c1 + w);
            TS.Store(r21, c2 + w);
            TS.Store(r31, c3 + w);
        }

        if (n > 2)
        {
            TS.Store(r02, c0 + 2 * w);
            TS.Store(r12, c1 + 2 * w);
            TS.Store(r22, c2 + 2 * w);
            TS.Store(r32, c3 + 2 * w);
        }

        if (n > 3)
        {
            TS.Store(r03, c0 + 3 * w);
            TS.Store(r13, c1 + 3 * w);
            TS.Store(r23, c2 + 3 * w);
            TS.Store(r33, c3 + 3 * w);
        }
    }
}
