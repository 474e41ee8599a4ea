using System.CommandLine;
using System.Globalization;
using Engine.Analysis;
using Engine.Analysis.Chunks;
using Engine.Backends;
using Engine.IO;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Cli;

/// <summary><c>analyze chunks</c>: neural chunking (DSC, PA, UCD) of a run's recorded states, NMI with the task's latents, grafting.</summary>
internal static class AnalyzeChunksCommand
{
    /// <summary>The <c>chunks</c> subcommand.</summary>
    public static Command Create()
    {
        var source = new Argument<string>("run") { Description = "A run directory (checkpoint.rnn) or a checkpoint file of a flipflop or sequence-chunks run." };
        var method = new Option<string>("--method") { Description = "dsc, pa or ucd (default dsc).", DefaultValueFactory = _ => "dsc" };
        var output = new Option<string?>("--out") { Description = "Output folder (default: RUN/chunks-METHOD)." };
        var trials = new Option<int>("--trials") { Description = "Probe trials recorded (default 32).", DefaultValueFactory = _ => 32 };
        var steps = new Option<int?>("--steps") { Description = "Steps per trial (default 100, or the training length if longer)." };
        var seed = new Option<long>("--seed") { Description = "Seed of the probe trials (default 12345).", DefaultValueFactory = _ => 12345 };
        var backend = new Option<string>("--backend") { Description = "Backend for recording (default auto).", DefaultValueFactory = _ => "auto" };
        var networks = new Option<string?>("--networks") { Description = "Comma-separated network ids (default: every healthy network)." };
        var figures = new Option<int>("--figures") { Description = "Networks that get PNG figures (default 4).", DefaultValueFactory = _ => 4 };
        var d = new ChunkOptions();
        var bins = new Option<int>("--bins") { Description = $"DSC: k-means bins per neuron (default {d.Bins}).", DefaultValueFactory = _ => d.Bins };
        var rounds = new Option<int>("--rounds") { Description = $"DSC: BPE rounds (default {d.Rounds}).", DefaultValueFactory = _ => d.Rounds };
        var minCount = new Option<int>("--min-count") { Description = $"DSC: fewest occurrences to merge a pair or count a state as recurring (default {d.MinCount}).", DefaultValueFactory = _ => d.MinCount };
        var occurrences = new Option<int>("--occurrences") { Description = $"PA: reference occurrences per label (default {d.Occurrences}).", DefaultValueFactory = _ => d.Occurrences };
        var chunks = new Option<int>("--chunks") { Description = $"UCD: embeddings K (default {d.Chunks}).", DefaultValueFactory = _ => d.Chunks };
        var epochs = new Option<int>("--epochs") { Description = $"UCD: epochs (default {d.Epochs}).", DefaultValueFactory = _ => d.Epochs };
        var chunkSeed = new Option<long>("--chunk-seed") { Description = $"Seed of PA's references and UCD (default {d.Seed}).", DefaultValueFactory = _ => d.Seed };
        var graftStep = new Option<int>("--graft-step") { Description = "Step whose state is replaced by a prototype (default -1: T/2).", DefaultValueFactory = _ => -1 };
        var horizon = new Option<int>("--graft-horizon") { Description = $"Outputs scored after the graft (default {d.GraftHorizon}).", DefaultValueFactory = _ => d.GraftHorizon };
        var cmd = new Command("chunks", "Chunks in population activity (SEEDS §2): dictionary, per-step labels, NMI with the task's latent labels, grafting.")
        {
            source, method, output, trials, steps, seed, backend, networks, figures, bins, rounds, minCount, occurrences, chunks, epochs, chunkSeed, graftStep, horizon,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var options = new ChunkOptions
            {
                Method = ChunkOptions.ParseMethod(r.GetValue(method)!), Bins = r.GetValue(bins), Rounds = r.GetValue(rounds), MinCount = r.GetValue(minCount),
                Occurrences = r.GetValue(occurrences), Chunks = r.GetValue(chunks), Epochs = r.GetValue(epochs), Seed = r.GetValue(chunkSeed),
                GraftStep = r.GetValue(graftStep), GraftHorizon = r.GetValue(horizon),
            }.Validate();
            return Execute(r.GetValue(source)!, r.GetValue(output), r.GetValue(trials), r.GetValue(steps), r.GetValue(seed), r.GetValue(backend)!,
                r.GetValue(networks), r.GetValue(figures), options);
        }));
        return cmd;
    }

    private static int Execute(string source, string? outDir, int trials, int? steps, long seed, string backendName, string? networkList, int figures, ChunkOptions options)
    {
        Guard.AtLeast(trials, 1, "--trials");
        Guard.AtLeast(figures, 0, "--figures");
        string path = Directory.Exists(source) ? Path.Combine(source, Checkpoint.FileName) : source;
        var state = Checkpoint.Load(path);
        var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
        if (task is not ILatentTask)
        {
            throw new ArgumentException($"Task '{task.Name}' has no latent labels to align chunks with; analyze chunks supports runs of flipflop and sequence-chunks.");
        }

        int t = steps ?? Math.Max(100, state.Options.StepsFor(task));
        var problems = NetworkHealth.Problems(state);
        var select = networkList is null
            ? Enumerable.Range(0, state.Ensemble.Spec.Networks).Where(e => problems[e] is null).ToArray()
            : networkList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int e) ? e : throw new ArgumentException($"--networks: '{v}' is not a network id.")).ToArray();
        if (select.Length == 0)
        {
            throw new ArgumentException("No healthy network to analyse.");
        }

        outDir ??= Path.Combine(Directory.Exists(source) ? source : Path.GetDirectoryName(Path.GetFullPath(source))!, "chunks-" + ChunkOptions.NameOf(options.Method));
        using var backend = BackendFactory.Create(backendName);
        Console.WriteLine($"backend: {backend.Name} ({backend.Device}); task {task.Name}, method {ChunkOptions.NameOf(options.Method)}, {select.Length} network(s), {trials} trials × {t} steps");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var report = ChunkAnalysis.Run(backend, state.Ensemble, task, trials, t, seed, options, select);
        double total = sw.Elapsed.TotalSeconds;
        foreach (var n in report.Networks)
        {
            var g = n.Graft;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  network {n.Network,3}  chunks {n.Chunks.Count,5}  NMI {n.Nmi:F3} (explained steps {n.NmiExplained:F3})  explained {n.Chunks.FractionExplained:F3}  graft {g?.MeanGrafted:F3} vs baseline {g?.MeanBaseline:F3}  {n.Seconds * 1e3:F0} ms"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"extraction {report.Networks.Sum(n => n.Seconds):F2} s summed over {report.Networks.Count} network(s); {total:F2} s wall with recording and grafting ({backend.Threads} thread(s)); mean NMI {report.Networks.Average(n => n.Nmi ?? 0):F3}"));
        using var stage = new OutputStage(outDir);
        ChunkReportFiles.Write(report, stage.PathOf, figures);
        stage.Commit();
        Console.WriteLine($"wrote chunks.json, latents.npy and per-network labels/prototypes (.npy), chunks/graft (.csv) and figures to {Path.GetFullPath(outDir)}");
        return 0;
    }
}
