using System.Runtime.Intrinsics;
using Engine.Model;

namespace Engine.Backends.Cpu;

/// <summary>The fast CPU backend: float32, SIMD micro-kernels (Vector512, or Vector256 where 512-bit vectors are not accelerated), long-lived worker threads.</summary>
/// <remarks>
/// Per network and step the B trials are the rows of a small matrix product, H_t (B×N) = φ(H_{t−1} Wᵀ + X_t Uᵀ + b);
/// BPTT keeps only δ_{t−1} = α (g ⊙ φ′) sequential and forms dW = Σ_t δ_tᵀ H_{t−1} as one product afterwards.
/// The rate (µP) cell runs the same products on the rates R = φ(H): H_t = (1 − α) H_{t−1} + α (R_{t−1} Wᵀ + X_t Uᵀ + b)
/// + σ√α Ξ_t, Y_t = R_t Cᵀ + d, δ_t = α g, dW = Σ_t δ_tᵀ R_{t−1}. The activity regulariser λ · mean h² adds
/// 2λ h_t / (B T N) to the gradient reaching every h_t (any cell); the reported loss stays the masked MSE.
/// Results are bit-identical for any thread count and whether a network runs alone or inside an ensemble.
/// </remarks>
public sealed class CpuBackend : IEnsembleBackend
{
    private readonly bool _wide;

    /// <summary>Creates the backend with <paramref name="threads"/> workers (0 = one per core).</summary>
    public CpuBackend(int threads = 0)
        : this(threads, Vector512.IsHardwareAccelerated)
    {
    }

    /// <summary>Creates the backend and picks the vector width (tests force the 256-bit path with <c>false</c>).</summary>
    internal CpuBackend(int threads, bool useVector512)
    {
        BackendFactory.CheckThreads(threads);
        Threads = threads == 0 ? Environment.ProcessorCount : threads;
        _wide = useVector512 && Vector512.IsHardwareAccelerated;
        Distances = new CpuDistanceKernels(Threads);
    }

    /// <inheritdoc />
    public int Threads { get; }

    /// <inheritdoc />
    public bool ApproximateMath => false;

    /// <inheritdoc />
    public bool IsHostCpu => true;

    /// <inheritdoc />
    public string Name => "cpu";

    /// <inheritdoc />
    public string Device => $"{CpuModel()}, {Threads} threads, {(_wide ? "Vector512 (AVX-512)" : "Vector256")}";

    /// <inheritdoc />
    public IEnsembleRunner CreateRunner(EnsembleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new CpuRunner(spec, Threads, _wide);
    }

    /// <inheritdoc />
    public IDistanceKernels Distances { get; }

    /// <inheritdoc />
    public IClosedLoopAgents CreateClosedLoopAgents(ClosedLoopProblem problem) => new CpuClosedLoopAgents(problem, Threads);

    /// <inheritdoc />
    public IFixedPointSearch CreateFixedPointSearch() => new CpuFixedPointSearch(Threads, _wide);

    /// <summary>The CPU's model name where the OS tells it (Linux /proc/cpuinfo), else the architecture.</summary>
    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and > 0)
                    {
                        return line[(colon + 1)..].Trim();
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return $"CPU ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture})";
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
