using System.CommandLine;
using System.Globalization;
using Engine.Backends;
using Engine.Benchmarks;

namespace Engine.Cli;

/// <summary><c>bench train-step</c>: times one ensemble training step; the last line is machine-readable.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var networks = new Option<int>("--networks") { Description = "E (default 32).", DefaultValueFactory = _ => 32 };
        var hidden = new Option<int>("--hidden") { Description = "N (default 128).", DefaultValueFactory = _ => 128 };
        var batch = new Option<int>("--batch") { Description = "B, trials (default 64).", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "T (default 100).", DefaultValueFactory = _ => 100 };
        var backend = new Option<string>("--backend") { Description = "Backend (default cpu).", DefaultValueFactory = _ => "cpu" };
        var threads = new Option<int>("--threads") { Description = "CPU threads, 0 = all (default 0).", DefaultValueFactory = _ => 0 };
        var repeats = new Option<int>("--repeats") { Description = "Timed steps (default 15).", DefaultValueFactory = _ => 15 };
        var trainStep = new Command("train-step", "Forward + BPTT + Adam for one ensemble; prints ms/step, GFLOP/s and the share of the measured fp32 peak.")
        {
            networks, hidden, batch, steps, backend, threads, repeats,
        };
        trainStep.SetAction(r => CliErrors.Run(() =>
        {
            using var b = BackendFactory.Create(r.GetValue(backend)!, r.GetValue(threads));
            int t = r.GetValue(threads) <= 0 ? Environment.ProcessorCount : r.GetValue(threads);
            Console.WriteLine($"backend: {b.Name} ({b.Device})");
            // The share of peak refers to this CPU's measured FMA peak; a GPU's run reports n/a (its peak is not measured here).
            double peak = 0;
            if (b.IsHostCpu)
            {
                peak = PeakFlops.Measure(t);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fp32 FMA peak on {t} thread(s): {peak:F1} GFLOP/s (measured now)"));
            }

            var result = TrainStepBenchmark.Run(b, r.GetValue(networks), r.GetValue(hidden), r.GetValue(batch), r.GetValue(steps), peak, repeats: r.GetValue(repeats));
            Console.WriteLine(result.FormatSpread());
            Console.WriteLine(result.FormatLine());
            return 0;
        }));
        return new Command("bench", "Benchmarks.") { trainStep, FixedPointsCommand.CreateBench(), TimeToThresholdCommand(), RecipesCommand(), DistanceBenchCommand.Create(), ChunksBenchCommand.Create(), RepresentationBenchCommand.Create(), FixedPointRnnCommand.CreateBench(), ComposedBenchCommand.Create() };
    }

    private static Command TimeToThresholdCommand()
    {
        var tasks = new Option<string>("--tasks") { Description = "Comma-separated tasks (default flipflop,sine,delayed,pathint).", DefaultValueFactory = _ => "flipflop,sine,delayed,pathint" };
        var networks = new Option<int>("--networks") { Description = "E (default 32).", DefaultValueFactory = _ => 32 };
        var hidden = new Option<int>("--hidden") { Description = "N (default 128).", DefaultValueFactory = _ => 128 };
        var trials = new Option<int>("--trials") { Description = "B (default 32).", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Learning rate (default 3e-3; delayed uses 1e-3).", DefaultValueFactory = _ => 3e-3 };
        var maxEpochs = new Option<int>("--max-epochs") { Description = "Budget (default 5000).", DefaultValueFactory = _ => 5000 };
        var backend = new Option<string>("--backend") { Description = "Backend (default cpu).", DefaultValueFactory = _ => "cpu" };
        var cmd = new Command("time-to-threshold", "Train each task to its default threshold; report wall time, the share spent generating trials, and the converged count.")
        {
            tasks, networks, hidden, trials, lr, maxEpochs, backend,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            using var b = BackendFactory.Create(r.GetValue(backend)!);
            Console.WriteLine($"backend: {b.Name} ({b.Device})");
            foreach (var name in r.GetValue(tasks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var task = Engine.Tasks.TaskRegistry.Create(name);
                // Short trials keep the benchmark to minutes on 2 cores; delayed discrimination uses its own minimum length.
                int? steps = name is "flipflop" or "pathint" ? 30 : name == "sine" ? 40 : null;
                double rate = name == "delayed" ? Math.Min(1e-3, r.GetValue(lr)) : r.GetValue(lr);
                var options = new Engine.Training.TrainingOptions { Trials = r.GetValue(trials), Steps = steps, LearningRate = rate, ClipNorm = 1, MaxEpochs = r.GetValue(maxEpochs) };
                var result = Engine.Benchmarks.TimeToThreshold.Run(b, task, r.GetValue(networks), r.GetValue(hidden), options);
                Console.WriteLine(result.FormatLine());
            }

            return 0;
        }));
        return cmd;
    }

    private static Command RecipesCommand()
    {
        var tasks = new Option<string>("--tasks") { Description = "Comma-separated tasks (default flipflop,sine,delayed,pathint).", DefaultValueFactory = _ => "flipflop,sine,delayed,pathint" };
        var widths = new Option<string>("--widths") { Description = "Comma-separated widths N (default 32,64,128,256,512).", DefaultValueFactory = _ => "32,64,128,256,512" };
        var networks = new Option<int>("--networks") { Description = "E per task and width (default 8).", DefaultValueFactory = _ => 8 };
        var param = new Option<string>("--parameterization") { Description = "standard | mup (default standard; mup trains the rate cell with the recipe's alpha).", DefaultValueFactory = _ => "standard" };
        var gammas = new Option<string>("--gamma") { Description = "Comma-separated µP gammas (default 1).", DefaultValueFactory = _ => "1" };
        var backend = new Option<string>("--backend") { Description = "Backend (default cpu).", DefaultValueFactory = _ => "cpu" };
        var trials = new Option<int?>("--trials") { Description = "Tuning only: override the recipe's B." };
        var steps = new Option<int?>("--steps") { Description = "Tuning only: override the recipe's T." };
        var lr = new Option<double?>("--lr") { Description = "Tuning only: override the recipe's learning rate (µP: eta0)." };
        var clip = new Option<double?>("--clip") { Description = "Tuning only: override the recipe's clip." };
        var maxEpochs = new Option<int?>("--max-epochs") { Description = "Tuning only: override the recipe's epoch budget." };
        var plateau = new Option<int?>("--plateau-patience") { Description = "Tuning only: override the recipe's ReduceLROnPlateau patience." };
        var rank = new Option<int>("--rank") { Description = "Factor knob: low-rank R, 0 = full (default 0).", DefaultValueFactory = _ => 0 };
        var l1 = new Option<double>("--l1") { Description = "Factor knob: l1 strength on W (default 0).", DefaultValueFactory = _ => 0 };
        var nuclear = new Option<double>("--nuclear") { Description = "Factor knob: nuclear-norm strength on W (default 0).", DefaultValueFactory = _ => 0 };
        var activity = new Option<double>("--activity") { Description = "Factor knob: activity strength (default 0).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("recipes", "Train each task x width (x gamma) with the task's training recipe; one line each: task, N, parameterisation, gamma, converged/E, share, epochs, wall seconds.")
        {
            tasks, widths, networks, param, gammas, backend, trials, steps, lr, clip, maxEpochs, plateau, rank, l1, nuclear, activity,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var p = Engine.Training.TrainConfig.ParseParameterization(r.GetValue(param));
            var taskNames = r.GetValue(tasks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var ns = ParseList(r.GetValue(widths)!, "--widths", s => int.Parse(s, CultureInfo.InvariantCulture));
            var gs = p == Engine.Training.Parameterization.MuP ? ParseList(r.GetValue(gammas)!, "--gamma", s => double.Parse(s, CultureInfo.InvariantCulture)) : [1.0];
            foreach (var name in taskNames)
            {
                Engine.Training.TrainingRecipe.For(name, p); // an unknown task fails before any training
            }

            using var b = BackendFactory.Create(r.GetValue(backend)!);
            Console.WriteLine($"backend: {b.Name} ({b.Device})");
            foreach (var name in taskNames)
            {
                foreach (int n in ns)
                {
                    foreach (double g in gs)
                    {
                        var o = RecipeBenchmark.RecipeOptions(name, p, g);
                        o = o with
                        {
                            Trials = r.GetValue(trials) ?? o.Trials, Steps = r.GetValue(steps) ?? o.Steps, LearningRate = r.GetValue(lr) ?? o.LearningRate,
                            ClipNorm = r.GetValue(clip) ?? o.ClipNorm, MaxEpochs = r.GetValue(maxEpochs) ?? o.MaxEpochs,
                            PlateauPatience = r.GetValue(plateau) ?? o.PlateauPatience,
                            Rank = r.GetValue(rank), L1 = r.GetValue(l1), Nuclear = r.GetValue(nuclear), Activity = r.GetValue(activity),
                        };
                        Console.WriteLine(RecipeBenchmark.Run(b, name, n, r.GetValue(networks), o).FormatLine());
                    }
                }
            }

            return 0;
        }));
        return cmd;
    }

    private static T[] ParseList<T>(string text, string option, Func<string, T> parse)
    {
        try
        {
            var values = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToArray();
            return values.Length > 0 ? values : throw new ArgumentException($"{option} is empty.", option);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{option} must be a comma-separated list of numbers, got '{text}'.", option);
        }
    }
}
