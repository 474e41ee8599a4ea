using System.Text.Json;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Reliability;

/// <summary>
/// Analyses of a run in which one network diverged (identity cells, network 2 at learning rate 10): every verb finishes,
/// skips or reports that network by name, and writes <c>null</c> where its numbers would be.
/// </summary>
[NonParallelizable]
public sealed class DivergedNetworkTests
{
    private string _dir = null!;
    private string _run = null!;

    [OneTimeSetUp]
    public void TrainRunWithOneDivergedNetwork()
    {
        _dir = Directory.CreateTempSubdirectory("reldiv").FullName;
        _run = Path.Combine(_dir, "run");
        string config = Path.Combine(_dir, "c.json");
        File.WriteAllText(config, """
            {"networks": 4, "hidden": 8, "max_epochs": 40, "trials": 8, "steps": 10, "threshold": 0.3,
             "activation": "identity", "learning_rates": [3e-3, 3e-3, 10, 3e-3]}
            """);
        var (code, _, err) = CliHarness.Run("train", "--config", config, "--out", _run, "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(File.ReadAllText(Path.Combine(_run, "summary.json")), Does.Contain("\"diverged\": 1"));
    }

    [OneTimeTearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    [Test]
    public void Eval_WithADivergedNetwork_WritesCsvAndJson_NullForIt_FiniteSigmaFromTheOthers()
    {
        var (code, output, err) = CliHarness.Run("eval", "--ood", _run, "--trials", "8", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("network   2: diverged"));
        Assert.That(File.Exists(Path.Combine(_run, "eval.csv")), Is.True);
        Assert.That(File.Exists(Path.Combine(_run, "examples_ood.png")), Is.True);
        var json = Json(Path.Combine(_run, "eval.json"));
        Assert.That(json.GetProperty("ood_mse")[2].ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(json.GetProperty("id_mse")[2].ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(json.GetProperty("ood_mse")[0].GetDouble(), Is.GreaterThan(0));
        Assert.That(json.GetProperty("sigma_ood").ValueKind, Is.EqualTo(JsonValueKind.Number));
        Assert.That(double.IsFinite(json.GetProperty("sigma_ood").GetDouble()), Is.True);
        Assert.That(json.GetProperty("diverged")[0].GetInt32(), Is.EqualTo(2));
        Assert.That(File.ReadAllLines(Path.Combine(_run, "eval.csv"))[3], Does.StartWith("2,").And.Contain(",diverged,"));
    }

    [Test]
    public void Run_WithADivergedNetwork_WritesEveryFile_NullMseForIt()
    {
        string outDir = Path.Combine(_dir, "rec");
        var (code, output, err) = CliHarness.Run("run", _run, "--out", outDir, "--trials", "4", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("network   2: diverged"));
        foreach (var f in new[] { "inputs.npy", "targets.npy", "mask.npy", "outputs.npy", "states.npy", "run.json" })
        {
            Assert.That(File.Exists(Path.Combine(outDir, f)), Is.True, f);
        }

        var json = Json(Path.Combine(outDir, "run.json"));
        Assert.That(json.GetProperty("mse")[2].ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(json.GetProperty("mse")[1].ValueKind, Is.EqualTo(JsonValueKind.Number));
        Assert.That(Directory.GetDirectories(outDir, ".staging*"), Is.Empty);
    }

    [Test]
    public void CompareBehaviorAll_WithADivergedNetwork_SkipsItByName()
    {
        string outDir = Path.Combine(_dir, "cmp");
        var (code, output, err) = CliHarness.Run("compare", _run, "--metric", "behavior", "--all", "--trials", "8", "--backend", "cpu", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("network   2: diverged"));
        var json = Json(Path.Combine(outDir, "behavior_summary.json"));
        Assert.That(json.GetProperty("diverged")[0].GetInt32(), Is.EqualTo(2));
        Assert.That(json.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()), Is.EqualTo(new[] { 0, 1, 3 }));
        Assert.That(double.IsFinite(json.GetProperty("degeneracy").GetProperty("value").GetDouble()), Is.True);
    }

    [Test]
    public void DegeneracyAll_WithADivergedNetwork_WritesDegeneracyJson()
    {
        string outDir = Path.Combine(_dir, "deg");
        var (code, output, err) = CliHarness.Run("degeneracy", _run, "--all", "--trials", "4", "--iterations", "20", "--rank", "4", "--delays", "2", "--backend", "cpu", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("network   2: diverged"));
        var json = Json(Path.Combine(outDir, "degeneracy.json"));
        Assert.That(json.GetProperty("diverged")[0].GetInt32(), Is.EqualTo(2));
        Assert.That(json.GetProperty("networks").GetInt32(), Is.EqualTo(3));
    }

    [Test]
    public void AnalyzeChunks_WithADivergedNetwork_AnalysesTheOthers()
    {
        string outDir = Path.Combine(_dir, "chunks");
        var (code, output, err) = CliHarness.Run("analyze", "chunks", _run, "--method", "pa", "--trials", "8", "--steps", "40", "--backend", "cpu", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), err);
        var nets = Json(Path.Combine(outDir, "chunks.json")).GetProperty("networks");
        var ids = Enumerable.Range(0, nets.GetArrayLength()).Select(k => nets[k].GetProperty("network").GetInt32()).ToArray();
        Assert.That(ids, Is.EqualTo(new[] { 0, 1, 3 }), "the diverged network 2 is skipped");
    }

    [Test]
    public void FixedPoints_WithADivergedNetwork_ExitsZero_WithJsonFiguresAndItsStatus()
    {
        string outDir = Path.Combine(_dir, "fp");
        var (code, output, err) = CliHarness.Run("fixed-points", _run, "--seeds", "16", "--trials", "4", "--max-iterations", "100", "--backend", "cpu", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("network   2: diverged"));
        foreach (var f in new[] { "fixed_points.json", "spectra.png", "network_000.png", "network_002.png", "network_003.png" })
        {
            Assert.That(File.Exists(Path.Combine(outDir, f)), Is.True, f);
        }

        var nets = Json(Path.Combine(outDir, "fixed_points.json")).GetProperty("networks");
        Assert.That(nets[2].GetProperty("status").GetString(), Is.EqualTo("diverged"));
        Assert.That(nets[2].GetProperty("points").GetInt32(), Is.EqualTo(0));
        Assert.That(nets[0].GetProperty("status").GetString(), Is.EqualTo("ok"));
    }

    [TestCase("--threads must be at least 0", "compare", "--metric", "pif", "--threads", "-3")]
    [TestCase("--trials must be at least 1, got -5", "compare", "--metric", "cka", "--trials", "-5")]
    [TestCase("--steps must be at least 1, got 0", "compare", "--metric", "cka", "--steps", "0")]
    [TestCase("--threads must be at least 0", "degeneracy", "--threads", "-3")]
    [TestCase("--trials must be at least 1, got -5", "degeneracy", "--trials", "-5")]
    [TestCase("--trials must be at least 1, got -5", "fixed-points", "--trials", "-5")]
    [TestCase("--seeds must be at least 1, got 0", "fixed-points", "--seeds", "0")]
    [TestCase("--trials must be at least 1, got -5", "eval", "--trials", "-5")]
    [TestCase("--trials must be at least 1, got -5", "run", "--trials", "-5")]
    [TestCase("--steps must be at least 1, got -1", "run", "--steps", "-1")]
    public void OutOfRangeOption_IsAnErrorNamingIt(string expected, params string[] args)
    {
        var full = args[0] switch
        {
            "eval" => new[] { "eval", "--ood", _run },
            "run" => new[] { "run", _run, "--out", Path.Combine(_dir, "never") },
            _ => new[] { args[0], _run },
        };
        var (code, _, err) = CliHarness.Run([.. full, .. args.Skip(1), "--backend", "cpu"]);
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.StartWith("error: ").And.Contain(expected));
    }

    [Test]
    public void RunSteps_TooLarge_IsASizeErrorNamingTheSizeAndTheMemory()
    {
        var (code, _, err) = CliHarness.Run("run", _run, "--out", Path.Combine(_dir, "huge"), "--steps", "100000000", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain("100,000,000").And.Contain("GiB").And.Contain("elements"));
        Assert.That(Directory.Exists(Path.Combine(_dir, "huge")), Is.False);
    }

    [Test]
    public void FixedPointsSeeds_TooLarge_IsASizeError()
    {
        var (code, _, err) = CliHarness.Run("fixed-points", _run, "--seeds", "2000000000", "--backend", "cpu", "--out", Path.Combine(_dir, "fphuge"));
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain("fixed-point seeds").And.Contain("2,000,000,000").And.Contain("GiB"));
    }

    [Test]
    public void CompareCkaTrials_TooLarge_IsASizeError()
    {
        var (code, _, err) = CliHarness.Run("compare", _run, "--metric", "cka", "--all", "--trials", "100000000", "--backend", "cpu", "--out", Path.Combine(_dir, "ckahuge"));
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain("100,000,000").And.Contain("GiB"));
    }

    [Test]
    public void EvalOod_OnAFile_SaysItIsAFile()
    {
        string file = Path.Combine(_dir, "not-a-dir.txt");
        File.WriteAllText(file, "x");
        var (code, _, err) = CliHarness.Run("eval", "--ood", file, "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain(file).And.Contain("is a file; expected a run directory"));
        Assert.That(err, Does.Not.Contain("already exists"));
    }
}
