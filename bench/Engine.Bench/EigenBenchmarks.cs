using System.Numerics;
using BenchmarkDotNet.Attributes;
using Engine.Numerics;
using Engine.Util;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Bench;

/// <summary>
/// Non-symmetric float64 eigen-decomposition of one N×N matrix: MathNet's managed Evd (values and vectors, the baseline)
/// against <see cref="Eigen"/> for values only and for values and vectors, one matrix per call and batched over
/// <see cref="Count"/> matrices on two threads (times per matrix: <c>OperationsPerInvoke</c>).
/// </summary>
/// <remarks>
/// Matrices: "random" has 𝒩(0, 1) entries; "jacobian" is a fixed-point-like tanh Jacobian diag(1 − h²) W with
/// W ~ 𝒩(0, 1.5²/N) and h = tanh(2 g), g ~ 𝒩(0, 1). Calls cycle through <see cref="Count"/> matrices. FLOP counted
/// once, the usual estimates: Hessenberg reduction 10/3 N³, values-only QR ≈ 10 N³ in all, with vectors ≈ 25 N³ in
/// all (Q, Z and the back-transformation): ≈ 21 and 52 MFLOP at N = 128. Run with
/// <c>dotnet run -c Release --project bench/Engine.Bench -- --filter *Eigen* --job Short</c>.
/// </remarks>
[MemoryDiagnoser]
public class EigenBenchmarks
{
    private const int Count = 32;
    private double[] _matrices = null!;
    private Complex[] _values = null!;
    private Complex[] _vectors = null!;
    private EigenWorkspace _workspace = null!;
    private int _next;

    /// <summary>N.</summary>
    [Params(128, 129)]
    public int N { get; set; }

    /// <summary>"random" or "jacobian".</summary>
    [Params("random", "jacobian")]
    public string Kind { get; set; } = "random";

    /// <summary>Draws the matrices and the buffers; one warm call each.</summary>
    [GlobalSetup]
    public void Setup()
    {
        int n = N;
        _matrices = new double[Count * n * n];
        var rng = new Rng(42);
        for (int m = 0; m < Count; m++)
        {
            var a = _matrices.AsSpan(m * n * n, n * n);
            for (int i = 0; i < n; i++)
            {
                double h = Math.Tanh(2 * rng.NextGaussian());
                double rowScale = Kind == "jacobian" ? (1 - h * h) * 1.5 / Math.Sqrt(n) : 1;
                for (int j = 0; j < n; j++)
                {
                    a[i * n + j] = rowScale * rng.NextGaussian();
                }
            }
        }

        _values = new Complex[Count * n];
        _vectors = new Complex[Count * n * n];
        _workspace = new EigenWorkspace(n);
        MathNetEvd();
        Values();
        ValuesAndVectors();
    }

    private ReadOnlySpan<double> Next()
    {
        int n = N;
        _next = (_next + 1) % Count;
        return _matrices.AsSpan(_next * n * n, n * n);
    }

    /// <summary>MathNet's managed Evd (always values and vectors).</summary>
    [Benchmark(Baseline = true)]
    public double MathNetEvd()
    {
        int n = N;
        var a = Next().ToArray();
        var evd = Matrix<double>.Build.Dense(n, n, (i, j) => a[i * n + j]).Evd(Symmetricity.Asymmetric);
        return evd.EigenValues[0].Real;
    }

    /// <summary>Eigenvalues only, one matrix, a reused workspace.</summary>
    [Benchmark]
    public double Values()
    {
        Eigen.Values(Next(), N, _values.AsSpan(0, N), _workspace);
        return _values[0].Real;
    }

    /// <summary>Eigenvalues and unit right eigenvectors, one matrix, a reused workspace.</summary>
    [Benchmark]
    public double ValuesAndVectors()
    {
        Eigen.Decompose(Next(), N, _values.AsSpan(0, N), _vectors.AsSpan(0, N * N), _workspace);
        return _values[0].Real;
    }

    /// <summary>Eigenvalues of all the matrices, two threads; time per matrix.</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    public double ValuesBatchTwoThreads()
    {
        Eigen.ValuesBatch(_matrices, N, _values, 2);
        return _values[0].Real;
    }

    /// <summary>Eigenvalues and vectors of all the matrices, two threads; time per matrix.</summary>
    [Benchmark(OperationsPerInvoke = Count)]
    public double ValuesAndVectorsBatchTwoThreads()
    {
        Eigen.DecomposeBatch(_matrices, N, _values, _vectors, 2);
        return _values[0].Real;
    }
}
