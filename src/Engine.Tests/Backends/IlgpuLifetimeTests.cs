using Engine.Backends.Ilgpu;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>Device buffers of the ILGPU runner are counted, freed on disposal, and a disposed runner refuses work.</summary>
public sealed class IlgpuLifetimeTests
{
    [Test]
    public void DisposingRunner_FreesItsBuffers_AndDisposedRunnerThrows()
    {
        using var backend = IlgpuBackend.Create(IlgpuDevice.CpuSimulator);
        Assert.That(backend.LiveBufferCount, Is.Zero);
        var spec = new EnsembleSpec { Networks = 2, Hidden = 3, Inputs = 2, Outputs = 1, NoiseStd = 0.1f };
        var p = TestData.Parameters(spec, 1);
        var batch = TestData.Batch(spec, 1, 2, 3, 2);
        var runner = backend.CreateRunner(spec);
        runner.SetParameters(p);
        runner.ComputeGradients(batch, [1, 0], new float[2], new float[2]);
        Assert.That(backend.LiveBufferCount, Is.GreaterThan(0));

        runner.Dispose();
        Assert.That(backend.LiveBufferCount, Is.Zero);
        Assert.Throws<ObjectDisposedException>(() => runner.GetParameters(new float[p.Length]));
        Assert.Throws<ObjectDisposedException>(() => runner.Forward(batch, new float[2 * 2 * 3], []));
        Assert.DoesNotThrow(runner.Dispose, "a second Dispose is a no-op");
    }

    [Test]
    public void DisposingBackend_ClosesOpenRunners()
    {
        var backend = IlgpuBackend.Create(IlgpuDevice.CpuSimulator);
        var runner = backend.CreateRunner(new EnsembleSpec { Networks = 1, Hidden = 2, Inputs = 1, Outputs = 1 });
        Assert.That(backend.LiveBufferCount, Is.GreaterThan(0));
        backend.Dispose();
        Assert.That(backend.LiveBufferCount, Is.Zero);
        Assert.Throws<ObjectDisposedException>(() => runner.GetParameters(new float[runner.Spec.Layout.Stride]));
    }

    [Test]
    public void ListDevices_IncludesTheCpuSimulator()
    {
        var lines = IlgpuBackend.ListDevices();
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, lines));
        Assert.That(lines, Has.Some.StartsWith("ilgpu-cpu:"));
    }
}
