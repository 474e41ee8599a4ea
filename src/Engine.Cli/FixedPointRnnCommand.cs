using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Engine.FixedPointRnn;
using Engine.IO;

namespace Engine.Cli;

/// <summary>The fixed-point RNN's verbs: <c>train --cell fixed-point</c>, <c>analyze fprnn RUN</c> and <c>bench fprnn</c>.</summary>
internal static class FixedPointRnnCommand
{
    /// <summary>The <c>--cell</c> value that selects the fixed-point RNN.</summary>
    public const string Cell = "fixed-point";

    /// <summary>The options <c>train</c> already has that the fixed-point RNN reads too.</summary>
    internal sealed record Shared(
        Option<string?> Task, Option<int?> Networks, Option<int?> Hidden, Option<int?> Trials, Option<double?> LearningRate, Option<double?> Clip,
        Option<int?> MaxEpochs, Option<double?> Threshold, Option<long?> Seed, Option<int?> Threads, Option<DirectoryInfo?> Output, Option<bool> Force, Option<bool> Quiet);

    /// <summary>Adds the fixed-point-only flags to <c>train</c>; the returned handler runs a fixed-point training.</summary>
    public static TrainHandler AddTrainOptions(Command train, Shared shared)
    {
        ArgumentNullException.ThrowIfNull(train);
        var h = new TrainHandler(shared);
        foreach (var o in h.Own)
        {
            train.Options.Add(o);
        }

        return h;
    }

    /// <summary>Parses and runs <c>train --cell fixed-point</c>.</summary>
    internal sealed class TrainHandler(Shared s)
    {
        private readonly Option<int?> _iterations = new("--iterations") { Description = "Fixed-point cell: a fixed depth-iteration count K (1 = the diagonal RNN); default: the fixed point solved directly (--direct); --max-iterations L iterates to the stopping rule." };
        private readonly Option<bool?> _direct = new("--direct") { Description = "Fixed-point cell: solve for the fixed point directly (the sequential dense recurrence it equals) instead of iterating; implicit gradient (the default unless --iterations, --max-iterations, --tolerance or --quantile is given)." };
        private readonly Option<int?> _maxIterations = new("--max-iterations") { Description = "Fixed-point cell: iterate to the stopping rule with at most this many sweeps (default when the rule is asked for: 100)." };
        private readonly Option<double?> _tolerance = new("--tolerance") { Description = "Fixed-point cell: residual tolerance of the stopping rule (default 1e-5)." };
        private readonly Option<double?> _quantile = new("--quantile") { Description = "Fixed-point cell: batch quantile of the residual that must meet the tolerance (default 1)." };
        private readonly Option<int?> _trainLength = new("--train-length") { Description = "Fixed-point cell: training sequence length k (default 16)." };
        private readonly Option<int?> _reflections = new("--reflections") { Description = "Fixed-point cell: Householder reflections r in the mixer Q, at most --hidden (default 2)." };
        private readonly Option<int?> _modulus = new("--modulus") { Description = "Fixed-point cell, task count: the modulus m (default 8)." };
        private readonly Option<int?> _alphabet = new("--alphabet") { Description = "Fixed-point cell, task copy: letters (default 8)." };

        /// <summary>The flags this handler adds.</summary>
        public IReadOnlyList<Option> Own => [_iterations, _direct, _maxIterations, _tolerance, _quantile, _trainLength, _reflections, _modulus, _alphabet];

        /// <summary>Whether the parse asks for the fixed-point cell; throws when a fixed-point-only flag is given with another cell.</summary>
        public bool Handles(ParseResult r, string? cell)
        {
            ArgumentNullException.ThrowIfNull(r);
            if (string.Equals(cell?.Trim(), Cell, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            foreach (var o in Own)
            {
                if (r.GetResult(o) is { Implicit: false })
                {
                    throw new ArgumentException($"{o.Name} applies only to --cell {Cell}, got --cell {cell ?? "discrete"}.", o.Name);
                }
            }

            return false;
        }

        /// <summary>Trains, writes the run directory, prints the summary.</summary>
        public int Train(ParseResult r)
        {
            string taskName = r.GetValue(s.Task) ?? throw new ArgumentException($"--task is required with --cell {Cell}: one of {string.Join(", ", StateTasks.Names)}.", "--task");
            var settings = new Dictionary<string, string>();
            if (r.GetValue(_modulus) is { } m)
            {
                settings["modulus"] = m.ToString(CultureInfo.InvariantCulture);
            }

            if (r.GetValue(_alphabet) is { } a)
            {
                settings["alphabet"] = a.ToString(CultureInfo.InvariantCulture);
            }

            var task = StateTasks.Create(taskName, settings);
            var iteration = new FpIteration
            {
                // Default: the fixed point itself (direct solve, implicit gradient) — the sweep does not converge at the
                // reflections that parity and counting need, so the stopping rule is opt-in (--max-iterations/--tolerance).
                Iterations = r.GetValue(_iterations),
                Direct = r.GetValue(_direct) ?? (r.GetValue(_iterations) is null && r.GetValue(_maxIterations) is null && r.GetValue(_tolerance) is null && r.GetValue(_quantile) is null),
                MaxIterations = r.GetValue(_maxIterations) ?? 100, Tolerance = r.GetValue(_tolerance) ?? 1e-5,
                Quantile = r.GetValue(_quantile) ?? 1.0,
            }.Validate();
            var options = new FpTrainOptions
            {
                Trials = r.GetValue(s.Trials) ?? 32, TrainLength = r.GetValue(_trainLength) ?? 16, LearningRate = r.GetValue(s.LearningRate) ?? 1e-2,
                Clip = r.GetValue(s.Clip) ?? 1.0, MaxSteps = r.GetValue(s.MaxEpochs) ?? 2000, Threshold = r.GetValue(s.Threshold) ?? 1e-3, Threads = r.GetValue(s.Threads) ?? 0,
            };
            var ensemble = FpRnnEnsemble.Create(task, r.GetValue(s.Networks) ?? 8, r.GetValue(s.Hidden) ?? 16, r.GetValue(_reflections) ?? 2, iteration, options, r.GetValue(s.Seed) ?? 0);
            string dir = Path.GetFullPath((r.GetValue(s.Output) ?? throw new ArgumentException("--out DIR is required.", "--out")).FullName);
            bool quiet = r.GetValue(s.Quiet);
            using var claim = FolderLock.Acquire(dir, "the run");
            string[] ours = [FpRnnFiles.ManifestName, FpRnnFiles.ParametersName, "metrics.csv", "summary.json"];
            var old = ours.Where(f => File.Exists(Path.Combine(dir, f))).ToArray();
            if (old.Length > 0 || File.Exists(Path.Combine(dir, Engine.Training.Checkpoint.FileName)))
            {
                if (!r.GetValue(s.Force))
                {
                    throw new ArgumentException($"--out {dir} already holds a run; pick a new --out or start over with --force (deletes it).", "--out");
                }

                foreach (var f in old)
                {
                    File.Delete(Path.Combine(dir, f));
                }
            }

            var spec = ensemble.Spec;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fixed-point RNN: task {task.Name} {string.Join(' ', task.Settings.Select(kv => $"{kv.Key}={kv.Value}"))}; E={spec.Networks} N={spec.Hidden} r={spec.Reflections} V={spec.Vocab} C={spec.Classes}; iterations {iteration.Label}" +
                $"{(iteration.IsFixed || iteration.Direct ? "" : $" (tol {iteration.Tolerance:G3}, max {iteration.MaxIterations})")}; B={options.Trials} k={options.TrainLength} lr={options.LearningRate:G3} steps≤{options.MaxSteps}"));
            var records = new List<FpStepRecord>();
            var sw = Stopwatch.StartNew();
            using var interrupts = new Interrupts("interrupt: finishing the current step and saving…");
            FpRnnTrainer.Train(ensemble, step =>
            {
                records.AddRange(step);
                int n = step[0].Step;
                if (!quiet && (n % 200 == 0 || n == 1))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  step {n,5}  loss {step.Average(x => x.Loss):G4}  seq-acc {step.Average(x => x.SequenceAccuracy):F3}  iterations {step.Average(x => x.Iterations):F1}  training {step.Count}/{spec.Networks}  {sw.Elapsed.TotalSeconds:F1} s"));
                }
            }, interrupts.Token);
            double seconds = sw.Elapsed.TotalSeconds;
            FpRnnFiles.Save(dir, ensemble);
            AtomicFile.WriteText(Path.Combine(dir, "metrics.csv"), FpRnnFiles.MetricsCsv(records));
            int k = options.TrainLength;
            var check = FpRnnEvaluation.Run(ensemble, [k, 2 * k, 4 * k], [iteration with { Quantile = 1.0 }], 256, 1, options.Threads);
            var means = FpRnnEvaluation.Means(check);
            JsonOutput.Write(Path.Combine(dir, "summary.json"), new
            {
                task = task.Name,
                iterations = iteration.Label,
                seconds,
                networks = Enumerable.Range(0, spec.Networks).Select(e => new { network = e, seed = ensemble.Seeds[e], status = ensemble.Status[e].ToString().ToLowerInvariant(), steps = ensemble.Steps[e], loss = ensemble.LastLoss[e] }),
                test = means.Select(x => new { length = x.Length, sequence_accuracy = x.SequenceAccuracy, accuracy = x.Accuracy, iterations_run = x.IterationsRun }),
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"done in {seconds:F1} s: {string.Join(", ", ensemble.Status.GroupBy(x => x).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"))}"));
            foreach (var x in means)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  test length {x.Length,4}: sequence accuracy {x.SequenceAccuracy:F3}, per position {x.Accuracy:F3}, iterations {x.IterationsRun:F1}"));
            }

            Console.WriteLine($"wrote {FpRnnFiles.ManifestName}, {FpRnnFiles.ParametersName}, metrics.csv, summary.json to {dir}");
            return interrupts.Requested ? 130 : 0;
        }
    }

    /// <summary><c>analyze fprnn RUN</c>: accuracy against test length × iteration setting.</summary>
    public static Command CreateAnalyze()
    {
        var run = new Argument<string>("run") { Description = "A run directory of train --cell fixed-point." };
        var lengths = new Option<string?>("--lengths") { Description = "Comma-separated test lengths (default k, 2k, 4k, 8k for training length k)." };
        var iterations = new Option<string>("--iterations") { Description = "Comma-separated settings: counts, 'converged' (iterate to the stopping rule) and/or 'dense' (direct solve of the fixed point) (default 1,2,4,8,converged,dense).", DefaultValueFactory = _ => "1,2,4,8,converged,dense" };
        var maxIterations = new Option<int>("--max-iterations") { Description = "ℓ_max for 'converged' (default 1000, the evaluation budget).", DefaultValueFactory = _ => 1000 };
        var tolerance = new Option<double>("--tolerance") { Description = "Tolerance for 'converged' (default 1e-5).", DefaultValueFactory = _ => 1e-5 };
        var trials = new Option<int>("--trials") { Description = "Test sequences per length (default 256).", DefaultValueFactory = _ => 256 };
        var seed = new Option<long>("--seed") { Description = "Seed of the test sequences (default 1).", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Threads, 0 = all cores (default 0).", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "Output folder (default RUN/fprnn-eval)." };
        var cmd = new Command("fprnn", "Fixed-point RNN (SEEDS §5): sequence and per-position accuracy against test length and depth iterations (diagonal → dense); CSV, JSON, PNG.")
        {
            run, lengths, iterations, maxIterations, tolerance, trials, seed, threads, output,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            string dir = Path.GetFullPath(r.GetValue(run)!);
            if (!Directory.Exists(dir))
            {
                throw new ArgumentException($"run {dir}: no such run directory.", "run");
            }

            var ensemble = FpRnnFiles.Load(dir);
            int k = ensemble.Options.TrainLength;
            int[] ls = r.GetValue(lengths) is { } text ? Ints(text, "--lengths") : [k, 2 * k, 4 * k, 8 * k];
            var settings = Settings(r.GetValue(iterations)!, r.GetValue(maxIterations), r.GetValue(tolerance));
            var sw = Stopwatch.StartNew();
            var rows = FpRnnEvaluation.Run(ensemble, ls, settings, r.GetValue(trials), r.GetValue(seed), r.GetValue(threads));
            string outDir = r.GetValue(output) ?? Path.Combine(dir, "fprnn-eval");
            using (var stage = new OutputStage(outDir))
            {
                FpRnnEvaluation.Write(rows, stage.PathOf, $"{ensemble.Task.Name}: {ensemble.Spec.Networks} networks, N={ensemble.Spec.Hidden}, trained at length {k} with iterations = {ensemble.Iteration.Label}", k);
                stage.Commit();
            }

            Console.WriteLine($"task {ensemble.Task.Name}, trained with iterations {ensemble.Iteration.Label} at length {k}; mean over {rows.Select(x => x.Network).Distinct().Count()} network(s):");
            Console.WriteLine("iterations  " + string.Join("  ", ls.Select(l => $"L={l,-5}")) + "   (sequence accuracy)");
            foreach (var g in FpRnnEvaluation.Means(rows).GroupBy(m => m.Iterations))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{g.Key,-10}  {string.Join("  ", g.Select(m => $"{m.SequenceAccuracy,7:F3}"))}   (iterations run: {string.Join(", ", g.Select(m => m.IterationsRun.ToString("F0", CultureInfo.InvariantCulture)))})"));
            }

            Console.WriteLine($"{sw.Elapsed.TotalSeconds:F1} s; wrote fprnn-eval.csv, fprnn-eval.json, fprnn-eval-sequence.png, fprnn-eval-position.png, fprnn-eval-iterations.png to {Path.GetFullPath(outDir)}");
            return 0;
        }));
        return cmd;
    }

    /// <summary><c>bench fprnn</c>: one training step at 1, 4 and converged iterations against the discrete tanh RNN of the same width.</summary>
    public static Command CreateBench()
    {
        var networks = new Option<int>("--networks") { Description = "E (default 8).", DefaultValueFactory = _ => 8 };
        var hidden = new Option<int>("--hidden") { Description = "N (default 64).", DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { Description = "B (default 32).", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "T (default 64).", DefaultValueFactory = _ => 64 };
        var reflections = new Option<int>("--reflections") { Description = "r (default 2).", DefaultValueFactory = _ => 2 };
        var iterations = new Option<string>("--iterations") { Description = "Settings (default 1,4,converged,dense).", DefaultValueFactory = _ => "1,4,converged,dense" };
        var repeats = new Option<int>("--repeats") { Description = "Timed steps (default 10).", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "Threads, 0 = all (default 0).", DefaultValueFactory = _ => 0 };
        var backend = new Option<string>("--backend") { Description = "Backend of the discrete baseline (default cpu).", DefaultValueFactory = _ => "cpu" };
        var cmd = new Command("fprnn", "Times one fixed-point RNN training step (forward iterations + gradient + Adam) per iteration setting, and the discrete tanh RNN's step of the same width; ms and GFLOP/s.")
        {
            networks, hidden, batch, steps, reflections, iterations, repeats, threads, backend,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            int e = r.GetValue(networks), n = r.GetValue(hidden), b = r.GetValue(batch), t = r.GetValue(steps);
            var settings = Settings(r.GetValue(iterations)!, 100, 1e-5);
            Console.WriteLine($"E={e} N={n} B={b} T={t}, {(r.GetValue(threads) == 0 ? Environment.ProcessorCount : r.GetValue(threads))} thread(s)");
            foreach (var s in settings)
            {
                var res = FpRnnBenchmark.Run(e, n, r.GetValue(reflections), b, t, s, r.GetValue(repeats), r.GetValue(threads));
                Console.WriteLine(res.FormatLine());
            }

            using var be = Engine.Backends.BackendFactory.Create(r.GetValue(backend)!, r.GetValue(threads));
            using var discrete = new Engine.Benchmarks.TrainStepBenchmark(be, e, n, b, t);
            var d = discrete.Measure(repeats: r.GetValue(repeats));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fprnn-bench cell=discrete-tanh backend={be.Name} ms_per_step={d.MedianMs:F3} gflops={d.Gflops:F2}"));
            return 0;
        }));
        return cmd;
    }

    private static List<FpIteration> Settings(string text, int maxIterations, double tolerance)
        => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(x => x.Equals("dense", StringComparison.OrdinalIgnoreCase)
            ? new FpIteration { Direct = true }
            : x.Equals("converged", StringComparison.OrdinalIgnoreCase)
            ? new FpIteration { MaxIterations = maxIterations, Tolerance = tolerance }.Validate()
            : new FpIteration { Iterations = int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : throw new ArgumentException($"--iterations: '{x}' is neither a count, 'converged' nor 'dense'.", "--iterations") }.Validate())
            .ToList();

    private static int[] Ints(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 0
            ? throw new ArgumentException($"{option} is empty.", option)
            : parts.Select(x => int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new ArgumentException($"{option}: '{x}' is not an integer.", option)).ToArray();
    }
}
