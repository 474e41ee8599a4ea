using Engine.Model;

namespace Engine.Backends.Ilgpu;

/// <summary>Which ILGPU accelerator a backend runs on.</summary>
public enum IlgpuDevice
{
    /// <summary>ILGPU's CPU simulator (slow; for tests).</summary>
    CpuSimulator,

    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda,

    /// <summary>An OpenCL 2.0+ GPU.</summary>
    OpenCL,
}

/// <summary>ILGPU kernels behind the backend interface (placeholder until the kernels land).</summary>
public sealed class IlgpuBackend : IEnsembleBackend
{
    private IlgpuBackend(string name) => Name = name;

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Device => Name;

    /// <summary>Whether a device of this kind is present.</summary>
    public static bool IsAvailable(IlgpuDevice device) => false;

    /// <summary>Creates the backend on the first device of this kind.</summary>
    public static IlgpuBackend Create(IlgpuDevice device)
        => throw new BackendUnavailableException(device.ToString(), "ILGPU backend not built yet.");

    /// <inheritdoc />
    public IEnsembleRunner CreateRunner(EnsembleSpec spec) => throw new NotSupportedException();

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
