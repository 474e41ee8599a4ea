using System.CommandLine;
using System.Globalization;
using Engine.Backends;
using Engine.Benchmarks;
using Engine.Distances;

namespace Engine.Cli;

/// <summary><c>bench distances</c>: linear CKA of 256 networks (2000 × 64 states) and DSA of 64 networks (rank 10, 10 delays).</summary>
internal static class DistanceBenchCommand
{
    public static Command Create()
    {
        var networks = new Option<int>("--networks") { Description = "CKA: E (default 256).", DefaultValueFactory = _ => 256 };
        var dsaNetworks = new Option<int>("--dsa-networks") { Description = "DSA: E (default 64).", DefaultValueFactory = _ => 64 };
        var trials = new Option<int>("--trials") { Description = "Trials of 100 steps per network (default 20: 2000 samples).", DefaultValueFactory = _ => 20 };
        var hidden = new Option<int>("--hidden") { Description = "N (default 64).", DefaultValueFactory = _ => 64 };
        var rank = new Option<int>("--rank") { Description = "DSA rank (default 10).", DefaultValueFactory = _ => 10 };
        var delays = new Option<int>("--delays") { Description = "DSA delays (default 10).", DefaultValueFactory = _ => 10 };
        var iterations = new Option<int>("--iterations") { Description = "DSA Adam iterations of the published optimiser (default 1500).", DefaultValueFactory = _ => 1500 };
        var optimizer = new Option<string>("--dsa-optimizer") { Description = "DSA alignment: optimal, published or both (default both, side by side).", DefaultValueFactory = _ => "both" };
        var threads = new Option<int>("--threads") { Description = "Threads, 0 = all (default 0).", DefaultValueFactory = _ => 0 };
        var repeats = new Option<int>("--repeats") { Description = "Timed repeats (default 3).", DefaultValueFactory = _ => 3 };
        var skip = new Option<string?>("--only") { Description = "Run only cka or dsa, or pif (50 networks, not run by default)." };
        var backend = new Option<string>("--backend") { Description = "Backend whose distance kernels run (default cpu; CKA's two methods are the cpu backend's).", DefaultValueFactory = _ => "cpu" };
        var cmd = new Command("distances", "Times whole distance matrices on synthetic states; prints median seconds and GFLOP/s.")
        {
            networks, dsaNetworks, trials, hidden, rank, delays, iterations, optimizer, threads, repeats, skip, backend,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            int t = r.GetValue(threads) <= 0 ? Environment.ProcessorCount : r.GetValue(threads);
            using var b = Engine.Backends.BackendFactory.Create(r.GetValue(backend)!, r.GetValue(threads));
            Console.WriteLine($"backend: {b.Name} ({b.Device})");
            double peak = PeakFlops.Measure(t);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fp32 FMA peak on {t} thread(s): {peak:F1} GFLOP/s (measured now)"));
            string? only = r.GetValue(skip);
            if (only is null or "cka")
            {
                var states = DistanceBenchmark.SyntheticStates(r.GetValue(networks), r.GetValue(trials), 100, r.GetValue(hidden));
                foreach (var method in new[] { CkaMethod.Samples, CkaMethod.Features })
                {
                    var cka = DistanceBenchmark.Cka(b, states, r.GetValue(repeats), method);
                    Console.WriteLine(cka.Format() + string.Create(CultureInfo.InvariantCulture, $" peak_share={cka.Gflop / cka.Median / peak:F2}"));
                }
            }

            if (only is null or "dsa")
            {
                var states = DistanceBenchmark.SyntheticStates(r.GetValue(dsaNetworks), r.GetValue(trials), 100, r.GetValue(hidden), 1000);
                string which = r.GetValue(optimizer)!.Trim().ToLowerInvariant();
                var optimizers = which == "both" ? new[] { DsaOptimizer.Published, DsaOptimizer.Optimal } : [DsaOptions.ParseOptimizer(which, "--dsa-optimizer")];
                foreach (var opt in optimizers)
                {
                    var options = new DsaOptions { Rank = r.GetValue(rank), Delays = r.GetValue(delays), Iterations = r.GetValue(iterations), Optimizer = opt };
                    var (fit, align, mean) = DistanceBenchmark.Dsa(b, states, options, r.GetValue(repeats));
                    int pairs = states.Networks * (states.Networks - 1) / 2;
                    Console.WriteLine(fit.Format());
                    Console.WriteLine(align.Format() + string.Create(CultureInfo.InvariantCulture, $" optimizer={options.OptimizerName} ms_per_pair={1000 * align.Median / pairs:F3} mean_angular={mean:F6}"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dsa {options.OptimizerName} total_s={fit.Median + align.Median:F2} for {pairs} pairs"));
                }
            }

            if (only is "pif")
            {
                Console.WriteLine(DistanceBenchmark.Pif(b, 50, r.GetValue(hidden), r.GetValue(repeats)).Format());
            }

            return 0;
        }));
        return cmd;
    }
}
