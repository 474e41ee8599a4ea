using Engine.Cli;
using NUnit.Framework;

namespace Engine.Tests.ClosedLoop;

/// <summary>The <c>closed-loop</c> verb end to end.</summary>
[NonParallelizable]
public sealed class ClosedLoopCliTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("closedloop").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => Support.CliHarness.Run(args);

    [Test]
    public void ClosedLoop_OpenMode_WritesCsvAndFigures()
    {
        var (code, output, err) = Cli("closed-loop", "--plant", "double-integrator", "--mode", "open", "--agents", "2", "--hidden", "12",
            "--horizon", "20", "--steps", "30", "--record-every", "5", "--out", _dir);
        Assert.That(code, Is.EqualTo(0), err + output);
        foreach (var f in new[] { "metrics.csv", "eigenvalues.csv", "summary.json", "loss_stages.png", "eigenvalues.png", "gains.png" })
        {
            Assert.That(File.Exists(Path.Combine(_dir, f)), Is.True, f);
        }

        var lines = File.ReadAllLines(Path.Combine(_dir, "metrics.csv"));
        Assert.That(lines[0], Does.StartWith("mode,agent,step,loss,control_loss,rho,k1,k2,sigma_zm"));
        Assert.That(lines.Count(l => l.StartsWith("closed,", StringComparison.Ordinal)), Is.EqualTo(2 * 7));
        Assert.That(lines.Count(l => l.StartsWith("open,", StringComparison.Ordinal)), Is.EqualTo(2 * 7));
    }

    [Test]
    public void ClosedLoop_RankOneTracking_ReportsReducedModelAndFrequencyOrder()
    {
        var (code, output, err) = Cli("closed-loop", "--plant", "integrator", "--order", "1", "--task", "tracking", "--rank-one",
            "--agents", "1", "--hidden", "10", "--horizon", "30", "--steps", "20", "--record-every", "5", "--out", _dir);
        Assert.That(code, Is.EqualTo(0), err + output);
        Assert.That(File.Exists(Path.Combine(_dir, "frequencies.csv")), Is.True);
        var summary = File.ReadAllText(Path.Combine(_dir, "summary.json"));
        Assert.That(summary, Does.Contain("frequency_acquisition_order").And.Contain("reduced_model_max_rel_loss_difference").And.Contain("frequencies_low_to_high"));
        Assert.That(File.Exists(Path.Combine(_dir, "frequencies.png")), Is.True);
    }

    [Test]
    public void ClosedLoop_Preset_SetsDefaults_FlagsOverride_AndReportsStages()
    {
        var (code, output, err) = Cli("closed-loop", "--preset", "ger-barak", "--hidden", "16", "--agents", "1", "--steps", "20", "--record-every", "10", "--out", _dir);
        Assert.That(code, Is.EqualTo(0), err + output);
        Assert.That(output, Does.Contain("preset ger-barak").And.Contain("N=16").And.Contain("T=50").And.Contain("lr=0.001").And.Contain("z⊥m"));
        var summary = File.ReadAllText(Path.Combine(_dir, "summary.json"));
        Assert.That(summary, Does.Contain("stages_in_order").And.Contain("plateau_conflict_deg_median").And.Contain("plateau_zigzag"));
        Assert.That(File.ReadAllLines(Path.Combine(_dir, "metrics.csv"))[0], Does.EndWith("conflict_deg,lambda3,zigzag"));
    }

    [Test]
    public void ClosedLoop_LeakyTanhAgentSeeingTheReference_WritesJsonWithNullsForNaN()
    {
        // a tanh agent has no linear P, so ρ is NaN: summary.json must still be valid JSON (null there)
        var (code, output, err) = Cli("closed-loop", "--plant", "point-mass", "--plant-dt", "0.1", "--task", "tracking", "--frequencies", "0.1,0.3",
            "--channels", "0,1", "--observe", "reference", "--ramp", "5", "--trials", "3", "--leak", "0.5", "--activation", "tanh",
            "--agents", "2", "--hidden", "12", "--horizon", "20", "--steps", "10", "--record-every", "5", "--out", _dir);
        Assert.That(code, Is.EqualTo(0), err + output);
        Assert.That(output, Does.Contain("leak=0.5").And.Contain("observes reference"));
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")));
        var agent0 = doc.RootElement[0];
        Assert.That(agent0.GetProperty("final_rho").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
        Assert.That(agent0.GetProperty("frequency_acquisition_order").GetArrayLength(), Is.LessThanOrEqualTo(2));
        Assert.That(File.ReadAllLines(Path.Combine(_dir, "frequencies.csv")).Length, Is.EqualTo(4), "header and records at steps 0, 5, 10");
    }

    [Test]
    public void ClosedLoop_IlgpuBackend_GivesTheCpuBackendsNumbers()
    {
        string[] Args(string backend, string dir) => ["closed-loop", "--backend", backend, "--hidden", "8", "--horizon", "10", "--agents", "2", "--steps", "15",
            "--record-every", "5", "--out", dir];
        var (code, output, err) = Cli(Args("ilgpu-cpu", _dir));
        Assert.That(code, Is.EqualTo(0), err + output);
        Assert.That(output, Does.Contain("backend=ilgpu-cpu ("));
        string cpuDir = Path.Combine(_dir, "cpu");
        (code, output, err) = Cli(Args("cpu", cpuDir));
        Assert.That(code, Is.EqualTo(0), err + output);
        var gpu = File.ReadAllLines(Path.Combine(_dir, "metrics.csv"));
        var cpu = File.ReadAllLines(Path.Combine(cpuDir, "metrics.csv"));
        Assert.That(gpu.Length, Is.EqualTo(cpu.Length));
        for (int i = 1; i < cpu.Length; i++)
        {
            double lg = double.Parse(gpu[i].Split(',')[3], System.Globalization.CultureInfo.InvariantCulture);
            double lc = double.Parse(cpu[i].Split(',')[3], System.Globalization.CultureInfo.InvariantCulture);
            Assert.That(lg, Is.EqualTo(lc).Within(1e-9 * Math.Max(1, lc)), $"metrics row {i}");
        }
    }

    [TestCase("--preset", "nonesuch", "unknown --preset 'nonesuch'")]
    [TestCase("--plant", "moon-lander", "unknown plant 'moon-lander'")]
    [TestCase("--mode", "sideways", "unknown --mode 'sideways'")]
    [TestCase("--horizon", "0", "horizon T must be in [1")]
    [TestCase("--lr", "fast", "--lr 'fast' is not a comma-separated list")]
    [TestCase("--backend", "quantum", "Unknown backend 'quantum'")]
    [TestCase("--path", "cpu", "--path")]
    public void ClosedLoop_BadInput_IsOneLineAndExitCode2(string flag, string value, string expected)
    {
        var (code, _, err) = Cli("closed-loop", flag, value, "--out", _dir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(expected));
    }

    [Test]
    public void ClosedLoop_InconsistentPlantFile_IsAClearError()
    {
        string path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, """{"A": [[1, 1], [0, 1]], "B": [[0], [1], [1]], "C": [[1, 0]]}""");
        var (code, _, err) = Cli("closed-loop", "--plant", path, "--out", _dir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("B must have n = 2 rows"));
    }
}
