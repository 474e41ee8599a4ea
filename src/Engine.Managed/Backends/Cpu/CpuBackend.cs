using Engine.Model;

namespace Engine.Backends.Cpu;

/// <summary>The fast CPU backend (placeholder until the SIMD path lands: runs the reference).</summary>
public sealed class CpuBackend : IEnsembleBackend
{
    /// <summary>Creates the backend with <paramref name="threads"/> workers (0 = one per core).</summary>
    public CpuBackend(int threads = 0)
    {
        Threads = threads <= 0 ? Environment.ProcessorCount : threads;
    }

    /// <summary>Worker threads.</summary>
    public int Threads { get; }

    /// <inheritdoc />
    public string Name => "cpu";

    /// <inheritdoc />
    public string Device => $"CPU, {Threads} threads";

    /// <inheritdoc />
    public IEnsembleRunner CreateRunner(EnsembleSpec spec) => new Reference.ReferenceBackend().CreateRunner(spec);

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
