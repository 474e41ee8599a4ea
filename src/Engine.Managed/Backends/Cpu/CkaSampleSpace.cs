using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Engine.Numerics;

namespace Engine.Backends.Cpu;

/// <summary>All ‖X_iᵀ X_j‖²_F at once through the sample-space Gram matrices K_e = X_e X_eᵀ, for S below ≈ 2N².</summary>
/// <remarks>
/// ‖X_iᵀ X_j‖²_F = ⟨K_i, K_j⟩_F with K_e = X_e X_eᵀ (S × S). The samples are cut into blocks of 64 (zero rows pad S; after
/// centring they add nothing). For every block pair u ≤ v, each network's block K_e[u, v] = X_e[u] X_e[v]ᵀ (2·64²·N FLOP)
/// is written as column e of a [64²][E] panel P, and the E × E products Pᵀ P (2·E²·64² FLOP, upper triangle only) are
/// added with weight 2 for u &lt; v (K[u, v] and K[v, u]) and 1 for u = v. In total ≈ S² E² / 2 + S² E N FLOP against
/// S N² E² for the feature-space products X_iᵀ X_j: 2.7× less work at S = 2000, N = 64, E = 256. Block pairs are dealt
/// to workers in a fixed stride and each worker accumulates in float64, summed in worker order, so results do not
/// depend on scheduling for a given thread count.
/// </remarks>
internal static unsafe class CkaSampleSpace
{
    private const int Block = CkaFlops.SampleBlock;
    private const int Group = 16;

    /// <summary>[E][E] (upper triangle and diagonal filled) of ‖X_iᵀ X_j‖²_F from centred packed states.</summary>
    public static double[] Hsic(PackedStates x, int threads)
    {
        return Vector512.IsHardwareAccelerated ? Run<Simd512, Vector512<float>>(x, threads) : Run<Simd256, Vector256<float>>(x, threads);
    }

    private static double[] Run<TS, TV>(PackedStates x, int threads)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        int e = x.Widths.Length, s = x.Samples, blocks = (s + Block - 1) / Block, sp = blocks * Block;
        int ep = PackedStates.Pad(e);
        // Row stride of the transposed states: a multiple of 2 KiB would put every row of a B panel in the same L1 set.
        int lt = sp + 16;
        // Transposed, zero-padded states per network: [Npad][Sp], so that X[v]ᵀ is a row-major B operand.
        var xt = new float*[e];
        for (int k = 0; k < e; k++)
        {
            int np = x.Padded[k];
            xt[k] = (float*)NativeMemory.AlignedAlloc((nuint)((long)np * lt * sizeof(float)), 64);
            NativeMemory.Clear(xt[k], (nuint)((long)np * lt * sizeof(float)));
            float* src = x.Network(k);
            for (int t = 0; t < s; t++)
            {
                for (int c = 0; c < np; c++)
                {
                    xt[k][(long)c * lt + t] = src[(long)t * np + c];
                }
            }
        }

        var pairs = new List<(int U, int V)>();
        for (int u = 0; u < blocks; u++)
        {
            for (int v = u; v < blocks; v++)
            {
                pairs.Add((u, v));
            }
        }

        try
        {
            using var pool = new WorkerPool(threads <= 0 ? Environment.ProcessorCount : threads);
            int workers = pool.Workers;
            var acc = new double[workers][];
            pool.Run(workers, (task, _) =>
            {
                var sum = new double[e * e];
                int kk = Block * Block;
                float* panel = (float*)NativeMemory.AlignedAlloc((nuint)((long)kk * ep * sizeof(float)), 64);
                float* kbs = (float*)NativeMemory.AlignedAlloc((nuint)((long)Group * kk * sizeof(float)), 64);
                float* g = (float*)NativeMemory.AlignedAlloc((nuint)((long)ep * ep * sizeof(float)), 64);
                try
                {
                    NativeMemory.Clear(panel, (nuint)((long)kk * ep * sizeof(float)));
                    for (int bp = task; bp < pairs.Count; bp += workers)
                    {
                        var (u, v) = pairs[bp];
                        for (int e0 = 0; e0 < e; e0 += Group)
                        {
                            int group = Math.Min(Group, e - e0);
                            for (int gi = 0; gi < group; gi++)
                            {
                                int k = e0 + gi, np = x.Padded[k];
                                float* a = x.Network(k);
                                float* kb = kbs + (long)gi * kk;
                                // kb = X[u-block] X[v-block]ᵀ; A rows past S are zero (scalar tail), B reads the zero-padded transpose.
                                for (int m0 = 0; m0 < Block; m0 += TileKernel.Rows)
                                {
                                    int row = u * Block + m0;
                                    if (row + TileKernel.Rows <= s)
                                    {
                                        TileKernel.RowStrip<TS, TV>(a + (long)row * np, np, 1, np, xt[k] + v * Block, lt, kb + m0 * Block, Block, Block, load: false);
                                        continue;
                                    }

                                    for (int r = 0; r < TileKernel.Rows; r++)
                                    {
                                        for (int c = 0; c < Block; c++)
                                        {
                                            float dot = 0;
                                            if (row + r < s)
                                            {
                                                for (int l = 0; l < np; l++)
                                                {
                                                    dot += a[(long)(row + r) * np + l] * xt[k][(long)l * lt + v * Block + c];
                                                }
                                            }

                                            kb[(m0 + r) * Block + c] = dot;
                                        }
                                    }
                                }
                            }

                            // Transpose the group into the panel: one cache line of 16 networks per entry t.
                            for (int t = 0; t < kk; t++)
                            {
                                float* dst = panel + (long)t * ep + e0;
                                for (int gi = 0; gi < group; gi++)
                                {
                                    dst[gi] = kbs[(long)gi * kk + t];
                                }
                            }
                        }

                        // g = panelᵀ panel, upper triangle by 4-row strips starting at the strip's 16-aligned column.
                        for (int k0 = 0; k0 < kk; k0 += 256)
                        {
                            int klen = Math.Min(256, kk - k0);
                            for (int m0 = 0; m0 < e; m0 += TileKernel.Rows)
                            {
                                int c0 = m0 / 16 * 16;
                                TileKernel.RowStrip<TS, TV>(panel + (long)k0 * ep + m0, 1, ep, klen, panel + (long)k0 * ep + c0, ep, g + (long)m0 * ep + c0, ep, ep - c0, load: k0 > 0);
                            }
                        }

                        double weight = u == v ? 1 : 2;
                        for (int i = 0; i < e; i++)
                        {
                            for (int j = i; j < e; j++)
                            {
                                sum[i * e + j] += weight * g[(long)i * ep + j];
                            }
                        }
                    }
                }
                finally
                {
                    NativeMemory.AlignedFree(panel);
                    NativeMemory.AlignedFree(kbs);
                    NativeMemory.AlignedFree(g);
                }

                acc[task] = sum;
            });
            var total = new double[e * e];
            foreach (var part in acc.Where(p => p is not null))
            {
                for (int k = 0; k < total.Length; k++)
                {
                    total[k] += part[k];
                }
            }

            return total;
        }
        finally
        {
            foreach (var p in xt)
            {
                NativeMemory.AlignedFree(p);
            }
        }
    }
}
