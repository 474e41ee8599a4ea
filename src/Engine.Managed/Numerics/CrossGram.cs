using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Numerics;

/// <summary>Receives one pair's cross product C = X_iᵀ X_j ([rows][ldc], padded with zeros) on a worker thread.</summary>
internal delegate void PairBlock(int pair, int worker, ReadOnlySpan<float> c, int rows, int cols, int ldc);

/// <summary>Per-network state matrices packed for the SIMD GEMM: [S][N_pad] with N_pad a multiple of 16, zero-padded.</summary>
/// <remarks>One pinned float block holds every network; network e starts at <see cref="Offset"/>[e].</remarks>
internal sealed unsafe class PackedStates : IDisposable
{
    private float* _data;

    /// <summary>Packs double or float rows produced by <paramref name="fill"/>(e, destination [S][N_pad]).</summary>
    public PackedStates(int samples, IReadOnlyList<int> widths, Action<int, Span<float>, int> fill)
    {
        Samples = samples;
        Widths = widths.ToArray();
        Padded = Widths.Select(Pad).ToArray();
        Offset = new long[Widths.Length];
        long total = 0;
        for (int e = 0; e < Widths.Length; e++)
        {
            Offset[e] = total;
            total += (long)samples * Padded[e];
        }

        _data = (float*)NativeMemory.AlignedAlloc((nuint)(total * sizeof(float)), 64);
        NativeMemory.Clear(_data, (nuint)(total * sizeof(float)));
        for (int e = 0; e < Widths.Length; e++)
        {
            fill(e, new Span<float>(_data + Offset[e], samples * Padded[e]), Padded[e]);
        }
    }

    public int Samples { get; }

    public int[] Widths { get; }

    public int[] Padded { get; }

    public long[] Offset { get; }

    public float* Network(int e) => _data + Offset[e];

    public static int Pad(int n) => (n + 15) / 16 * 16;

    public void Dispose()
    {
        if (_data != null)
        {
            NativeMemory.AlignedFree(_data);
            _data = null;
        }
    }
}

/// <summary>Batched cross products X_iᵀ X_j of packed state matrices for a list of network pairs, threads over pairs.</summary>
/// <remarks>
/// C (N_i × N_j) = Σ_s X_i[s, :]ᵀ X_j[s, :] with the register-blocked <see cref="TileKernel"/> (4 rows × up to 4 vectors),
/// A addressed transposed (ars = 1, aks = N_i). The sample dimension is split into blocks of <see cref="SampleBlock"/>
/// rows so that the B panel (block × N_j floats) stays in L1/L2; C accumulates across blocks. FLOP per pair 2·S·N_i·N_j.
/// Each worker owns its C buffer; the callback reads it before the worker moves to its next pair.
/// </remarks>
internal static unsafe class CrossGram
{
    /// <summary>Samples per k-block.</summary>
    public static int SampleBlock { get; set; } = 128;

    public static void Run(PackedStates x, IReadOnlyList<(int I, int J)> pairs, int threads, PairBlock onPair, Action<int>? progress = null)
    {
        int maxPad = x.Padded.Max();
        using var pool = new WorkerPool(threads <= 0 ? Environment.ProcessorCount : threads);
        var buffers = new float[pool.Workers][];
        for (int w = 0; w < buffers.Length; w++)
        {
            buffers[w] = GC.AllocateArray<float>(maxPad * maxPad + 16, pinned: true);
        }

        int done = 0;
        pool.Run(pairs.Count, (p, w) =>
        {
            var (i, j) = pairs[p];
            var c = buffers[w];
            fixed (float* cp = c)
            {
                if (Vector512.IsHardwareAccelerated)
                {
                    Product<Simd512, Vector512<float>>(x, i, j, cp);
                }
                else
                {
                    Product<Simd256, Vector256<float>>(x, i, j, cp);
                }
            }

            onPair(p, w, c.AsSpan(0, x.Padded[i] * x.Padded[j]), x.Widths[i], x.Widths[j], x.Padded[j]);
            int n = Interlocked.Increment(ref done);
            if (w == 0)
            {
                progress?.Invoke(n);
            }
        });
        progress?.Invoke(pairs.Count);
    }

    private static void Product<TS, TV>(PackedStates x, int i, int j, float* c)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        int pi = x.Padded[i], pj = x.Padded[j], s = x.Samples, kb = SampleBlock;
        float* a = x.Network(i), b = x.Network(j);
        for (int k0 = 0; k0 < s; k0 += kb)
        {
            int klen = Math.Min(kb, s - k0);
            for (int m0 = 0; m0 < pi; m0 += TileKernel.Rows)
            {
                TileKernel.RowStrip<TS, TV>(a + (long)k0 * pi + m0, 1, pi, klen, b + (long)k0 * pj, pj, c + m0 * pj, pj, pj, load: k0 > 0);
            }
        }
    }
}
