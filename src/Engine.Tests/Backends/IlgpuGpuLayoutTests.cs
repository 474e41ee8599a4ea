using Engine.Backends.Ilgpu;
using Engine.Diagnostics;
using ILGPU.Runtime.CPU;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>
/// The kernels on ILGPU's CPU simulator laid out like an NVIDIA GPU (warp 32), so the warp-shuffle reductions run
/// at CUDA's warp size, not only the default simulator's warp 4. Groups are kept at two warps: simulating CUDA's
/// 1024-thread groups costs ~0.2 s per launch here.
/// </summary>
public sealed class IlgpuGpuLayoutTests
{
    [Test]
    public void SelfTest_PassesEveryCheck_Warp32()
    {
        using var backend = IlgpuBackend.CreateCpuSimulator(new CPUDevice(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 2, numMultiprocessors: 1));
        var checks = BackendSelfTest.Run(backend, maxHidden: 33);
        TestContext.Out.WriteLine(BackendSelfTest.Format(checks));
        Assert.That(checks, Has.Count.EqualTo(18));
        Assert.That(checks.Where(c => !c.Passed), Is.Empty, "no check may fail or be skipped");
    }
}
