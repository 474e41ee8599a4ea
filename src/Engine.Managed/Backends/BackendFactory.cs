using Engine.Backends.Cpu;
using Engine.Backends.Ilgpu;
using Engine.Backends.Reference;

namespace Engine.Backends;

/// <summary>Picks a backend by name.</summary>
/// <remarks>
/// Names: <c>cpu</c> (fast SIMD, multithreaded), <c>reference</c> (float64 oracle), <c>ilgpu-cpu</c>
/// (ILGPU's CPU simulator, for tests), <c>cuda</c>, <c>opencl</c>, and <c>auto</c> (CUDA when a CUDA device is
/// present, else <c>cpu</c>). Asking for a device that is absent throws <see cref="BackendUnavailableException"/>.
/// </remarks>
public static class BackendFactory
{
    /// <summary>Every name <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "cpu", "reference", "ilgpu-cpu", "cuda", "opencl"];

    /// <summary>The most CPU worker threads a backend accepts.</summary>
    public const int MaxThreads = 1024;

    /// <summary>Throws unless <paramref name="threads"/> is 0 (all cores) or a worker count in [1, <see cref="MaxThreads"/>]; never a silent default.</summary>
    public static void CheckThreads(int threads)
    {
        if (threads < 0 || threads > MaxThreads)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"threads must be 0 (all cores) or 1 to {MaxThreads}, got {threads}.");
        }
    }

    /// <summary>Every accelerator ILGPU sees here (CPU simulator, CUDA, OpenCL), one line each: kind, name, memory, multiprocessors, warp size, largest group.</summary>
    public static IReadOnlyList<string> ListDevices() => IlgpuBackend.ListDevices();

    /// <summary>Creates the backend called <paramref name="name"/>; <paramref name="threads"/> (0 = all cores) applies to <c>cpu</c>.</summary>
    /// <exception cref="ArgumentException">The name is unknown, or <paramref name="threads"/> is outside [0, <see cref="MaxThreads"/>].</exception>
    /// <exception cref="BackendUnavailableException">The device is not present.</exception>
    public static IEnsembleBackend Create(string name, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        CheckThreads(threads);
        return name.Trim().ToLowerInvariant() switch
        {
            "cpu" => new CpuBackend(threads),
            "reference" => new ReferenceBackend(),
            "ilgpu-cpu" => IlgpuBackend.Create(IlgpuDevice.CpuSimulator),
            "cuda" => IlgpuBackend.Create(IlgpuDevice.Cuda),
            "opencl" => IlgpuBackend.Create(IlgpuDevice.OpenCL),
            "auto" => IlgpuBackend.IsAvailable(IlgpuDevice.Cuda) ? IlgpuBackend.Create(IlgpuDevice.Cuda) : new CpuBackend(threads),
            _ => throw new ArgumentException($"Unknown backend '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}
