using Engine.Analysis.SampleComplexity;
using Engine.Backends;
using Engine.Tasks;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Analysis;

/// <summary>The q-sparse sample-complexity sweep: its arithmetic, batched = sequential, the science at test size, files and CLI errors.</summary>
public sealed class SampleComplexityTests
{
    [Test]
    public void SamplesToThreshold_AndSlope_KnownAnswers()
    {
        Assert.That(SampleComplexitySweep.SamplesToThreshold([16, 32, 64], [0.5, 0.09, 0.2], 0.1), Is.EqualTo(32), "the first size at or below the threshold");
        Assert.That(SampleComplexitySweep.SamplesToThreshold([16, 32], [0.5, 0.2], 0.1), Is.Null);
        Assert.That(SampleComplexitySweep.Slope([(Math.Log(4), Math.Log(100)), (Math.Log(8), Math.Log(400)), (Math.Log(16), Math.Log(1600))]), Is.EqualTo(2).Within(1e-12));
        Assert.That(SampleComplexitySweep.Slope([(1, 3)]), Is.NaN);
        var task = new QSparseTask(4, 1, 1);
        double v = SampleComplexitySweep.TargetVariance(task, 20000, 1);
        Assert.That(v, Is.GreaterThan(0.35).And.LessThan(0.45), "Var(tanh(s)), s ~ N(0, 1) (d = 1, |β| = 1) is about 0.39");
    }

    [Test]
    public void BatchedSweep_EqualsSequential_AndWritesItsFiles()
    {
        var options = new SampleComplexityOptions
        {
            Variants = [QSparseVariant.Simplified], Lengths = [2, 3], Qs = [1, 2], Sizes = [4, 16], Seeds = 2, Width = 6, Dimension = 1, MaxEpochs = 30, TestEvery = 10, TestTrials = 8, VarianceTrials = 256,
        };
        using var backend = BackendFactory.Create("cpu", 2);
        var batched = SampleComplexitySweep.Run(backend, options);
        var sequential = SampleComplexitySweep.Run(backend, options, sequential: true);
        Assert.That(batched.Conditions, Has.Count.EqualTo(4));
        for (int c = 0; c < 4; c++)
        {
            Assert.That(sequential.Conditions[c].Networks, Is.EqualTo(batched.Conditions[c].Networks), "each network's numbers do not depend on its ensemble");
        }

        string dir = Directory.CreateTempSubdirectory("sc").FullName;
        try
        {
            var files = SampleComplexityFiles.Write(batched, dir);
            Assert.That(files.Select(Path.GetFileName), Is.EqualTo(new[] { "networks.csv", "nstar.csv", "summary.json", "nstar.png", "error.png" }));
            Assert.That(File.ReadAllLines(Path.Combine(dir, "networks.csv")), Has.Length.EqualTo(1 + 4 * 2 * 2));
            Assert.That(File.ReadAllText(Path.Combine(dir, "summary.json")), Does.Contain("\"slopes\""));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// At test size (d = 1, width 32, one-hot pointers, q = 1, N = 4 and 8, 2 seeds): the full model's n* grows past the sweep (more than 8×)
    /// from N = 4 to N = 8, the simplified one's by at most 4×.
    /// </summary>
    [Test]
    public void SamplesToThreshold_GrowWithN_MuchMoreOnTheFullModelThanOnTheSimplified()
    {
        var options = new SampleComplexityOptions
        {
            Lengths = [4, 8], Qs = [1], Sizes = [128, 256, 512, 1024, 2048], Seeds = 2, Width = 32, Dimension = 1, LearningRate = 1e-2, MaxEpochs = 2000,
            TestEvery = 25, TestPatience = 20, TestTrials = 128,
        };
        using var backend = BackendFactory.Create("cpu");
        var result = SampleComplexitySweep.Run(backend, options);
        int? N(QSparseVariant v, int length) => result.Conditions.Single(c => c.Variant == v && c.Length == length).SamplesToThreshold;
        string table = string.Join("; ", result.Conditions.Select(c => $"{c.Variant} N={c.Length}: {c.SamplesToThreshold}"));
        Assert.That(N(QSparseVariant.Full, 4), Is.Not.Null.And.LessThanOrEqualTo(512), table);
        Assert.That(N(QSparseVariant.Full, 8), Is.Null, "full model at N = 8: no size up to 2048 reaches the threshold: " + table);
        Assert.That(N(QSparseVariant.Simplified, 4), Is.Not.Null, table);
        Assert.That(N(QSparseVariant.Simplified, 8), Is.Not.Null.And.LessThanOrEqualTo(4 * N(QSparseVariant.Simplified, 4)!.Value), table);
    }

    [Test]
    public void Cli_TrainWithTrainSamples_WritesHeldOutErrorToTheSummary()
    {
        string dir = Directory.CreateTempSubdirectory("qs-train").FullName;
        try
        {
            var (code, output, err) = CliHarness.Run("train", "--task", "qsparse", "--task-setting", "length=3", "--task-setting", "q=2", "--task-setting", "dimension=2", "--task-setting", "variant=simplified",
                "--train-samples", "16", "--test-every", "5", "--test-trials", "8", "--networks", "2", "--hidden", "8", "--max-epochs", "10", "--backend", "cpu",
                "--out", dir, "--quiet");
            Assert.That(code, Is.EqualTo(0), output + err);
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
            var net = json.RootElement.GetProperty("per_network")[1];
            Assert.That(net.GetProperty("train_samples").GetInt32(), Is.EqualTo(16));
            Assert.That(net.GetProperty("test_mse").GetDouble(), Is.GreaterThan(0));
            Assert.That(net.GetProperty("best_test_epoch").GetInt32(), Is.GreaterThan(0));
            (code, _, err) = CliHarness.Run("train", "--task", "qsparse", "--task-setting", "length=3", "--task-setting", "q=4", "--out", Path.Combine(dir, "bad"));
            Assert.That(code, Is.EqualTo(2));
            Assert.That(err, Does.Contain("q (4) must be at most the sequence length N (3)"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void Cli_QLargerThanN_IsOneNamedErrorLine()
    {
        var (code, _, err) = CliHarness.Run("analyze", "sample-complexity", "--lengths", "2,8", "--q", "3", "--out", Path.Combine(Path.GetTempPath(), "sc-never"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim(), Is.EqualTo("error: q (3) must be at most every sequence length; the shortest N is 2."));
        (code, _, err) = CliHarness.Run("analyze", "sample-complexity", "--variants", "full,half", "--out", Path.Combine(Path.GetTempPath(), "sc-never"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--variants: qsparse variant must be full or simplified, got 'half'."));
    }
}
