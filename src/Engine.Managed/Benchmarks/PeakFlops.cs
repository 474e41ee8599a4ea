using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Benchmarks;

/// <summary>This machine's float32 fused-multiply-add peak, measured rather than looked up.</summary>
/// <remarks>
/// Each thread runs acc_k ← acc_k · m + c over 12 independent vector accumulators (enough to cover the FMA
/// latency on current cores) in registers, with Vector512 where it is hardware accelerated, else Vector256.
/// FLOP = iterations × 12 × lanes × 2 per thread; GFLOP/s is the median over repeats of the total over the wall time.
/// </remarks>
public static class PeakFlops
{
    /// <summary>The median fp32 FMA throughput in GFLOP/s of <paramref name="threads"/> threads (0 = one per core).</summary>
    /// <remarks>
    /// GFLOP/s = threads · iterations · 12 · lanes · 2 / seconds / 10⁹ per repeat (threads start together behind a
    /// barrier; the wall time runs until the last one joins); the median of <paramref name="repeats"/> is returned.
    /// On a shared machine other load lowers it: compare only figures measured in the same run.
    /// </remarks>
    public static double Measure(int threads = 0, int repeats = 5, long iterations = 20_000_000)
    {
        threads = threads <= 0 ? Environment.ProcessorCount : threads;
        Kernel(1000);
        var results = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            using var start = new Barrier(threads + 1);
            var workers = new Thread[threads];
            for (int i = 0; i < threads; i++)
            {
                workers[i] = new Thread(() =>
                {
                    start.SignalAndWait();
                    Sink = Kernel(iterations);
                });
                workers[i].Start();
            }

            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            foreach (var w in workers)
            {
                w.Join();
            }

            double seconds = clock.Elapsed.TotalSeconds;
            results[r] = threads * (double)iterations * 12 * Lanes * 2 / seconds / 1e9;
        }

        Array.Sort(results);
        return results[repeats / 2];
    }

    /// <summary>Floats per vector in the measuring loop.</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? 16 : 8;

    /// <summary>Keeps the loop's result alive.</summary>
    public static float Sink { get; private set; }

    private static float Kernel(long iterations) =>
        Vector512.IsHardwareAccelerated ? Kernel512(iterations) : Kernel256(iterations);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Kernel512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(0.1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector512<float> a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c);
            a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c);
            a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c);
            a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c);
            a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }

        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector512.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Kernel256(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(0.1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector256<float> a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c);
            a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c);
            a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c);
            a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c);
            a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c);
            a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c);
            a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }

        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector256.Sum(s);
    }
}
