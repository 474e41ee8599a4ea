using Engine.Backends;
using Engine.Backends.Ilgpu;

namespace Engine.Tests.Support;

/// <summary>The backends a machine offers, for <c>[TestFixtureSource]</c>: every numeric test is written once.</summary>
public static class BackendCases
{
    /// <summary>Backend names to run fixtures on; absent devices are reported as ignored inside the fixture.</summary>
    public static IEnumerable<string> All { get; } = ["cpu", "ilgpu-cpu", "cuda", "opencl"];

    /// <summary><see cref="All"/> and the float64 reference, for tests that check every implementation against a formula written out in the test.</summary>
    public static IEnumerable<string> WithReference { get; } = ["reference", "cpu", "ilgpu-cpu", "cuda", "opencl"];

    /// <summary>The ILGPU devices, for tests of a kernel that only ILGPU backends have (absent ones are ignored inside the test).</summary>
    public static IEnumerable<IlgpuDevice> IlgpuDevices { get; } = [IlgpuDevice.CpuSimulator, IlgpuDevice.Cuda, IlgpuDevice.OpenCL];

    /// <summary>Backends whose absence may turn a test into "ignored": only real devices. The CPU backend and ILGPU's CPU simulator exist on every machine, so failing to create them is a failure, never a skip.</summary>
    public static IReadOnlyList<string> Optional { get; } = ["cuda", "opencl"];

    /// <summary>Creates the backend or, for an absent device (<see cref="Optional"/>), marks the test ignored.</summary>
    public static IEnsembleBackend CreateOrIgnore(string name)
    {
        try
        {
            return BackendFactory.Create(name);
        }
        catch (BackendUnavailableException e) when (Optional.Contains(name))
        {
            NUnit.Framework.Assert.Ignore($"backend '{name}' not present here: {e.Message}");
            throw;
        }
    }

    /// <summary>Whether an ILGPU device kind is present (for skip decisions without creating it).</summary>
    public static bool Has(IlgpuDevice device) => IlgpuBackend.IsAvailable(device);
}
