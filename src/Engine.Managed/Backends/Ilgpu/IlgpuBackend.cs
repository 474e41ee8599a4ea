using System.Reflection;
using System.Runtime.InteropServices;
using Engine.Model;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

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

/// <summary>ILGPU kernels behind the backend interface: owns the context, the accelerator and the loaded kernels.</summary>
/// <remarks>
/// One backend per device. Kernels are compiled and loaded once here and shared by every runner; runners own
/// device buffers, which this backend counts (<see cref="LiveBufferCount"/>). Disposing the backend disposes the
/// runners still open, then the accelerator and the context.
/// </remarks>
public sealed class IlgpuBackend : IEnsembleBackend
{
    private static readonly object ResolverLock = new();
    private static bool _resolverRegistered;

    private readonly List<IlgpuRunner> _runners = [];
    private int _liveBuffers;
    private bool _disposed;

    private IlgpuBackend(string name, Context context, Accelerator accelerator)
    {
        Name = name;
        Context = context;
        Accelerator = accelerator;
        Device = accelerator.Name;
        Distances = new IlgpuDistanceKernels(this);
        try
        {
            Kernels = new IlgpuKernels(accelerator);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            accelerator.Dispose();
            context.Dispose();
            throw new EngineException(name, "load kernels", e.Message, e);
        }
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Device { get; }

    /// <inheritdoc />
    public int Threads => Environment.ProcessorCount;

    /// <inheritdoc />
    public bool ApproximateMath => Accelerator.AcceleratorType != AcceleratorType.CPU;

    /// <inheritdoc />
    public bool IsHostCpu => false;

    /// <summary>Device buffers currently allocated by this backend's runners.</summary>
    public int LiveBufferCount => Volatile.Read(ref _liveBuffers);

    internal Context Context { get; }

    internal Accelerator Accelerator { get; }

    internal IlgpuKernels Kernels { get; }

    /// <summary>Whether a device of this kind is present (the CPU simulator always is).</summary>
    public static bool IsAvailable(IlgpuDevice device)
    {
        if (device == IlgpuDevice.CpuSimulator)
        {
            return true;
        }

        try
        {
            using var context = CreateContext(device);
            return CountDevices(context, device) > 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>Creates the backend on the first device of this kind.</summary>
    /// <exception cref="BackendUnavailableException">No such device here (CUDA or OpenCL asked for but none found).</exception>
    public static IlgpuBackend Create(IlgpuDevice device)
    {
        string name = NameOf(device);
        Context? context = null;
        try
        {
            context = CreateContext(device);
            if (CountDevices(context, device) == 0)
            {
                string why = device == IlgpuDevice.Cuda
                    ? "CUDA asked for but no CUDA device was found (is the NVIDIA driver's libcuda.so.1 present?)."
                    : "OpenCL asked for but no OpenCL 2.0+ device usable by ILGPU was found.";
                throw new BackendUnavailableException(name, why);
            }

            Accelerator accelerator = device switch
            {
                IlgpuDevice.Cuda => context.CreateCudaAccelerator(0),
                IlgpuDevice.OpenCL => context.CreateCLAccelerator(0),
                _ => context.CreateCPUAccelerator(0),
            };
            return new IlgpuBackend(name, context, accelerator);
        }
        catch (EngineException)
        {
            context?.Dispose();
            throw;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            context?.Dispose();
            throw new BackendUnavailableException(name, $"{device} runtime could not be loaded: {e.Message}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context?.Dispose();
            throw new EngineException(name, "create", e.Message, e);
        }
    }

    /// <summary>The CPU simulator with a given thread layout (e.g. <see cref="CPUDevice.Nvidia"/>: warp 32, groups of 1024), for tests.</summary>
    internal static IlgpuBackend CreateCpuSimulator(CPUDevice device)
    {
        RegisterCudaResolver();
        var context = Context.Create(b => b.CPU(device));
        try
        {
            return new IlgpuBackend(NameOf(IlgpuDevice.CpuSimulator), context, context.GetCPUDevice(0).CreateCPUAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Every accelerator ILGPU sees here (CPU simulator, CUDA, OpenCL), one line each, for <c>engine devices</c>.</summary>
    /// <remarks>Each line: kind, name, memory, multiprocessors, warp size and the largest group.</remarks>
    public static IReadOnlyList<string> ListDevices()
    {
        var lines = new List<string>();
        foreach (var kind in new[] { IlgpuDevice.CpuSimulator, IlgpuDevice.Cuda, IlgpuDevice.OpenCL })
        {
            try
            {
                using var context = CreateContext(kind);
                // ILGPU registers several simulated CPU layouts; the backend uses the first, so list only that one.
                var devices = context.Devices.Where(d => d.AcceleratorType == TypeOf(kind));
                foreach (var d in kind == IlgpuDevice.CpuSimulator ? devices.Take(1) : devices)
                {

                    lines.Add($"{NameOf(kind)}: {d.Name}, {d.MemorySize / (1024 * 1024)} MiB, {d.NumMultiprocessors} multiprocessors, warp {d.WarpSize}, max group {d.MaxNumThreadsPerGroup}");
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                lines.Add($"{NameOf(kind)}: unavailable ({e.GetType().Name}: {e.Message})");
            }
        }

        return lines;
    }

    /// <inheritdoc />
    public IEnsembleRunner CreateRunner(EnsembleSpec spec)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(spec);
        var runner = new IlgpuRunner(this, spec);
        lock (_runners)
        {
            _runners.Add(runner);
        }

        return runner;
    }

    /// <inheritdoc />
    public IDistanceKernels Distances { get; }

    /// <inheritdoc />
    public IClosedLoopAgents CreateClosedLoopAgents(ClosedLoopProblem problem)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(problem);
        return new IlgpuClosedLoop(this, problem);
    }

    /// <inheritdoc />
    public IFixedPointSearch CreateFixedPointSearch()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new IlgpuFixedPointSearch(this);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        IlgpuRunner[] open;
        lock (_runners)
        {
            open = [.. _runners];
        }

        foreach (var r in open)
        {
            r.Dispose();
        }

        _disposed = true;
        Accelerator.Dispose();
        Context.Dispose();
    }

    internal void BufferAllocated() => Interlocked.Increment(ref _liveBuffers);

    internal void BufferFreed() => Interlocked.Decrement(ref _liveBuffers);

    internal void RunnerClosed(IlgpuRunner runner)
    {
        lock (_runners)
        {
            _runners.Remove(runner);
        }
    }

    private static string NameOf(IlgpuDevice device) => device switch
    {
        IlgpuDevice.Cuda => "cuda",
        IlgpuDevice.OpenCL => "opencl",
        _ => "ilgpu-cpu",
    };

    private static AcceleratorType TypeOf(IlgpuDevice device) => device switch
    {
        IlgpuDevice.Cuda => AcceleratorType.Cuda,
        IlgpuDevice.OpenCL => AcceleratorType.OpenCL,
        _ => AcceleratorType.CPU,
    };

    private static int CountDevices(Context context, IlgpuDevice device) => device switch
    {
        IlgpuDevice.Cuda => context.GetCudaDevices().Count,
        IlgpuDevice.OpenCL => context.GetCLDevices().Count,
        _ => context.GetCPUDevices().Count,
    };

    private static Context CreateContext(IlgpuDevice device)
    {
        RegisterCudaResolver();
        return device switch
        {
            IlgpuDevice.Cuda => Context.Create(b => b.Cuda()),
            IlgpuDevice.OpenCL => Context.Create(b => b.OpenCL()),
            _ => Context.Create(b => b.CPU()),
        };
    }

    /// <summary>
    /// Maps ILGPU's P/Invoke library name <c>cuda</c> to <c>libcuda.so.1</c> on Linux, where a driver mount often has
    /// no unversioned <c>libcuda.so</c>; without it CUDA devices would silently be absent. Registered once, before
    /// the first context.
    /// </summary>
    private static void RegisterCudaResolver()
    {
        lock (ResolverLock)
        {
            if (_resolverRegistered || !OperatingSystem.IsLinux())
            {
                return;
            }

            _resolverRegistered = true;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, ResolveCuda);
            }
            catch (InvalidOperationException)
            {
                // Someone (ILGPU's own WSL resolver) registered first; keep theirs.
            }
        }
    }

    private static IntPtr ResolveCuda(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != "cuda")
        {
            return IntPtr.Zero;
        }

        foreach (var candidate in new[] { "libcuda.so.1", "libcuda.so" })
        {
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }
}
