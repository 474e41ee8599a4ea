using BenchmarkDotNet.Attributes;
using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.Backends.Reference;
using Engine.Benchmarks;
using Engine.Distances;

namespace Engine.Bench;

/// <summary>
/// Whole distance matrices on synthetic tanh-RNN states (T = 100 per trial): linear CKA by the float64 reference (the
/// baseline), by feature-space cross products and by sample-space Gram blocks; and DSA alignment of all pairs.
/// </summary>
/// <remarks>
/// FLOP (counted once): feature-space CKA E(E+1)/2 · 2 S N²; sample-space ≈ S²E²/2 + S²EN (S rounded up to 64); the
/// reference does the feature-space work in scalar float64. The sizes are E = 256, S = 2000, N = 64 for CKA and
/// E = 64, r = 10, d = 10 for DSA: run them with <c>engine bench distances</c>; here an odd size (E = 33, S = 700) keeps
/// the reference affordable. <c>dotnet run -c Release --project bench/Engine.Bench -- --filter *Distance* --job Dry</c>.
/// </remarks>
[MemoryDiagnoser]
public class DistanceBenchmarks
{
    private readonly ReferenceBackend _reference = new();
    private readonly CpuBackend _cpu = new();
    private StateSet _states = null!;
    private double[][] _operators = [];

    /// <summary>Networks.</summary>
    [Params(33)]
    public int Networks { get; set; }

    /// <summary>Builds the states and the DSA operators.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _states = DistanceBenchmark.SyntheticStates(Networks, 7, 100, 64);
        var options = new DsaOptions();
        _operators = _states.States.Select(x => DsaOperator.Fit(x, 7, 100, 64, options)).ToArray();
        Cka.Compute(_cpu, _states);
    }

    /// <summary>Float64 loops.</summary>
    [Benchmark(Baseline = true)]
    public double CkaReference() => Cka.Compute(_reference, _states).Mean();

    /// <summary>SIMD cross products, threads over pairs.</summary>
    [Benchmark]
    public double CkaFeatures() => Cka.Compute(_cpu, _states, null, CkaMethod.Features).Mean();

    /// <summary>Sample-space Gram blocks.</summary>
    [Benchmark]
    public double CkaSamples() => Cka.Compute(_cpu, _states, null, CkaMethod.Samples).Mean();

    /// <summary>All pairs' DSA alignments (1500 Adam iterations, both det variants), SIMD lanes.</summary>
    [Benchmark]
    public double DsaAlign() => Dsa.FromOperators(_cpu, _operators, _states.Ids, new DsaOptions()).Angular.Mean();
}
