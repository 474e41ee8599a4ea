using NUnit.Framework;

namespace Engine.Tests.Cli;

/// <summary><c>train --task wm-orientation|crq --task-setting</c> and <c>analyze wm|crq</c> end to end, and their one-line errors.</summary>
[NonParallelizable]
public sealed class AnalyzeWmCrqCliTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("cli-wmcrq").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => Support.CliHarness.Run(args);

    [Test]
    public void TrainWm_ThenAnalyzeWm_WritesTablesAndFigures_AndAnalyzeCrqRefusesIt()
    {
        string run = Path.Combine(_dir, "wm");
        var (code, _, err) = Cli("train", "--task", "wm-orientation", "--task-setting", "delays=2,4", "--task-setting", "stimulus=2", "--task-setting", "response=2",
            "--task-setting", "prior=natural", "--task-setting", "reward=oblique", "--cell", "leaky", "--alpha", "0.2", "--noise", "0.1",
            "--networks", "2", "--hidden", "8", "--max-epochs", "5", "--backend", "cpu", "--out", run, "--quiet");
        Assert.That(code, Is.EqualTo(0), err);
        (code, var output, err) = Cli("analyze", "wm", run, "--bins", "8", "--repeats", "4", "--delays", "2,4,8", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("natural/reward").And.Contain("delay    8"));
        foreach (var f in new[] { "wm.csv", "wm_contrasts.csv", "wm.json", "run_0_network_sd.npy", "run_0_sd.png", "run_0_bias.png", "contrast_cardinal.png", "contrast_reward.png" })
        {
            Assert.That(File.Exists(Path.Combine(run, "wm", f)), Is.True, f);
        }

        Assert.That(File.ReadAllLines(Path.Combine(run, "wm", "wm.csv")), Has.Length.EqualTo(1 + 3 * 8));
        (code, _, err) = Cli("analyze", "crq", run);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("error: ").And.Contain("expected a crq run"));
        (code, _, err) = Cli("analyze", "wm", run, run);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--out is required"));
    }

    [Test]
    public void TrainCrq_ThenAnalyzeCrqOverAFolder_WritesAccuracyAgainstDepth()
    {
        foreach (int depth in new[] { 1, 2 })
        {
            var (code, _, err) = Cli("train", "--task", "crq", "--task-setting", $"depth={depth}", "--networks", "2", "--hidden", "8", "--max-epochs", "3",
                "--backend", "cpu", "--out", Path.Combine(_dir, "runs", $"d{depth}"), "--quiet");
            Assert.That(code, Is.EqualTo(0), err);
        }

        string outDir = Path.Combine(_dir, "crq");
        var (c, output, e) = Cli("analyze", "crq", Path.Combine(_dir, "runs"), "--trials", "32", "--out", outDir, "--backend", "cpu");
        Assert.That(c, Is.EqualTo(0), e);
        Assert.That(output, Does.Contain("depth 1 arity 2").And.Contain("depth 2 arity 2"));
        foreach (var f in new[] { "crq.csv", "crq_summary.csv", "crq.json", "crq_accuracy.png" })
        {
            Assert.That(File.Exists(Path.Combine(outDir, f)), Is.True, f);
        }

        Assert.That(File.ReadAllLines(Path.Combine(outDir, "crq.csv")), Has.Length.EqualTo(1 + 2 * 2));
    }

    [TestCase("depth=0", "depth")]
    [TestCase("order=inorder", "'order'")]
    [TestCase("depth", "KEY=VALUE")]
    [TestCase("width=3", "no setting 'width'")]
    public void TrainCrq_BadTaskSetting_IsOneLineError(string setting, string expected)
    {
        var (code, _, err) = Cli("train", "--task", "crq", "--task-setting", setting, "--networks", "1", "--hidden", "4", "--max-epochs", "1",
            "--backend", "cpu", "--out", Path.Combine(_dir, "bad"), "--quiet");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("error: ").And.Contain(expected));
    }
}
