using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.Backends.Reference;
using Engine.Benchmarks;

namespace Engine.Bench;

/// <summary>One ensemble training step (gradients + Adam) per backend; the float64 reference is the baseline.</summary>
/// <remarks>
/// The reference runs a small ensemble (E=4, N=32, B=16, T=20) and the fast CPU backend runs the same size for a
/// like-for-like ratio, then the headline size E=32, N=128, B=64, T=100 and an odd size. FLOP per step are
/// counted once, in <see cref="TrainStepBenchmark.FlopsPerStep"/>; the extra columns give GFLOP/s and the share
/// of this machine's measured FMA peak.
/// </remarks>
[Config(typeof(GflopsConfig))]
public class TrainStepBenchmarks
{
    private static readonly Dictionary<string, (string Backend, int E, int N, int B, int T)> Cases = new()
    {
        [nameof(Reference_E4_N32_B16_T20)] = ("reference", 4, 32, 16, 20),
        [nameof(Cpu_E4_N32_B16_T20)] = ("cpu", 4, 32, 16, 20),
        [nameof(Cpu_E32_N128_B64_T100)] = ("cpu", 32, 128, 64, 100),
        [nameof(Cpu_E7_N33_B13_T29)] = ("cpu", 7, 33, 13, 29),
    };

    private IEnsembleBackend? _backend;
    private TrainStepBenchmark? _bench;

    /// <summary>Creates the backend and runner, fills parameters and batch, warms up.</summary>
    [GlobalSetup(Target = nameof(Reference_E4_N32_B16_T20))]
    public void SetupReference() => Setup(nameof(Reference_E4_N32_B16_T20));

    /// <summary>Creates the backend and runner, fills parameters and batch, warms up.</summary>
    [GlobalSetup(Target = nameof(Cpu_E4_N32_B16_T20))]
    public void SetupCpuSmall() => Setup(nameof(Cpu_E4_N32_B16_T20));

    /// <summary>Creates the backend and runner, fills parameters and batch, warms up.</summary>
    [GlobalSetup(Target = nameof(Cpu_E32_N128_B64_T100))]
    public void SetupCpuLarge() => Setup(nameof(Cpu_E32_N128_B64_T100));

    /// <summary>Creates the backend and runner, fills parameters and batch, warms up.</summary>
    [GlobalSetup(Target = nameof(Cpu_E7_N33_B13_T29))]
    public void SetupCpuOdd() => Setup(nameof(Cpu_E7_N33_B13_T29));

    /// <summary>The float64 reference (the baseline): E=4, N=32, B=16, T=20.</summary>
    [Benchmark(Baseline = true)]
    public void Reference_E4_N32_B16_T20() => _bench!.Step();

    /// <summary>The fast CPU backend at the baseline's size.</summary>
    [Benchmark]
    public void Cpu_E4_N32_B16_T20() => _bench!.Step();

    /// <summary>The fast CPU backend at the headline size, E=32, N=128, B=64, T=100 (about 20 GFLOP per step).</summary>
    [Benchmark]
    public void Cpu_E32_N128_B64_T100() => _bench!.Step();

    /// <summary>The fast CPU backend at an odd size (padding and leftover-network paths).</summary>
    [Benchmark]
    public void Cpu_E7_N33_B13_T29() => _bench!.Step();

    /// <summary>Disposes the runner and backend.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _bench?.Dispose();
        _backend?.Dispose();
    }

    private void Setup(string name)
    {
        var c = Cases[name];
        _backend = c.Backend == "reference" ? new ReferenceBackend() : new CpuBackend();
        _bench = new TrainStepBenchmark(_backend, c.E, c.N, c.B, c.T);
        for (int i = 0; i < 3; i++)
        {
            _bench.Step();
        }
    }

    /// <summary>FLOP per step of a benchmark method.</summary>
    internal static double FlopsOf(string method)
    {
        var c = Cases[method];
        return TrainStepBenchmark.FlopsPerStep(c.E, c.N, c.B, c.T, TrainStepBenchmark.Channels, TrainStepBenchmark.Channels);
    }

    private sealed class GflopsConfig : ManualConfig
    {
        public GflopsConfig()
        {
            AddColumn(new GflopsColumn(share: false), new GflopsColumn(share: true));
        }
    }

    /// <summary>GFLOP/s from the mean time, or its share of the measured all-core FMA peak.</summary>
    private sealed class GflopsColumn(bool share) : IColumn
    {
        private static readonly Lazy<double> Peak = new(() => PeakFlops.Measure());

        public string Id => share ? "PeakShare" : "GFLOPs";

        public string ColumnName => share ? "Peak share" : "GFLOP/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => share ? 1 : 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => share ? "GFLOP/s over this machine's measured fp32 FMA peak (all cores)" : "Counted FLOP per step over the mean time";

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats is null)
            {
                return "NA";
            }

            double gflops = FlopsOf(benchmarkCase.Descriptor.WorkloadMethod.Name) / stats.Mean;
            return share ? (gflops / Peak.Value).ToString("P0") : gflops.ToString("F1");
        }
    }
}
