using Engine.Backends;
using Engine.Diagnostics;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>The device self-test passes on the backends present here, so a failure on a GPU points at the GPU path.</summary>
public sealed class BackendSelfTestTests
{
    [TestCase("cpu")]
    [TestCase("ilgpu-cpu")]
    public void SelfTest_PassesEveryCheck(string name)
    {
        using var backend = BackendFactory.Create(name);
        var checks = BackendSelfTest.Run(backend);
        TestContext.Out.WriteLine(BackendSelfTest.Format(checks));
        Assert.That(checks, Has.Count.EqualTo(24));
        Assert.That(checks.Where(c => !c.Passed), Is.Empty);
    }
}
