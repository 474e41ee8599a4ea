using Engine.Cli;
using NUnit.Framework;

namespace Engine.Tests.FixedPoints;

/// <summary><c>fixed-points</c> end to end on a tiny run, and its bad-input errors.</summary>
[NonParallelizable]
public sealed class FixedPointsCliTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("fpcli").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => Support.CliHarness.Run(args);

    /// <summary>A tiny run of width 8 (20 epochs) in <c>_dir/run</c>.</summary>
    private string TinyRun(int networks)
    {
        string run = Path.Combine(_dir, "run");
        var (code, _, err) = Cli("train", "--networks", networks.ToString(System.Globalization.CultureInfo.InvariantCulture), "--hidden", "8", "--trials", "4", "--steps", "10", "--max-epochs", "20", "--backend", "cpu", "--out", run);
        Assert.That(code, Is.EqualTo(0), err);
        return run;
    }

    [Test]
    public void FixedPoints_OnATrainedRun_WritesArraysJsonAndFigures()
    {
        string run = TinyRun(2);
        var (code, output, err) = Cli("fixed-points", run, "--seeds", "32", "--max-iterations", "300", "--backend", "cpu", "--input", "0,0.5,0");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("network   1:").And.Contain("; census ").And.Contain("census (converged points by number of unstable directions"));
        string fp = Path.Combine(run, "fixed-points");
        foreach (var f in new[] { "fixed_points.json", "census.csv", "rounds.csv", "spectra.png", "network_000.png", "network_001.png", "network_000/points.npy", "network_001/eigenvalues.npy", "network_001/eigenvectors.npy", "network_000/seed_status.npy" })
        {
            Assert.That(File.Exists(Path.Combine(fp, f)), Is.True, f);
        }
    }

    [Test]
    public void FixedPoints_RoundsZero_RunsTheFirstSearchOnly()
    {
        string run = TinyRun(1);
        var (code, output, err) = Cli("fixed-points", run, "--seeds", "16", "--max-iterations", "300", "--backend", "cpu", "--rounds", "0");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("(1 round(s)").And.Not.Contain("new per round"));
        Assert.That(File.ReadAllLines(Path.Combine(run, "fixed-points", "rounds.csv")), Has.Length.EqualTo(2), "header and round 0");
        (code, _, err) = Cli("fixed-points", run, "--backend", "cpu", "--rounds", "-1");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("MaxRounds"));
    }

    [Test]
    public void FixedPoints_OnARateCellRun_SearchesOnTheCpuPath()
    {
        string run = Path.Combine(_dir, "rate");
        var (code, _, err) = Cli("train", "--networks", "1", "--hidden", "6", "--trials", "4", "--steps", "10", "--max-epochs", "3", "--parameterization", "mup", "--backend", "reference", "--out", run);
        Assert.That(code, Is.EqualTo(0), err);
        (code, var output, err) = Cli("fixed-points", run, "--seeds", "16", "--max-iterations", "300", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("search: cpu").And.Contain("network   0:"));
        Assert.That(File.Exists(Path.Combine(run, "fixed-points", "network_000", "eigenvectors.npy")), Is.True);
    }

    [Test]
    public void FixedPoints_BadInput_IsOneClearError()
    {
        string junk = Path.Combine(_dir, "checkpoint.rnn");
        File.WriteAllText(junk, "not a checkpoint");
        var (code, _, err) = Cli("fixed-points", _dir, "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("error: ").And.Contain("not an engine checkpoint"));

        string run = Path.Combine(_dir, "run");
        Assert.That(Cli("train", "--networks", "1", "--hidden", "4", "--trials", "2", "--steps", "5", "--max-epochs", "2", "--backend", "cpu", "--out", run).Code, Is.EqualTo(0));
        (code, _, err) = Cli("fixed-points", run, "--input", "1,2", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--input has 2 values; the networks have 3 inputs"));
        (code, _, err) = Cli("fixed-points", run, "--input", "1,NaN,0", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("not a finite number"));
    }
}
