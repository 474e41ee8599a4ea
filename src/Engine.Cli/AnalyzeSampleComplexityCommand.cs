using System.CommandLine;
using System.Globalization;
using Engine.Analysis.SampleComplexity;
using Engine.Backends;
using Engine.IO;
using Engine.Tasks;

namespace Engine.Cli;

/// <summary><c>analyze sample-complexity</c>: the q-sparse sample-complexity sweep (training-set sizes × N × seeds, batched as ensembles).</summary>
internal static class AnalyzeSampleComplexityCommand
{
    public static Command Create()
    {
        var d = new SampleComplexityOptions();
        var task = new Option<string>("--task") { Description = "Task of the sweep (only qsparse).", DefaultValueFactory = _ => "qsparse" };
        var variants = new Option<string>("--variants") { Description = "Comma list of full, simplified (default both).", DefaultValueFactory = _ => "full,simplified" };
        var lengths = new Option<string>("--lengths") { Description = "Comma list of sequence lengths N (default 4,8,16).", DefaultValueFactory = _ => string.Join(',', d.Lengths) };
        var qs = new Option<string>("--q") { Description = "Comma list of q, each at most every N (default 1).", DefaultValueFactory = _ => "1" };
        var sizes = new Option<string>("--sizes") { Description = "Comma list of training-set sizes n (default 64,128,…,2048).", DefaultValueFactory = _ => string.Join(',', d.Sizes) };
        var seeds = new Option<int>("--seeds") { Description = $"Seeds per size (default {d.Seeds}).", DefaultValueFactory = _ => d.Seeds };
        var seed = new Option<long>("--seed") { Description = "Base seed (default 0).", DefaultValueFactory = _ => 0 };
        var width = new Option<int>("--width") { Description = $"Hidden units (default {d.Width}).", DefaultValueFactory = _ => d.Width };
        var dim = new Option<int>("--feature-dim") { Description = $"Feature dimension d (default {d.Dimension}).", DefaultValueFactory = _ => d.Dimension };
        var positions = new Option<bool>("--positions") { Description = "Token steps also carry a one-hot of their position (default off: the network keeps its own count)." };
        var code = new Option<string>("--code") { Description = "Position code of pointers (and positions): onehot (N channels each) | scalar ((t+1)/N) (default onehot).", DefaultValueFactory = _ => "onehot" };
        var trials = new Option<int>("--trials") { Description = $"Samples per Adam step (default {d.Trials}).", DefaultValueFactory = _ => d.Trials };
        var lr = new Option<double>("--lr") { Description = $"Adam learning rate (default {d.LearningRate}).", DefaultValueFactory = _ => d.LearningRate };
        var maxEpochs = new Option<int>("--max-epochs") { Description = $"Adam steps per network at most (default {d.MaxEpochs}).", DefaultValueFactory = _ => d.MaxEpochs };
        var testEvery = new Option<int>("--test-every") { Description = $"Epochs between held-out test measurements (default {d.TestEvery}).", DefaultValueFactory = _ => d.TestEvery };
        var testTrials = new Option<int>("--test-trials") { Description = $"Held-out test trials per network (default {d.TestTrials}).", DefaultValueFactory = _ => d.TestTrials };
        var testPatience = new Option<int>("--test-patience") { Description = $"Early stopping: test measurements without a new best, 0 = off (default {d.TestPatience}).", DefaultValueFactory = _ => d.TestPatience };
        var threshold = new Option<double>("--error-threshold") { Description = $"Normalised test error test MSE / Var(y) that counts as learned (default {d.ErrorThreshold}).", DefaultValueFactory = _ => d.ErrorThreshold };
        var mode = new Option<string>("--mode") { Description = "batched (one ensemble per condition) | sequential (one ensemble per network) | both (times both; the numbers must agree) (default batched).", DefaultValueFactory = _ => "batched" };
        var backend = new Option<string>("--backend") { Description = "auto | cpu | reference | ilgpu-cpu | cuda | opencl (default auto).", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int>("--threads") { Description = "CPU worker threads, 0 = all cores (default 0).", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var cmd = new Command("sample-complexity", "Samples an RNN needs to reach a held-out test error on the q-sparse task, against N (a curve per q and variant); writes CSV, JSON and PNGs.")
        {
            task, variants, lengths, qs, sizes, seeds, seed, width, dim, positions, code, trials, lr, maxEpochs, testEvery, testTrials, testPatience, threshold, mode, backend, threads, output,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            if (r.GetValue(task)!.Trim().ToLowerInvariant() != "qsparse")
            {
                throw new ArgumentException($"--task must be qsparse (the only task with a sample-complexity sweep), got '{r.GetValue(task)}'.", "--task");
            }

            var options = new SampleComplexityOptions
            {
                Variants = List(r.GetValue(variants)!, "--variants", QSparseTask.ParseVariant),
                Lengths = List(r.GetValue(lengths)!, "--lengths", Int),
                Qs = List(r.GetValue(qs)!, "--q", Int),
                Sizes = List(r.GetValue(sizes)!, "--sizes", Int),
                Seeds = r.GetValue(seeds), Seed = r.GetValue(seed), Width = r.GetValue(width), Dimension = r.GetValue(dim), Positions = r.GetValue(positions), ScalarCode = QSparseTask.ParseCode(r.GetValue(code)!), Trials = r.GetValue(trials),
                LearningRate = r.GetValue(lr), MaxEpochs = r.GetValue(maxEpochs), TestEvery = r.GetValue(testEvery), TestTrials = r.GetValue(testTrials),
                TestPatience = r.GetValue(testPatience), ErrorThreshold = r.GetValue(threshold),
            }.Validate();
            string m = r.GetValue(mode)!.Trim().ToLowerInvariant();
            if (m is not ("batched" or "sequential" or "both"))
            {
                throw new ArgumentException($"--mode must be batched, sequential or both, got '{m}'.", "--mode");
            }

            using var be = BackendFactory.Create(r.GetValue(backend)!, r.GetValue(threads));
            int networks = options.Sizes.Count * options.Seeds;
            Console.WriteLine($"backend: {be.Name} ({be.Device}); {options.Variants.Count * options.Qs.Count * options.Lengths.Count} conditions × {networks} networks (sizes × seeds), width {options.Width}, mode {m}");
            using var interrupts = new Interrupts("interrupt: stopping after the current condition…");
            SampleComplexityResult? batched = null, sequential = null;
            if (m != "sequential")
            {
                batched = SampleComplexitySweep.Run(be, options, false, line => Console.WriteLine("  " + line), interrupts.Token);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batched: {batched.Seconds:F1} s wall, {batched.CpuSeconds:F1} s CPU"));
            }

            if (m != "batched")
            {
                sequential = SampleComplexitySweep.Run(be, options, true, line => Console.WriteLine("  [sequential] " + line), interrupts.Token);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sequential: {sequential.Seconds:F1} s wall, {sequential.CpuSeconds:F1} s CPU"));
            }

            object? timings = null;
            if (batched is not null && sequential is not null)
            {
                bool same = batched.Conditions.Zip(sequential.Conditions).All(p => p.First.Networks.SequenceEqual(p.Second.Networks));
                timings = new
                {
                    batched_seconds = batched.Seconds, sequential_seconds = sequential.Seconds, speedup = sequential.Seconds / batched.Seconds,
                    batched_cpu_seconds = batched.CpuSeconds, sequential_cpu_seconds = sequential.CpuSeconds, cpu_ratio = sequential.CpuSeconds / batched.CpuSeconds,
                    identical_results = same,
                };
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"batched {batched.Seconds:F1} s wall / {batched.CpuSeconds:F1} s CPU vs sequential {sequential.Seconds:F1} s / {sequential.CpuSeconds:F1} s: " +
                    $"{sequential.Seconds / batched.Seconds:F2}× wall, {sequential.CpuSeconds / batched.CpuSeconds:F2}× CPU ({(same ? "identical numbers" : "numbers DIFFER")})"));
            }

            var result = batched ?? sequential!;
            foreach (var s in result.Slopes)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{SampleComplexitySweep.Name(s.Variant)} q={s.Q}: slope of log n* vs log N = {s.Slope:F2} ({s.Points} lengths with n*)"));
            }

            var files = SampleComplexityFiles.Write(result, r.GetValue(output)!, timings);
            Console.WriteLine($"wrote {string.Join(", ", files.Select(Path.GetFileName))} to {Path.GetFullPath(r.GetValue(output)!)}");
            return interrupts.Requested ? 130 : 0;
        }));
        return cmd;
    }

    private static int Int(string s)
        => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new ArgumentException($"'{s}' is not an integer.");

    private static T[] List<T>(string text, string option, Func<string, T> parse)
    {
        try
        {
            var values = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToArray();
            return values.Length > 0 ? values : throw new ArgumentException("the list is empty.");
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{option}: {e.Message.Split('\n')[0]}", option, e);
        }
    }
}
