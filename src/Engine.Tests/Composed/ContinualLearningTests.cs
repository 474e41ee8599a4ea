using Engine.Composed;
using Engine.Tasks;
using Engine.Tasks.Cognitive;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Composed;

/// <summary>Continual learning with the context-composed RNN (SEEDS §6) at test size: no forgetting where the plain RNN forgets,
/// bit-identical earlier tasks, fast recomposition, determinism and named errors.</summary>
/// <remarks>
/// Test size: N = 32, R = 8, one network, batch 32, lr 0.02, criterion 0.7 within 400 batches, dt = 50 ms, τ = 100 ms, 8 channels
/// per ring, every Yang et al. duration × 0.3 (trials of 10–30 steps). Chance is about 0.2 on the direction tasks.
/// </remarks>
public sealed class ContinualLearningTests
{
    private static SequenceOptions Small(CellKind cell = CellKind.Composed, ContextSource context = ContextSource.Oracle) => new()
    {
        Cell = cell, Context = context, Hidden = 32, Rank = 8, Components = 16, Networks = 1, Batch = 32, LearningRate = 0.02, Criterion = 0.7,
        MaxBatches = 400, EvalEvery = 20, EvalTrials = 64, Threads = 2,
        Task = new CognitiveOptions { Dt = 50, Ring = 8, TimeScale = 0.3 },
    };

    [Test]
    public void FourTasks_ComposedKeepsEveryTaskExactly_PlainForgets()
    {
        // Two networks per cell (one per core): a single low-rank network sometimes fails its first task, so the learning
        // checks ask for the better network and the forgetting checks hold for every network that learned.
        string[] tasks = ["delaygo", "delayanti", "dm1", "dm2"];
        var (composed, _) = ContinualLearning.Run(Small() with { Networks = 2 }, tasks);
        var (plain, _) = ContinualLearning.Run(Small(CellKind.Plain) with { Networks = 2 }, tasks);
        for (int e = 0; e < 2; e++)
        {
            var a = composed.Accuracy[e];
            var p = plain.Accuracy[e];
            TestContext.Out.WriteLine($"composed {e}: " + string.Join(" | ", a.Select(r => string.Join(" ", r.Select(v => v.ToString("F2"))))));
            TestContext.Out.WriteLine($"plain {e}:    " + string.Join(" | ", p.Select(r => string.Join(" ", r.Select(v => v.ToString("F2"))))));

            // Composed: a task's accuracy after its own stage is kept exactly (margin 0) through every later stage.
            for (int j = 0; j < tasks.Length; j++)
            {
                for (int i = j + 2; i <= tasks.Length; i++)
                {
                    Assert.That(a[i][j], Is.EqualTo(a[j + 1][j]), $"composed network {e}: {tasks[j]} after stage {i}");
                }
            }

            Assert.That(composed.Metrics[e].Bwt, Is.EqualTo(0.0));

            // Plain: delaygo falls to chance (≈ 0.2) or below once delayanti (same inputs, opposite response) is learned.
            if (p[1][0] >= 0.5)
            {
                Assert.That(p[2][0], Is.LessThanOrEqualTo(0.25), $"plain network {e} forgets delaygo after delayanti");
                Assert.That(plain.Metrics[e].Forgetting[0], Is.GreaterThan(0.3));
            }

            Assert.That(plain.Metrics[e].Bwt, Is.LessThan(-0.1), $"plain network {e}: backward transfer");
        }

        Assert.That(composed.Accuracy.Max(a => a[1][0]), Is.GreaterThanOrEqualTo(0.5), "composed learns delaygo well above chance (0.2)");
        Assert.That(composed.Accuracy.Max(a => a[2][1]), Is.GreaterThanOrEqualTo(0.5), "composed learns delayanti (only its go-anti component is new)");
        Assert.That(plain.Accuracy.Max(p => p[1][0]), Is.GreaterThanOrEqualTo(0.5), "plain learns delaygo");
    }

    [TestCase(ContextSource.Oracle)]
    [TestCase(ContextSource.Inferred)]
    public void FrozenComponents_LeaveEarlierTaskOutputsBitIdentical(ContextSource context)
    {
        var learner = new ContinualLearner(Small(context: context) with { MaxBatches = 15, Criterion = 1.0 });
        learner.TrainTask("delaygo");
        var before = learner.TestOutputs("delaygo", 0);
        var untouched = learner.Parameters(0).ToArray();
        learner.TrainTask("delayanti");
        learner.TrainTask("dm1");
        var after = learner.TestOutputs("delaygo", 0);
        Assert.That(after, Is.EqualTo(before), "outputs bit-identical");
        var changed = learner.Parameters(0).ToArray();
        Assert.That(changed, Is.Not.EqualTo(untouched), "later stages did train something");
        for (int i = 0; i < learner.Spec.SharedCount; i++)
        {
            Assert.That(changed[i], Is.EqualTo(untouched[i]), $"shared weight {i} frozen after the first stage");
        }
    }

    [Test]
    public void PlainRnn_SameProtocol_ChangesEarlierTaskOutputs()
    {
        var learner = new ContinualLearner(Small(CellKind.Plain) with { MaxBatches = 15, Criterion = 1.0 });
        learner.TrainTask("delaygo");
        var before = learner.TestOutputs("delaygo", 0);
        learner.TrainTask("delayanti");
        Assert.That(learner.TestOutputs("delaygo", 0), Is.Not.EqualTo(before));
    }

    [Test]
    public void RecomposedTask_OfKnownEpochs_NeedsFewerBatchesThanFromScratch()
    {
        // fdgo is fix → stim-mem → go-pro: every role is known after delaygo, so nothing new is trained.
        var options = Small() with { Criterion = 0.6, Networks = 2 };
        var learner = new ContinualLearner(options);
        var first = learner.TrainTask("delaygo");
        var recomposed = learner.TrainTask("fdgo");
        Assert.That(recomposed.NewComponents, Is.Empty);
        Assert.That(recomposed.ReusedComponents, Is.EquivalentTo(new[] { "role:fix", "role:stim-mem", "role:go-pro" }));
        var scratch = new ContinualLearner(options).TrainTask("fdgo");
        TestContext.Out.WriteLine($"delaygo {string.Join(",", first.Batches)}; fdgo recomposed {string.Join(",", recomposed.Batches)}, from scratch {string.Join(",", scratch.Batches)}");
        int learned = 0;
        for (int e = 0; e < 2; e++)
        {
            if (first.Batches[e] is null)
            {
                continue;
            }

            learned++;
            Assert.That(recomposed.Batches[e], Is.Not.Null, $"network {e}: recomposed fdgo meets the criterion");
            Assert.That(scratch.Batches[e] ?? int.MaxValue, Is.GreaterThan(recomposed.Batches[e]!.Value), $"network {e}");
        }

        Assert.That(learned, Is.GreaterThanOrEqualTo(1), "some network reaches the criterion on delaygo");
    }

    [Test]
    public void SameSeed_SameParameters_AnyThreadCount()
    {
        float[] Train(int threads)
        {
            var learner = new ContinualLearner(Small() with { Networks = 3, Threads = threads, MaxBatches = 10, Criterion = 1.0 });
            learner.TrainTask("dm1");
            return Enumerable.Range(0, 3).SelectMany(e => learner.Parameters(e).ToArray()).ToArray();
        }

        Assert.That(Train(1), Is.EqualTo(Train(3)));
    }

    [Test]
    public void BadInput_IsANamedError()
    {
        var unknown = Assert.Throws<ArgumentException>(() => ContinualLearning.ParseTasks(["delaygo", "flipflop"]))!;
        Assert.That(unknown.Message, Does.Contain("unknown task 'flipflop'").And.Contain("delaygo"));
        Assert.That(unknown.ParamName, Is.EqualTo("tasks"));
        var zeroK = Assert.Throws<ArgumentOutOfRangeException>(() => new ContinualLearner(Small() with { Components = 0 }))!;
        Assert.That(zeroK.ParamName, Is.EqualTo("components"));
        Assert.That(zeroK.Message, Does.Contain("at least 1, got 0"));
        var zeroR = Assert.Throws<ArgumentOutOfRangeException>(() => new ContinualLearner(Small() with { Rank = 0 }))!;
        Assert.That(zeroR.ParamName, Is.EqualTo("rank"));
        var wide = Assert.Throws<ArgumentOutOfRangeException>(() => new ContinualLearner(Small() with { Rank = 33 }))!;
        Assert.That(wide.ParamName, Is.EqualTo("rank"));
        Assert.That(wide.Message, Does.Contain("at most the width (hidden = 32), got 33"));
        var full = Assert.Throws<ArgumentException>(() => new ContinualLearner(Small() with { Components = 3 }).TrainTask("delaygo"))!;
        Assert.That(full.ParamName, Is.EqualTo("components"));
        Assert.That(full.Message, Does.Contain("needs 4 components"));
        Assert.Throws<ArgumentException>(() => ContinualLearning.ParseTasks(["dm1", "dm1"]));
        Assert.Throws<ArgumentException>(() => TaskRegistry.Create("delaygo", new Dictionary<string, string> { ["bits"] = "3" }));
    }

    [Test]
    public void Cli_UnknownTaskAndWideRank_ExitTwoWithOneLine()
    {
        string dir = Path.Combine(Path.GetTempPath(), "composed-cli-" + Guid.NewGuid().ToString("N"));
        var (code, _, err) = Support.CliHarness.Run(["train-sequence", "delaygo,nosuch", "--out", dir]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("error: ").And.Contain("unknown task 'nosuch'"));
        (code, _, err) = Support.CliHarness.Run(["train-sequence", "delaygo", "--hidden", "8", "--rank", "9", "--out", dir]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("rank must be at most the width"));
        (code, _, err) = Support.CliHarness.Run(["train-sequence", "delaygo", "--components", "0", "--out", dir]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("components must be at least 1"));
        Assert.That(Directory.Exists(dir) && Directory.EnumerateFiles(dir).Any(), Is.False, "nothing written");
    }

    [Test]
    public void Cli_TinyRun_WritesMatrixMetricsAndFigures()
    {
        string dir = Path.Combine(Path.GetTempPath(), "composed-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, err) = Support.CliHarness.Run(["train-sequence", "delaygo,delayanti", "--context", "inferred", "--hidden", "16", "--rank", "2",
                "--networks", "2", "--max-batches", "4", "--eval-every", "2", "--eval-trials", "16", "--dt", "50", "--ring", "8", "--time-scale", "0.3", "--scratch", "--out", dir]);
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(output, Does.Contain("BWT"));
            foreach (var f in new[] { "accuracy_matrix.csv", "accuracy_networks.csv", "metrics.json", "accuracy_matrix.png", "context_delaygo.png", "context_delayanti.png" })
            {
                Assert.That(File.Exists(Path.Combine(dir, f)), Is.True, f);
            }

            var csv = File.ReadAllLines(Path.Combine(dir, "accuracy_matrix.csv"));
            Assert.That(csv, Has.Length.EqualTo(4));
            Assert.That(csv[0], Is.EqualTo("stage,after,delaygo,delayanti"));
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
            Assert.That(json.RootElement.GetProperty("stages")[1].GetProperty("new_components")[0].GetString(), Does.StartWith("delayanti:epoch"));
            Assert.That(json.RootElement.TryGetProperty("bwt", out _), Is.True);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, true);
            }
        }
    }

    [Test]
    public void Cli_TrainCellComposed_TrainsOneCognitiveTask()
    {
        string dir = Path.Combine(Path.GetTempPath(), "composed-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, err) = Support.CliHarness.Run(["train", "--cell", "composed", "--task", "fdgo", "--components", "4", "--rank", "2", "--hidden", "16",
                "--networks", "1", "--max-epochs", "3", "--out", dir]);
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(output, Does.Contain("fdgo: batches to criterion"));
            Assert.That(File.ReadAllLines(Path.Combine(dir, "accuracy_matrix.csv"))[0], Is.EqualTo("stage,after,fdgo"));
            (code, _, err) = Support.CliHarness.Run(["train", "--cell", "composed", "--task", "flipflop", "--out", dir]);
            Assert.That(code, Is.EqualTo(2));
            Assert.That(err, Does.Contain("--task must be one of"));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, true);
            }
        }
    }

    [Test]
    public void CognitiveTasks_AreTrialTasks_WithRolesThatFillEveryStep()
    {
        foreach (var name in CognitiveTask.Names)
        {
            var task = TaskRegistry.Create(name, new Dictionary<string, string> { ["dt"] = "50", ["ring"] = "8", ["time_scale"] = "0.3" });
            Assert.That(task, Is.InstanceOf<CognitiveTask>());
            var c = (CognitiveTask)task;
            int t = c.MinimumSteps;
            var x = new float[4 * t * c.Inputs];
            var y = new float[4 * t * c.Outputs];
            var m = new float[4 * t * c.Outputs];
            c.Generate(new Rng(1), 4, t, x, y, m);
            var batch = c.Draw(new Rng(2), 16);
            Assert.That(batch.Roles.Distinct().Order(), Is.EquivalentTo(c.Roles.Distinct()), name);
            // The target itself is scored correct by Yang et al.'s rule.
            Assert.That(c.Accuracy(batch, batch.Targets), Is.EqualTo(1.0), name);
        }
    }
}
