using System.CommandLine;
using System.Globalization;
using Engine.Analysis.Crq;
using Engine.Backends;
using Engine.IO;

namespace Engine.Cli;

/// <summary><c>analyze crq RUN…</c>: CRQ accuracy against depth for each width (SEEDS §9).</summary>
internal static class AnalyzeCrqCommand
{
    /// <summary>The <c>crq</c> subcommand.</summary>
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "crq run directories, or folders (a study's output) searched for them.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out") { Description = "Output folder (default: RUN/crq for one run; required for several)." };
        var trials = new Option<int>("--trials") { Description = "Fresh test trees per network and depth (default 512).", DefaultValueFactory = _ => 512 };
        var seed = new Option<long>("--seed") { Description = "Seed of the test trees (default 12345).", DefaultValueFactory = _ => 12345 };
        var backend = new Option<string>("--backend") { Description = "Backend (default auto).", DefaultValueFactory = _ => "auto" };
        var cmd = new Command("crq", "Compositional reasoning questions (SEEDS §9): accuracy (the output's nearest leaf is the answer) at the trained depth and one deeper; CSV, JSON and accuracy against depth per width (PNG).")
        {
            runs, output, trials, seed, backend,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var found = RunPaths.RunsOf(r.GetValue(runs)!, "crq", "run");
            string outDir = r.GetValue(output) ?? (found.Count == 1 && r.GetValue(runs)!.Length == 1
                ? Path.Combine(found[0].Dir, "crq")
                : throw new ArgumentException($"--out is required with {found.Count} runs.", "--out"));
            using var b = BackendFactory.Create(r.GetValue(backend)!);
            Console.WriteLine($"backend: {b.Name} ({b.Device}); {found.Count} run(s), {r.GetValue(trials)} test trees per network and depth");
            var results = new List<CrqResult>();
            foreach (var (dir, state) in found)
            {
                var res = CrqAnalysis.Run(b, state, r.GetValue(trials), r.GetValue(seed), dir);
                results.Add(res);
                foreach (var (e, why) in res.LeftOut)
                {
                    Console.WriteLine($"  network {e,3}: diverged ({why}), left out");
                }

                var h = res.Healthy;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"depth {res.Task.Depth} arity {res.Task.Arity} N={res.Width,4}: accuracy {(h.Length > 0 ? h.Average() : double.NaN):F3} (min {(h.Length > 0 ? h.Min() : double.NaN):F3}, {h.Length} networks), depth {res.Task.Depth + 1}: {(res.HealthyOod.Length > 0 ? res.HealthyOod.Average() : double.NaN):F3}; chance {1.0 / Math.Pow(res.Task.Arity, res.Task.Depth):F3}"));
            }

            using var stage = new OutputStage(outDir);
            CrqAnalysis.Write(results, stage.PathOf, new Dictionary<string, object> { ["backend"] = b.Name, ["device"] = b.Device });
            stage.Commit();
            Console.WriteLine($"wrote crq.csv, crq_summary.csv, crq.json and crq_accuracy.png to {Path.GetFullPath(outDir)}");
            return 0;
        }));
        return cmd;
    }
}
