using System.CommandLine;
using System.Globalization;
using Engine.Analysis.WorkingMemory;
using Engine.Backends;
using Engine.IO;

namespace Engine.Cli;

/// <summary><c>analyze wm RUN…</c>: report-error SD and bias against orientation and delay per condition of the 2 × 2 design (SEEDS §7).</summary>
internal static class AnalyzeWmCommand
{
    /// <summary>The <c>wm</c> subcommand.</summary>
    public static Command Create()
    {
        var d = new OrientationMemoryOptions();
        var runs = new Argument<string[]>("runs") { Description = "wm-orientation run directories, or folders (a study's output) searched for them.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out") { Description = "Output folder (default: RUN/wm for one run; required for several)." };
        var bins = new Option<int>("--bins") { Description = $"Orientation bins over [0, 180) deg (default {d.Bins}).", DefaultValueFactory = _ => d.Bins };
        var repeats = new Option<int>("--repeats") { Description = $"Test trials per network per (delay, bin) (default {d.Repeats}).", DefaultValueFactory = _ => d.Repeats };
        var delays = new Option<string?>("--delays") { Description = "Comma-separated delays in steps to test (default: each run's own; longer ones test beyond training)." };
        var seed = new Option<long>("--seed") { Description = $"Seed of the test trials' process noise (default {d.Seed}).", DefaultValueFactory = _ => d.Seed };
        var backend = new Option<string>("--backend") { Description = "Backend (default auto).", DefaultValueFactory = _ => "auto" };
        var cmd = new Command("wm", "Working memory (SEEDS §7): SD and bias of the reported orientation per delay and orientation bin, cardinal/oblique and reward contrasts against delay; CSV, JSON, .npy, PNGs.")
        {
            runs, output, bins, repeats, delays, seed, backend,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var options = new OrientationMemoryOptions
            {
                Bins = r.GetValue(bins), Repeats = r.GetValue(repeats), Seed = r.GetValue(seed),
                Delays = r.GetValue(delays) is { } text
                    ? text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                        .Select(v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) ? x : throw new ArgumentException($"--delays: '{v}' is not a step count.", "--delays")).ToArray()
                    : null,
            }.Validate();
            var found = RunPaths.RunsOf(r.GetValue(runs)!, "wm-orientation", "run");
            string outDir = r.GetValue(output) ?? (found.Count == 1 && r.GetValue(runs)!.Length == 1
                ? Path.Combine(found[0].Dir, "wm")
                : throw new ArgumentException($"--out is required with {found.Count} runs.", "--out"));
            using var b = BackendFactory.Create(r.GetValue(backend)!);
            Console.WriteLine($"backend: {b.Name} ({b.Device}); {found.Count} run(s), {options.Bins} bins × {options.Repeats} trials per network per delay");
            var results = new List<OrientationMemoryResult>();
            foreach (var (dir, state) in found)
            {
                var res = OrientationMemoryAnalysis.Run(b, state, options, dir);
                results.Add(res);
                foreach (var (e, why) in res.LeftOut)
                {
                    Console.WriteLine($"  network {e,3}: diverged ({why}), left out");
                }

                var card = res.CardinalContrast;
                var rew = res.RewardContrast;
                var sd = res.MeanSd;
                var bias = res.MeanAbsBias;
                for (int k = 0; k < res.Delays.Length; k++)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{res.Task.Condition,-16} N={res.Width} delay {res.Delays[k],4}: SD {sd[k] * 180 / Math.PI,6:F2} deg, obl-card {card[k] * 180 / Math.PI,6:F2}, low-high reward {rew[k] * 180 / Math.PI,6:F2}{(res.RewardFromTask ? "" : " (control)")}, |bias| {bias[k] * 180 / Math.PI,5:F2}  ({res.Networks.Length} networks)"));
                }
            }

            using var stage = new OutputStage(outDir);
            OrientationMemoryFiles.Write(results, options, stage.PathOf, new Dictionary<string, object> { ["backend"] = b.Name, ["device"] = b.Device });
            stage.Commit();
            Console.WriteLine($"wrote wm.csv, wm_contrasts.csv, wm.json, per-run .npy and figures to {Path.GetFullPath(outDir)}");
            return 0;
        }));
        return cmd;
    }
}
