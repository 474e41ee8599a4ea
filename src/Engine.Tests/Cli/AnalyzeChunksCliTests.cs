using Engine.IO;
using NUnit.Framework;

namespace Engine.Tests.Cli;

/// <summary><c>analyze chunks</c> end to end: a short sequence-chunks run gives every file; PA on a sine run is one clear error.</summary>
[NonParallelizable]
public sealed class AnalyzeChunksCliTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("cli-chunks").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => Support.CliHarness.Run(args);

    [TestCase("dsc")]
    [TestCase("pa")]
    [TestCase("ucd")]
    public void TrainSequenceChunks_ThenAnalyze_WritesLabelsPrototypesAndFigures(string method)
    {
        string run = Path.Combine(_dir, "run");
        var (code, _, err) = Cli("train", "--task", "sequence-chunks", "--networks", "2", "--hidden", "16", "--trials", "8", "--steps", "40", "--max-epochs", "20",
            "--backend", "cpu", "--out", run, "--quiet");
        Assert.That(code, Is.EqualTo(0), err);
        (code, var output, err) = Cli("analyze", "chunks", run, "--method", method, "--trials", "8", "--steps", "50", "--epochs", "5", "--figures", "1", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("NMI"));
        string dir = Path.Combine(run, "chunks-" + method);
        foreach (var f in new[] { "chunks.json", "latents.npy", "network_0_labels.npy", "network_1_labels.npy", "network_0_prototypes.npy", "network_0_chunks.csv",
                     "network_0_graft.csv", "network_0_prototypes.png", "network_0_raster.png", "network_0_graft.png" })
        {
            Assert.That(File.Exists(Path.Combine(dir, f)), Is.True, f);
        }

        Assert.That(File.Exists(Path.Combine(dir, "network_1_raster.png")), Is.False, "--figures 1");
        var (labels, shape) = Npy.ReadInt64(Path.Combine(dir, "network_0_labels.npy"));
        Assert.That(shape, Is.EqualTo(new[] { 8, 50 }));
        Assert.That(labels, Has.All.GreaterThanOrEqualTo(-1));
    }

    [Test]
    public void AnalyzeChunks_RunOfATaskWithoutLabels_IsOneClearError()
    {
        string run = Path.Combine(_dir, "sine");
        var (code, _, err) = Cli("train", "--task", "sine", "--networks", "1", "--hidden", "8", "--trials", "4", "--steps", "10", "--max-epochs", "2", "--backend", "cpu", "--out", run, "--quiet");
        Assert.That(code, Is.EqualTo(0), err);
        (code, _, err) = Cli("analyze", "chunks", run, "--method", "pa");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("error: ").And.Contain("'sine' has no latent labels"));
        (code, _, err) = Cli("analyze", "chunks", run, "--method", "kmeans");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("dsc, pa or ucd"));
    }
}
