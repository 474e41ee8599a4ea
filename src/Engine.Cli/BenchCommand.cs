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
            double peak = PeakFlops.Measure(t);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fp32 FMA peak on {t} thread(s): {peak:F1} GFLOP/s (measured now)"));
            var result = TrainStepBenchmark.Run(b, r.GetValue(networks), r.GetValue(hidden), r.GetValue(batch), r.GetValue(steps), peak, repeats: r.GetValue(repeats));
            Console.WriteLine(result.FormatSpread());
            Console.WriteLine(result.FormatLine());
            return 0;
        }));
        return new Command("bench", "Benchmarks.") { trainStep, FixedPointsCommand.CreateBench(), DistanceBenchCommand.Create() };
    }
}
