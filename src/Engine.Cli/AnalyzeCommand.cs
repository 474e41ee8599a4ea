using System.CommandLine;
using System.Globalization;
using Engine.Analysis.PathIntegration;
using Engine.Backends;
using Engine.IO;
using Engine.Training;

namespace Engine.Cli;

/// <summary><c>analyze</c>: task-specific analyses of a trained run, one subcommand each.</summary>
internal static class AnalyzeCommand
{
    public static Command Create() => new("analyze", "Task-specific analyses of a trained run.")
    {
        PathIntCommand(),
        AnalyzeChunksCommand.Create(),
        AnalyzeWmCommand.Create(),
        AnalyzeCrqCommand.Create(),
        FixedPointRnnCommand.CreateAnalyze(),
        AnalyzeSampleComplexityCommand.Create(),
    };

    /// <summary><c>analyze pathint DIR</c>: band and grid cells, their classes and the pruning hierarchy (Chu et al. 2025).</summary>
    private static Command PathIntCommand()
    {
        var d = new PathIntegrationOptions();
        var run = new Argument<string>("run") { Description = "A run directory trained on the pathint task (2D)." };
        var output = new Option<string?>("--out") { Description = "Output folder (default RUN/pathint)." };
        var backend = new Option<string>("--backend") { Description = "Backend: auto, cpu, reference, ilgpu-cpu, cuda, opencl (default auto).", DefaultValueFactory = _ => "auto" };
        var bins = new Option<int>("--bins") { Description = $"Bins per side of the grid-score maps (default {d.Bins}).", DefaultValueFactory = _ => d.Bins };
        var bandBins = new Option<int>("--band-bins") { Description = $"Bins per side of the band-score maps (default {d.BandBins}).", DefaultValueFactory = _ => d.BandBins };
        var trials = new Option<int>("--trials") { Description = $"Random-walk trials per network for the maps (default {d.Trials}).", DefaultValueFactory = _ => d.Trials };
        var steps = new Option<int?>("--steps") { Description = "Steps per trial (default: the training length)." };
        var extent = new Option<double?>("--extent") { Description = "Half-width of the mapped square (default: the 99th percentile of max(|x|,|y|) of the walks; 5 = the whole arena)." };
        var shuffles = new Option<int>("--shuffles") { Description = $"Circular shifts of each unit's activity for the null (default {d.Shuffles}).", DefaultValueFactory = _ => d.Shuffles };
        var percentile = new Option<double>("--percentile") { Description = $"Null percentile used as threshold (default {d.Percentile}).", DefaultValueFactory = _ => d.Percentile };
        var form = new Option<string>("--grid-form") { Description = "Grid score that classifies: mean or minmax (default mean; both are written).", DefaultValueFactory = _ => "mean" };
        var thresholds = new Option<string>("--thresholds") { Description = "shuffle (null percentile) or paper (0.88 / 5.8) (default shuffle; both counts are reported).", DefaultValueFactory = _ => "shuffle" };
        var pruneTrials = new Option<int>("--prune-trials") { Description = $"Fresh trials for each pruning error (default {d.PruneTrials}).", DefaultValueFactory = _ => d.PruneTrials };
        var seed = new Option<long>("--seed") { Description = "Seed of trials, shuffles and random pruning (default 0).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("pathint", "Rate maps, grid and band scores against a shuffle null, band/grid/neither classes, pruning between classes; writes CSV, JSON, .npy and PNGs.")
        {
            run, output, backend, bins, bandBins, trials, steps, extent, shuffles, percentile, form, thresholds, pruneTrials, seed,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            string dir = RunPaths.Existing(r.GetValue(run)!, "run");
            var options = new PathIntegrationOptions
            {
                Bins = r.GetValue(bins), BandBins = r.GetValue(bandBins), Trials = r.GetValue(trials), Steps = r.GetValue(steps), Extent = r.GetValue(extent),
                Shuffles = r.GetValue(shuffles), Percentile = r.GetValue(percentile), PruneTrials = r.GetValue(pruneTrials), Seed = r.GetValue(seed),
                Form = r.GetValue(form)!.Trim().ToLowerInvariant() switch
                {
                    "mean" => GridScoreForm.Mean,
                    "minmax" or "min-max" or "min_max" => GridScoreForm.MinMax,
                    var other => throw new ArgumentException($"--grid-form must be mean or minmax, got '{other}'.", "--grid-form"),
                },
                Thresholds = r.GetValue(thresholds)!.Trim().ToLowerInvariant() switch
                {
                    "shuffle" => ClassThresholds.Shuffle,
                    "paper" => ClassThresholds.Paper,
                    var other => throw new ArgumentException($"--thresholds must be shuffle or paper, got '{other}'.", "--thresholds"),
                },
            };
            var state = Checkpoint.Load(Path.Combine(dir, Checkpoint.FileName));
            PathIntegrationAnalysis.TaskOf(state, dir);
            string outDir = r.GetValue(output) ?? Path.Combine(dir, "pathint");
            using var b = BackendFactory.Create(r.GetValue(backend)!);
            var spec = state.Ensemble.Spec;
            Console.WriteLine($"backend: {b.Name} ({b.Device}); {spec.Networks} network(s), N={spec.Hidden}; {options.Trials} trials per network, {options.Shuffles} shuffle(s)");
            var result = PathIntegrationAnalysis.Run(b, state, options, dir);
            foreach (var (e, why) in result.LeftOut)
            {
                Console.WriteLine($"network {e,3}: {why}, left out of the classes and the pruning means");
            }

            using var stage = new OutputStage(outDir);
            PathIntegrationOutput.Write(stage.Root, result, new Dictionary<string, object> { ["source"] = dir, ["backend"] = b.Name, ["device"] = b.Device });
            stage.Commit();
            string Counts(Dictionary<string, int> c) => $"band {c["band"]}, grid {c["grid"]}, neither {c["neither"]}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"maps: {result.Samples} samples per network over ±{result.Extent:F2} ({result.Coverage:P0} of bins visited); thresholds grid {result.GridThreshold:F3}, band {result.BandThreshold:F2} ({options.Thresholds.ToString().ToLowerInvariant()}; shuffle null {result.ShuffleGridThreshold:F3} / {result.ShuffleBandThreshold:F2}, paper 0.88 / 5.8)"));
            Console.WriteLine($"classes: {Counts(PathIntegrationOutput.Counts(result))} (paper thresholds: {Counts(PathIntegrationOutput.PaperCounts(result))}); "
                + $"{PathIntegrationOutput.KAtLowerBound(result)} band fits at the k0 lower bound (ramps rather than bands)");
            foreach (string line in result.Summary)
            {
                Console.WriteLine(line);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run {result.RunTime.TotalSeconds:F2} s, maps + scores {result.ScoreTime.TotalSeconds:F2} s, pruning {result.PruneTime.TotalSeconds:F2} s; wrote {Path.GetFullPath(outDir)}"));
            return 0;
        }));
        return cmd;
    }
}
