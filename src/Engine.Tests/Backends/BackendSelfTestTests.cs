using Engine.Backends;
using Engine.Diagnostics;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>The device self-test passes on the backends present here, so a failure on a GPU points at the GPU path.</summary>
public sealed class BackendSelfTestTests
{
    /// <summary>Every check passes and none is skipped: both backends here run every cell and the activity regulariser.</summary>
    [TestCase("cpu")]
    [TestCase("ilgpu-cpu")]
    public void SelfTest_PassesEveryCheck(string name)
    {
        using var backend = BackendFactory.Create(name);
        var checks = BackendSelfTest.Run(backend);
        TestContext.Out.WriteLine(BackendSelfTest.Format(checks));
        Assert.That(checks, Has.Count.EqualTo(30));
        Assert.That(checks.Where(c => c.Failed), Is.Empty);
        Assert.That(checks.Where(c => c.Skipped), Is.Empty);
    }

    [Test]
    public void Format_ReportsSkippedChecks_AsSkippedNotFailed()
    {
        var checks = new[]
        {
            new SelfTestCheck("a/loss", 1e-6, 1e-5, true),
            new SelfTestCheck("b/loss", double.NaN, double.NaN, false, "not supported yet"),
        };
        string text = BackendSelfTest.Format(checks);
        Assert.That(text, Does.Contain("SKIP  b/loss"));
        Assert.That(text, Does.Not.Contain("FAIL"));
        Assert.That(text, Does.EndWith("1/2 checks passed, 1 skipped"));
        Assert.That(checks[1].Failed, Is.False);
    }
}
