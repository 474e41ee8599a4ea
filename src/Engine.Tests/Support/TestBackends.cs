using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.Backends.Reference;

namespace Engine.Tests.Support;

/// <summary>Backends for tests that call an analysis with one chosen implementation (they hold no device, so they are shared and never disposed).</summary>
public static class TestBackends
{
    /// <summary>The float64 reference: the oracle.</summary>
    public static IEnsembleBackend Reference { get; } = new ReferenceBackend();

    /// <summary>The fast CPU backend on every core.</summary>
    public static IEnsembleBackend Cpu { get; } = new CpuBackend();

    /// <summary>The fast CPU backend on <paramref name="threads"/> workers (0: every core).</summary>
    public static IEnsembleBackend CpuThreads(int threads) => threads == 0 ? Cpu : new CpuBackend(threads);
}
