using System.CommandLine;
using System.Globalization;
using Engine.Composed;
using Engine.IO;
using Engine.Tasks.Cognitive;

namespace Engine.Cli;

/// <summary><c>train-sequence</c>: continual learning of cognitive tasks with the context-composed (or plain) RNN (SEEDS §6).</summary>
internal static class TrainSequenceCommand
{
    /// <summary>The verb.</summary>
    public static Command Create()
    {
        var d = new SequenceOptions();
        var t = new CognitiveOptions();
        var tasks = new Argument<string>("tasks") { Description = $"Comma-separated tasks in training order, from: {string.Join(", ", CognitiveTask.Names)}." };
        var cell = new Option<string>("--cell") { Description = "composed or plain (default composed).", DefaultValueFactory = _ => "composed" };
        var context = new Option<string>("--context") { Description = "oracle or inferred (default oracle).", DefaultValueFactory = _ => "oracle" };
        var components = new Option<int>("--components") { Description = $"K, most components (default {d.Components}).", DefaultValueFactory = _ => d.Components };
        var rank = new Option<int>("--rank") { Description = $"R, rank per component (default {d.Rank}).", DefaultValueFactory = _ => d.Rank };
        var hidden = new Option<int>("--hidden") { Description = $"N (default {d.Hidden}).", DefaultValueFactory = _ => d.Hidden };
        var networks = new Option<int>("--networks") { Description = $"E (default {d.Networks}).", DefaultValueFactory = _ => d.Networks };
        var batch = new Option<int>("--batch") { Description = $"Trials per batch (default {d.Batch}).", DefaultValueFactory = _ => d.Batch };
        var lr = new Option<double>("--lr") { Description = $"Adam learning rate (default {d.LearningRate}).", DefaultValueFactory = _ => d.LearningRate };
        var criterion = new Option<double>("--criterion") { Description = $"Test accuracy that ends a task (default {d.Criterion}).", DefaultValueFactory = _ => d.Criterion };
        var maxBatches = new Option<int>("--max-batches") { Description = $"Most batches per task (default {d.MaxBatches}).", DefaultValueFactory = _ => d.MaxBatches };
        var evalEvery = new Option<int>("--eval-every") { Description = $"Batches between accuracy checks (default {d.EvalEvery}).", DefaultValueFactory = _ => d.EvalEvery };
        var evalTrials = new Option<int>("--eval-trials") { Description = $"Test trials per task (default {d.EvalTrials}).", DefaultValueFactory = _ => d.EvalTrials };
        var dt = new Option<double>("--dt") { Description = $"Time step in ms (default {t.Dt}; Yang et al. 20).", DefaultValueFactory = _ => t.Dt };
        var ring = new Option<int>("--ring") { Description = $"Channels per ring (default {t.Ring}; Yang et al. 32).", DefaultValueFactory = _ => t.Ring };
        var timeScale = new Option<double>("--time-scale") { Description = $"Factor on every epoch duration (default {t.TimeScale}).", DefaultValueFactory = _ => t.TimeScale };
        var seed = new Option<long>("--seed") { Description = $"Seed (default {d.Seed}).", DefaultValueFactory = _ => d.Seed };
        var threads = new Option<int>("--threads") { Description = "Host threads, 0 = all (default 0).", DefaultValueFactory = _ => 0 };
        var scratch = new Option<bool>("--scratch") { Description = "Also train every task alone from scratch and report its batches to criterion." };
        var output = new Option<string>("--out") { Description = "Output folder (required).", Required = true };
        var cmd = new Command("train-sequence", "Continual learning (SEEDS §6): train tasks one after another, test all after each stage; accuracy matrix, forgetting, BWT/FWT, components, figures.")
        {
            tasks, cell, context, components, rank, hidden, networks, batch, lr, criterion, maxBatches, evalEvery, evalTrials, dt, ring, timeScale, seed, threads, scratch, output,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var options = new SequenceOptions
            {
                Cell = ParseCell(r.GetValue(cell)!), Context = ParseContext(r.GetValue(context)!), Components = r.GetValue(components), Rank = r.GetValue(rank),
                Hidden = r.GetValue(hidden), Networks = r.GetValue(networks), Batch = r.GetValue(batch), LearningRate = r.GetValue(lr), Criterion = r.GetValue(criterion),
                MaxBatches = r.GetValue(maxBatches), EvalEvery = r.GetValue(evalEvery), EvalTrials = r.GetValue(evalTrials), Seed = r.GetValue(seed), Threads = r.GetValue(threads),
                Task = new CognitiveOptions { Dt = r.GetValue(dt), Ring = r.GetValue(ring), TimeScale = r.GetValue(timeScale) },
            }.Validate();
            var names = ContinualLearning.ParseTasks(r.GetValue(tasks)!.Split(','));
            return Execute(options, names, r.GetValue(scratch), r.GetValue(output)!);
        }));
        return cmd;
    }

    /// <summary><c>train --cell composed --task T</c>: one cognitive task on the composed RNN (a sequence of one), oracle context; --max-epochs is the batch budget.</summary>
    public static int Single(string? task, int? components, int? rank, int? hidden, int? networks, double? lr, int? maxBatches, long? seed, int? threads, string? outDir)
    {
        var d = new SequenceOptions();
        if (task is null || !CognitiveTask.IsCognitive(task))
        {
            throw new ArgumentException($"--cell composed trains a cognitive task; --task must be one of: {string.Join(", ", CognitiveTask.Names)}, got '{task}'.", "--task");
        }

        var options = new SequenceOptions
        {
            Components = components ?? d.Components, Rank = rank ?? d.Rank, Hidden = hidden ?? d.Hidden, Networks = networks ?? d.Networks,
            LearningRate = lr ?? d.LearningRate, MaxBatches = maxBatches ?? d.MaxBatches, Seed = seed ?? d.Seed, Threads = threads ?? 0,
        }.Validate();
        return Execute(options, [task.Trim().ToLowerInvariant()], false, outDir ?? throw new ArgumentException("--out DIR is required.", "--out"));
    }

    /// <summary>Parses --cell.</summary>
    public static CellKind ParseCell(string value) => value.Trim().ToLowerInvariant() switch
    {
        "composed" => CellKind.Composed,
        "plain" => CellKind.Plain,
        _ => throw new ArgumentException($"--cell must be composed or plain, got '{value}'."),
    };

    private static ContextSource ParseContext(string value) => value.Trim().ToLowerInvariant() switch
    {
        "oracle" => ContextSource.Oracle,
        "inferred" => ContextSource.Inferred,
        _ => throw new ArgumentException($"--context must be oracle or inferred, got '{value}'."),
    };

    /// <summary>Runs the sequence, prints the matrix and metrics, writes the files.</summary>
    public static int Execute(SequenceOptions options, string[] names, bool scratch, string outDir)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"{SequenceReport.Name(options)}: N={options.Hidden}" + (options.Cell == CellKind.Composed ? $", K={options.Components}, R={options.Rank}" : "")
            + $", {options.Networks} network(s), dt {options.Task.Dt.ToString(inv)} ms, tasks {string.Join(" → ", names)}");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (result, learner) = ContinualLearning.Run(options, names, Console.WriteLine);
        Dictionary<string, int?[]>? alone = null;
        if (scratch)
        {
            alone = [];
            foreach (var name in names)
            {
                var fresh = new ContinualLearner(options);
                alone[name] = fresh.TrainTask(name).Batches;
                Console.WriteLine($"from scratch {name}: batches to criterion {Format(alone[name])}");
            }
        }

        var mean = result.MeanAccuracy();
        Console.WriteLine("accuracy (rows: after stage; columns: " + string.Join(", ", names) + ")");
        for (int i = 0; i < mean.Length; i++)
        {
            Console.WriteLine(string.Create(inv, $"  {(i == 0 ? "untrained" : names[i - 1]),-12} ") + string.Join("  ", mean[i].Select(v => v.ToString("F2", inv))));
        }

        if (names.Length > 1)
        {
            Console.WriteLine(string.Create(inv, $"BWT {result.Metrics.Average(m => m.Bwt):F3}  FWT {result.Metrics.Average(m => m.Fwt):F3}  mean forgetting {result.Metrics.Average(m => m.Forgetting.Average()):F3}"));
        }

        foreach (var s in result.Stages)
        {
            Console.WriteLine($"  {s.Task}: batches to criterion {Format(s.Batches)}; new components [{string.Join(", ", s.NewComponents)}], reused [{string.Join(", ", s.ReusedComponents)}]");
        }

        using var stage = new OutputStage(outDir);
        SequenceReport.Write(result, learner, stage.PathOf, alone);
        stage.Commit();
        Console.WriteLine(string.Create(inv, $"{sw.Elapsed.TotalSeconds:F1} s; wrote accuracy_matrix.csv, accuracy_networks.csv, metrics.json and figures to {Path.GetFullPath(outDir)}"));
        return 0;
    }

    private static string Format(int?[] batches) => string.Join(",", batches.Select(b => b?.ToString(CultureInfo.InvariantCulture) ?? "-"));
}
