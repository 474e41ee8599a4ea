using NUnit.Framework;

namespace Engine.Tests.Cli;

/// <summary><c>analyze pathint</c> from the command line: a flip-flop run is one clear error; a small pathint run writes every output.</summary>
[NonParallelizable]
public sealed class AnalyzePathIntCliTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("cli-pathint").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => Support.CliHarness.Run(args);

    [Test]
    public void AnalyzePathInt_FlipFlopRun_IsOneClearError()
    {
        string run = Path.Combine(_dir, "ff");
        Assert.That(Cli("train", "--task", "flipflop", "--networks", "1", "--hidden", "8", "--trials", "4", "--steps", "10", "--max-epochs", "2", "--out", run).Code, Is.EqualTo(0));
        var (code, _, err) = Cli("analyze", "pathint", run);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain($"run {Path.GetFullPath(run)} was trained on task 'flipflop', analyze pathint needs 'pathint'"));
    }

    [Test]
    public void AnalyzePathInt_SmallRun_WritesCsvJsonNpyAndFigures()
    {
        string run = Path.Combine(_dir, "pi");
        Assert.That(Cli("train", "--task", "pathint", "--networks", "2", "--hidden", "16", "--trials", "8", "--steps", "20", "--max-epochs", "20", "--out", run).Code, Is.EqualTo(0));
        var (code, output, err) = Cli("analyze", "pathint", run, "--trials", "1300", "--prune-trials", "16");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("classes:"));
        foreach (string f in new[] { "units.csv", "summary.json", "rate_maps.npy", "rate_maps_band.npy", "occupancy.npy", "rate_maps.png", "scores_grid.png", "scores_band.png", "pruning.png" })
        {
            Assert.That(File.Exists(Path.Combine(run, "pathint", f)), f);
        }

        Assert.That(File.ReadAllLines(Path.Combine(run, "pathint", "units.csv")), Has.Length.EqualTo(1 + 2 * 16));
        var (bad, _, badErr) = Cli("analyze", "pathint", run, "--trials", "10");
        Assert.That(bad, Is.EqualTo(2));
        Assert.That(badErr, Does.Contain("too few samples to fill the rate maps"));
    }
}
