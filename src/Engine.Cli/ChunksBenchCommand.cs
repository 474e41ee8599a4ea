using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Engine.Analysis;
using Engine.Analysis.Chunks;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;

namespace Engine.Cli;

/// <summary><c>bench chunks</c>: times chunk extraction (DSC, PA, UCD) on E networks' recorded flip-flop states.</summary>
internal static class ChunksBenchCommand
{
    public static Command Create()
    {
        var networks = new Option<int>("--networks") { Description = "E (default 32).", DefaultValueFactory = _ => 32 };
        var hidden = new Option<int>("--hidden") { Description = "N (default 64).", DefaultValueFactory = _ => 64 };
        var trials = new Option<int>("--trials") { Description = "B, recorded trials (default 32).", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "T (default 100).", DefaultValueFactory = _ => 100 };
        var methods = new Option<string>("--methods") { Description = "Comma-separated methods (default dsc,pa,ucd).", DefaultValueFactory = _ => "dsc,pa,ucd" };
        var backend = new Option<string>("--backend") { Description = "Backend that records the states (default cpu).", DefaultValueFactory = _ => "cpu" };
        var cmd = new Command("chunks", "Times chunk extraction on E untrained flip-flop networks' states (B×T steps each), networks one per host thread; prints seconds per method.")
        {
            networks, hidden, trials, steps, methods, backend,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            using var b = BackendFactory.Create(r.GetValue(backend)!);
            int e = r.GetValue(networks), n = r.GetValue(hidden), bt = r.GetValue(trials), t = r.GetValue(steps);
            Util.Guard.AtLeast(e, 1, "--networks");
            var task = new FlipFlopTask(3);
            var spec = new EnsembleSpec { Networks = e, Hidden = n, Inputs = 3, Outputs = 3 }.Validate();
            var ensemble = Ensemble.Initialize(spec, Ensemble.ConsecutiveSeeds(0, e));
            var batch = Evaluation.SharedTrials(ensemble, task, bt, t, 1);
            var (_, states) = ensemble.Run(b, batch);
            var latents = new int[bt * t];
            task.Latents(batch.Inputs, batch.Targets, bt, t, latents);
            int per = bt * t * n;
            Console.WriteLine($"backend: {b.Name} ({b.Device}); {e} networks × N={n}, {bt} trials × {t} steps each, {b.Threads} host thread(s)");
            foreach (var name in r.GetValue(methods)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var options = new ChunkOptions { Method = ChunkOptions.ParseMethod(name) };
                var sw = Stopwatch.StartNew();
                var counts = new int[e];
                Parallel.For(0, e, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, b.Threads) }, k =>
                    counts[k] = ChunkAnalysis.Extract(states.AsSpan(k * per, per), bt, t, n, latents, task.LatentCount, options).Count);
                double s = sw.Elapsed.TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"chunks method={name} networks={e} hidden={n} steps={bt * t} seconds={s:F3} ms_per_network={s * 1e3 / e:F1} mean_chunks={counts.Average():F1}"));
            }

            return 0;
        }));
        return cmd;
    }
}
