using BenchmarkDotNet.Attributes;
using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.FixedPoints;

namespace Engine.Bench;

/// <summary>
/// The two fixed-point sizes on the fast CPU path: one N = 128 tanh network with 1024 seeds, and 32 networks
/// with 256 seeds each; the Adam search for <see cref="Iterations"/> updates (tolerance 0, so every seed runs them all),
/// and the whole analysis (search, de-duplication, polish, Jacobians, eigen-decompositions) on the same problem.
/// </summary>
/// <remarks>
/// FLOP counted once (<see cref="FixedPointBenchmark.SearchFlops"/>): 4 N² per seed and iteration, 67.1 GFLOP for
/// either size at 1000 iterations; divide by the mean time for GFLOP/s and compare with the machine's ≈170–224 GFLOP/s
/// two-core FMA peak. The float64 reference is no baseline here (≈ a minute per operation); the search's baseline is the
/// same search with the checks every iteration. Run with
/// <c>dotnet run -c Release --project bench/Engine.Bench -- --filter *FixedPoint* --job Dry</c> for a single pass.
/// </remarks>
[MemoryDiagnoser]
public class FixedPointBenchmarks
{
    private FixedPointProblem _problem = null!;
    private CpuFixedPointSearch _search = null!;

    /// <summary>E × S: "1x1024" or "32x256".</summary>
    [Params("1x1024", "32x256")]
    public string Size { get; set; } = "1x1024";

    /// <summary>Adam updates.</summary>
    [Params(1000)]
    public int Iterations { get; set; }

    /// <summary>Builds the problem and warms the search up.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var parts = Size.Split('x');
        _problem = FixedPointBenchmark.Problem(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), 128);
        _search = new CpuFixedPointSearch();
        _search.Search(_problem, new AdamSearchOptions { Tolerance = 0, MaxIterations = 20 });
    }

    /// <summary>Releases the worker threads.</summary>
    [GlobalCleanup]
    public void Cleanup() => _search.Dispose();

    /// <summary>The Adam search, schedule checked every 10 iterations (the default).</summary>
    [Benchmark]
    public double Search() => _search.Search(_problem, new AdamSearchOptions { Tolerance = 0, MaxIterations = Iterations }).Q[0];

    /// <summary>The same search with the schedule checked after every iteration (one worker hand-off per iteration).</summary>
    [Benchmark(Baseline = true)]
    public double SearchCheckedEveryIteration() => _search.Search(_problem, new AdamSearchOptions { Tolerance = 0, MaxIterations = Iterations, CheckInterval = 1 }).Q[0];

    /// <summary>Search, de-duplication, polish, outliers, Jacobians and eigen-decompositions with the default options.</summary>
    [Benchmark]
    public int WholeAnalysis() => FixedPointAnalysis.Run(_problem, _search, new FixedPointOptions { Search = new AdamSearchOptions { MaxIterations = Iterations } }).Networks.Sum(n => n.Points.Count);
}
