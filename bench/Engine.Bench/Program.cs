using BenchmarkDotNet.Running;
using Engine.Backends;
using Engine.Benchmarks;

namespace Engine.Bench;

/// <summary>Entry point: <c>quick</c> prints the train-step lines directly; anything else goes to BenchmarkDotNet.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks.</summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "quick")
        {
            return Quick(args.Length > 1 ? args[1] : "cpu");
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    private static int Quick(string backendName)
    {
        double peak1 = PeakFlops.Measure(1);
        double peakAll = PeakFlops.Measure(0);
        Console.WriteLine($"peak-fma threads=1 gflops={peak1:F1}");
        Console.WriteLine($"peak-fma threads={Environment.ProcessorCount} gflops={peakAll:F1}");
        using var backend = BackendFactory.Create(backendName);
        Console.WriteLine($"device: {backend.Device}");
        foreach (var (e, n, b, t) in new[] { (32, 128, 64, 100), (7, 33, 13, 29) })
        {
            var r = TrainStepBenchmark.Run(backend, e, n, b, t, peakAll);
            Console.WriteLine(r.FormatLine());
            Console.WriteLine(r.FormatSpread());
        }

        return 0;
    }
}
