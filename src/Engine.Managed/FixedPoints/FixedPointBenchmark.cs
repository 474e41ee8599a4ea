using System.Diagnostics;
using System.Globalization;
using Engine.Backends;
using Engine.Model;
using Engine.Util;

namespace Engine.FixedPoints;

/// <summary>Times the Adam search, then polish + Jacobians + eigenvalues, on random tanh networks.</summary>
/// <remarks>
/// E networks with PyTorch's init scaled by <c>gain</c> (W ~ U(−g/√N, g/√N)), S seeds each drawn from 𝒩(0, 0.5²), zero
/// input. The search runs exactly <c>iterations</c> Adam updates (tolerance 0). FLOP counted once: 4N² per seed and
/// iteration (z = W h and Wᵀ(φ′ ⊙ r)), ignoring O(N) elementwise work. Every stage reports wall time and the process's
/// CPU time (all threads): on a shared machine the wall time also counts other processes' load, while CPU time divided
/// by the work is the cost per core (<c>cpu_gflops</c> is GFLOP per CPU-second, <c>*_cpu_ms_per_point</c> CPU
/// milliseconds per point).
/// </remarks>
public static class FixedPointBenchmark
{
    /// <summary>Counted FLOP of the search.</summary>
    public static double SearchFlops(int networks, int seeds, int hidden, int iterations) => 4.0 * hidden * hidden * seeds * networks * iterations;

    /// <summary>A random problem of E tanh networks with S seeds.</summary>
    public static FixedPointProblem Problem(int networks, int seeds, int hidden, double gain = 1.5, long seed = 1)
    {
        var spec = new EnsembleSpec { Networks = networks, Hidden = hidden, Inputs = 1, Outputs = 1 };
        var p = Ensemble.Initialize(spec, Ensemble.ConsecutiveSeeds(seed, networks)).Parameters;
        int stride = spec.Layout.Stride;
        for (int e = 0; e < networks; e++)
        {
            var w = spec.Layout.WRec(p, e);
            for (int k = 0; k < w.Length; k++)
            {
                w[k] *= (float)(gain * Math.Sqrt(3));
            }
        }

        var rng = Rng.For(seed, 0xBE7C);
        var h = new float[(long)networks * seeds * hidden];
        for (int k = 0; k < h.Length; k++)
        {
            h[k] = (float)(0.5 * rng.NextGaussian());
        }

        _ = stride;
        return new FixedPointProblem(spec, p, new float[networks], seeds, h);
    }

    /// <summary>Runs the search <paramref name="repeats"/> times, then one polish + linearisation (without and with de-duplication); returns report lines.</summary>
    public static IReadOnlyList<string> Run(IFixedPointSearch search, int networks, int seeds, int hidden, int iterations, int repeats = 3, Action<string>? report = null)
    {
        ArgumentNullException.ThrowIfNull(search);
        var problem = Problem(networks, seeds, hidden);
        var options = new AdamSearchOptions { Tolerance = 0, MaxIterations = iterations };
        var lines = new List<string>();
        void Add(string line)
        {
            lines.Add(line);
            report?.Invoke(line);
        }

        search.Search(problem, options with { MaxIterations = Math.Min(iterations, 20) });
        var times = new List<double>();
        var cpus = new List<double>();
        AdamSearchResult? last = null;
        for (int r = 0; r < Math.Max(1, repeats); r++)
        {
            double cpu0 = CpuSeconds();
            var clock = Stopwatch.StartNew();
            last = search.Search(problem, options);
            times.Add(clock.Elapsed.TotalSeconds);
            cpus.Add(CpuSeconds() - cpu0);
        }

        times.Sort();
        cpus.Sort();
        double median = times[times.Count / 2], cpuMedian = cpus[cpus.Count / 2];
        double flops = SearchFlops(networks, seeds, hidden, iterations);
        Add(string.Create(CultureInfo.InvariantCulture,
            $"fixed-points-search E={networks} S={seeds} N={hidden} iterations={iterations} impl={search.Name} median_s={median:F3} min_s={times[0]:F3} max_s={times[^1]:F3} gflops={flops / median / 1e9:F1} cpu_s={cpuMedian:F3} cpu_gflops={flops / cpuMedian / 1e9:F1}"));

        // Polish, Jacobians and eigenvalues of every seed (no de-duplication: the libtorch comparison's workload), then the default pipeline.
        foreach (bool dedup in new[] { false, true })
        {
            var frozen = Enumerable.Range(0, networks).Select(e => new FrozenNetwork(problem.Spec, problem.Parameters, e, new float[1])).ToArray();
            double cpu0 = CpuSeconds();
            var clock = Stopwatch.StartNew();
            var candidates = Enumerable.Range(0, networks * seeds).Select(k => (Net: k / seeds, Point: new FixedPoint
            {
                State = last!.States.AsSpan(k * hidden, hidden).ToArray().Select(x => (double)x).ToArray(),
            })).ToList();
            int removed = 0;
            if (dedup)
            {
                candidates = candidates.GroupBy(c => c.Net)
                    .SelectMany(g => FixedPointAnalysis.Deduplicate(g.Select(c => c.Point).ToList(), 1e-3, ref removed).Select(p => (g.Key, p)))
                    .ToList();
            }

            Parallelism.For(candidates.Count, 0, k => candidates[k].Point.Q = Polish.Run(frozen[candidates[k].Net], candidates[k].Point.State, 25).Q);
            double polish = clock.Elapsed.TotalSeconds, polishCpu = CpuSeconds() - cpu0;
            if (dedup)
            {
                candidates = candidates.GroupBy(c => c.Net)
                    .SelectMany(g => FixedPointAnalysis.Deduplicate(g.Select(c => c.Point).ToList(), 1e-3, ref removed).Select(p => (g.Key, p)))
                    .ToList();
            }

            clock.Restart();
            cpu0 = CpuSeconds();
            Parallelism.For(candidates.Count, 0, k => FixedPointAnalysis.Linearize(frozen[candidates[k].Net], candidates[k].Point));
            double eig = clock.Elapsed.TotalSeconds, eigCpu = CpuSeconds() - cpu0;
            int converged = candidates.Count(c => c.Point.Q < 1e-12);
            Add(string.Create(CultureInfo.InvariantCulture,
                $"fixed-points-polish E={networks} S={seeds} N={hidden} dedup={dedup} points={candidates.Count} converged={converged} polish_s={polish:F3} linearize_s={eig:F3} polish_cpu_ms_per_point={1e3 * polishCpu / Math.Max(1, candidates.Count):F2} linearize_cpu_ms_per_point={1e3 * eigCpu / Math.Max(1, candidates.Count):F2}"));
        }

        return lines;
    }

    /// <summary>CPU time of this process, all threads, in seconds.</summary>
    public static double CpuSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }
}
