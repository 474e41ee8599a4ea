using System.Diagnostics;
using Engine.Analysis;
using Engine.Backends;
using Engine.Distances;
using Engine.IO;
using Engine.Study;
using Engine.Tasks;
using Engine.Tests.Support;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Study;

/// <summary>The study end to end: plan, train in batched groups, analyse, merge; shards, resume after kill -9, one writer, bad configs.</summary>
[NonParallelizable]
public sealed class StudyTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("study").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private string Folder(string name) => Path.Combine(_dir, name);

    [Test]
    public void TinyStudy_RunsEndToEnd_AndItsNumbersEqualTheLibrarysOwnAnalyses()
    {
        string dir = Folder("a");
        var plan = StudyRunner.Plan(StudyConfig.Parse(StudyRunData.Tiny), dir);
        Assert.That(plan.Conditions.Select(c => c.Width), Is.EqualTo(new[] { 8, 12 }), "one condition per width level; the baseline (8) is not duplicated");
        var (run, report) = StudyRunner.RunAll(dir);
        Assert.That(run.Trained, Is.EqualTo(2));
        Assert.That(File.Exists(report.HtmlPath) && File.Exists(report.MarkdownPath));
        string md = File.ReadAllText(report.MarkdownPath), reportDir = Path.GetDirectoryName(report.MarkdownPath)!;
        Assert.That(md, Does.Contain("### flipflop: width").And.Contain("Trends along width").And.Contain("## Failed conditions")
            .And.Contain("## Recipe").And.Contain("## Config").And.Contain("## Cost"));
        foreach (var metric in new[] { "sigma_ood", "dsa", "pif", "cka" })
        {
            Assert.That(File.Exists(Path.Combine(reportDir, "figures", $"flipflop-width-{metric}.png")), metric);
        }

        foreach (var c in plan.Conditions)
        {
            foreach (var metric in new[] { "behavior", "dsa", "pif", "cka", "shape" })
            {
                Assert.That(File.Exists(Path.Combine(reportDir, "figures", "heatmaps", $"{c.Id}-{metric}.png")), $"{c.Id} {metric} heatmap");
            }
        }

        Assert.That(File.ReadAllText(report.HtmlPath), Does.Contain("data:image/png;base64,"));
        Assert.That(report.Trends.Where(t => t.Factor == "width").Select(t => t.Metric), Is.SupersetOf(new[] { "sigma_ood", "dsa", "pif", "cka" }));

        var results = StudyMerge.Collect(dir);
        var layout = new StudyLayout(dir);
        using var backend = BackendFactory.Create("cpu");
        foreach (var group in plan.Groups)
        {
            var state = Checkpoint.Load(Path.Combine(layout.Group(0, group.Id), Checkpoint.FileName));
            var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
            var eval = Evaluation.Run(backend, state, task);
            foreach (var cid in group.Conditions)
            {
                var (offset, count) = StudyRunner.Slice(plan, group, cid);
                var rows = results.Networks.Where(r => r.Condition == cid).OrderBy(r => r.Network).ToArray();
                Assert.That(rows, Has.Length.EqualTo(count));
                for (int k = 0; k < count; k++)
                {
                    Assert.That(rows[k].Seed, Is.EqualTo(state.Ensemble.Seeds[offset + k]));
                    Assert.That(rows[k].OodMse, Is.EqualTo(eval.OodMse[offset + k]).Within(1e-12), $"{cid} network {k}: OOD MSE as Evaluation.Run on the whole group");
                    Assert.That(rows[k].IdMse, Is.EqualTo(eval.InDistributionMse[offset + k]).Within(1e-12));
                    Assert.That(rows[k].WeightChange, Is.EqualTo(state.WeightChange[offset + k]));
                }

                var conv = rows.Where(r => r.Status == "converged").Select(r => r.Network).ToArray();
                Assert.That(conv, Has.Length.GreaterThanOrEqualTo(2), "the tiny recipe converges");
                var ids = conv.Select(k => offset + k).ToArray();
                var states = new StateSet(StateSet.Record(backend, state.Ensemble, task, 32, state.Options.StepsFor(task), 12345, ids).States, 32, state.Options.StepsFor(task), ids.Select(_ => state.Ensemble.Spec.Hidden).ToArray(), conv);
                var cka = Cka.Compute(TestBackends.Cpu, states);
                var dsa = Dsa.Compute(TestBackends.Cpu, states, new DsaOptions { Rank = 4, Delays = 2, Iterations = 100 }).Angular;
                var pif = WeightDistance.Matrix(TestBackends.Cpu, ids.Select(e => state.Ensemble.Layout.WRec(state.Ensemble.Parameters, e).ToArray()).ToArray(), ids.Select(_ => state.Ensemble.Spec.Hidden).ToArray(), conv);
                var ood = conv.Select(k => eval.OodMse[offset + k]).ToArray();
                double sigma = Math.Sqrt(ood.Sum(v => (v - ood.Average()) * (v - ood.Average())) / ood.Length);
                var summary = report.Conditions.Single(c => c.Condition == cid);
                Assert.That(summary.SigmaOod.Value, Is.EqualTo(sigma).Within(1e-12), $"{cid}: σ_OOD of the report = population std of Evaluation's OOD MSE");
                Assert.That(summary.MeanDsa.Value, Is.EqualTo(dsa.Mean()).Within(1e-12), $"{cid}: mean DSA of the report = mean of Dsa.Compute's matrix");
                Assert.That(summary.MeanPif.Value, Is.EqualTo(pif.Mean()).Within(1e-12));
                Assert.That(summary.MeanCka.Value, Is.EqualTo(cka.Mean()).Within(1e-12));
                foreach (var (metric, m) in new[] { ("cka", cka), ("dsa", dsa), ("pif", pif) })
                {
                    var pairs = results.Pairs.Where(p => p.Condition == cid && p.Metric == metric).ToArray();
                    Assert.That(pairs, Has.Length.EqualTo(conv.Length * (conv.Length - 1) / 2), $"{cid} {metric}: one row per pair of converged networks");
                    foreach (var p in pairs)
                    {
                        Assert.That(p.Value, Is.EqualTo(m[Array.IndexOf(conv, p.NetworkA), Array.IndexOf(conv, p.NetworkB)]).Within(1e-12), $"{cid} {metric} ({p.NetworkA}, {p.NetworkB})");
                    }
                }
            }
        }
    }

    [Test]
    public void Estimate_OfAStudyFromItself_ReproducesItsMeasuredStageTimes()
    {
        string dir = Folder("estimate");
        var plan = StudyRunner.Plan(StudyConfig.Parse(StudyRunData.Tiny), dir);
        StudyRunner.RunAll(dir);
        var results = StudyMerge.Collect(dir);
        var projected = StudyEstimate.Project(plan, plan, results);
        // One condition per width: the training model and a two-point power law per analysis reproduce the measured totals exactly.
        foreach (var stage in new[] { "train", "eval", "dsa", "pif", "cka", "shape", "fixed_points" })
        {
            double measured = results.Timings.Where(t => t.Stage == stage).Sum(t => t.Seconds);
            Assert.That(projected.Single(p => p.Stage == stage).Seconds, Is.EqualTo(measured).Within(1e-9 + 1e-6 * measured), stage);
        }

        var (code, stdout, _) = Support.CliHarness.Run("study", "estimate", StudyRunData.Write(_dir, "tiny.json", StudyRunData.Tiny), "--from", dir);
        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("| train | 2 |").And.Contain("**total**"));
    }

    [Test]
    public void TwoShards_AsSeparateProcesses_MatchTheSingleProcessRun()
    {
        string cfg = StudyRunData.Write(_dir, "tiny.json", StudyRunData.Tiny);
        string single = Folder("single"), sharded = Folder("sharded");
        StudyRunner.Plan(StudyConfig.Load(cfg), single);
        StudyRunner.RunAll(single);
        Assert.That(StudyRunData.Run(null, "study", "plan", cfg, "--out", sharded, "--shards", "2").Code, Is.EqualTo(0));
        using var first = StudyRunData.Start(null, "study", "run", sharded, "--shard", "0/2");
        using var second = StudyRunData.Start(new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "1" }, "study", "run", sharded);
        var outs = new[] { first, second }.Select(p => (p, o: p.StandardOutput.ReadToEndAsync(), e: p.StandardError.ReadToEndAsync())).ToArray();
        foreach (var (p, o, e) in outs)
        {
            Assert.That(p.WaitForExit(180_000), "shard finished");
            Assert.That(p.ExitCode, Is.EqualTo(0), o.Result + e.Result);
        }

        Assert.That(Directory.Exists(Path.Combine(sharded, "report")), Is.False, "a shard does not write the report");
        Assert.That(StudyRunData.Run(null, "study", "merge", sharded).Code, Is.EqualTo(0));
        StudyProcesses.AssertSameReport(single, sharded);
    }

    [Test]
    public void Merge_BeforeEveryShardFinished_NamesTheMissingShard()
    {
        string dir = Folder("half");
        StudyRunner.Plan(StudyConfig.Parse(StudyRunData.Tiny), dir, shards: 2);
        StudyRunner.RunShard(dir, 1);
        var (code, _, err) = Support.CliHarness.Run("study", "merge", dir);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("not finished").And.Contain("shard 0"));
    }

    [Test]
    public void KilledStudy_ResumesWithoutRecomputing_AndEqualsAnUninterruptedRun()
    {
        string cfg = StudyRunData.Write(_dir, "slow.json", StudyRunData.Slow);
        string reference = Folder("reference"), killed = Folder("killed");
        StudyRunner.Plan(StudyConfig.Load(cfg), reference);
        StudyRunner.RunAll(reference);
        var plan = StudyRunner.Plan(StudyConfig.Load(cfg), killed);
        var layout = new StudyLayout(killed);
        var groups = plan.Shards[0].Groups;

        // Inside a group's training: a checkpoint exists, its train.json does not yet.
        bool InsideTraining() => groups.Any(g => File.Exists(Path.Combine(layout.Group(0, g), Checkpoint.FileName)) && !File.Exists(layout.TrainRecord(0, g)));
        // Between stages of a later condition: the first group is finished and some analysis of another condition has finished.
        bool AfterAFinishedCondition() => File.Exists(layout.TrainRecord(0, groups[0]))
            && File.Exists(layout.Events(0)) && File.ReadLines(layout.Events(0)).Count(l => l.Contains(" done ", StringComparison.Ordinal) && !l.Contains(" train ", StringComparison.Ordinal)) >= 5;
        Assert.That(KillWhen(killed, InsideTraining), "killed inside a group's training");
        Assert.That(KillWhen(killed, AfterAFinishedCondition), "killed after a finished condition");
        var (code, stdout, stderr) = StudyRunData.Run(null, "study", "run", killed);
        Assert.That(code, Is.EqualTo(0), stdout + stderr);

        var finished = StudyRunData.Finished(killed);
        Assert.That(finished.Keys.Count(k => k.StartsWith("train ", StringComparison.Ordinal)), Is.EqualTo(plan.Groups.Count), "every group trained");
        Assert.That(finished.Where(kv => kv.Value != 1).Select(kv => kv.Key), Is.Empty, "no stage finished twice: nothing finished was recomputed");
        Assert.That(File.ReadAllText(layout.Events(0)), Does.Contain(" resume train "), "the interrupted training resumed from its checkpoint");
        Assert.That(Directory.GetFiles(killed, ".*.tmp", SearchOption.AllDirectories), Is.Empty, "temp files of the killed writes were removed");
        StudyProcesses.AssertSameReport(reference, killed);
    }

    /// <summary>Starts <c>study run DIR</c> and kill -9s it as soon as <paramref name="when"/> holds; false if it finished first.</summary>
    private static bool KillWhen(string dir, Func<bool> when)
    {
        using var p = StudyRunData.Start(null, "study", "run", dir);
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (!p.HasExited && clock.Elapsed.TotalSeconds < 120)
        {
            if (when())
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
                return true;
            }

            Thread.Sleep(5);
        }

        return false;
    }

    [Test]
    public void SecondWriter_OfTheSameShard_IsRefused()
    {
        string dir = Folder("locked");
        StudyRunner.Plan(StudyConfig.Parse(StudyRunData.Tiny), dir);
        using (FolderLock.Acquire(new StudyLayout(dir).Shard(0), "shard 0"))
        {
            var (code, _, err) = StudyRunData.Run(null, "study", "run", dir);
            Assert.That(code, Is.EqualTo(2));
            Assert.That(err, Does.Contain("already being written").And.Contain($"pid {Environment.ProcessId}"));
        }

        Assert.That(StudyRunData.Run(null, "study", "run", dir, "--shard", "0/1").Code, Is.EqualTo(0), "free again once the first writer is gone");
    }

    [Test]
    public void FailedCondition_IsReported_AndTheOthersComplete()
    {
        string dir = Folder("failing");
        string json = StudyRunData.Tiny.Replace("\"factors\": { \"width\": [8, 12] }", "\"factors\": { \"learning_rate\": [3e-3, 10] }", StringComparison.Ordinal)
            .Replace("\"max_epochs\": 600", "\"max_epochs\": 400", StringComparison.Ordinal);
        var plan = StudyRunner.Plan(StudyConfig.Parse(json), dir);
        Assert.That(plan.Groups, Has.Count.EqualTo(1), "both learning rates train in one batched ensemble");
        var (_, report) = StudyRunner.RunAll(dir);
        var results = StudyMerge.Collect(dir);
        var bad = plan.Conditions.Single(c => c.LearningRate == 10).Id;
        var good = plan.Conditions.Single(c => c.LearningRate == 3e-3).Id;
        var outcome = results.Outcomes.Single(o => o.Condition == bad);
        Assert.That(outcome.Failed, Is.True);
        Assert.That(outcome.Reason, Does.Contain("no network converged"));
        Assert.That(results.Outcomes.Single(o => o.Condition == good).Failed, Is.False);
        Assert.That(results.Pairs.Count(p => p.Condition == good && p.Metric == "dsa"), Is.EqualTo(3));
        Assert.That(File.ReadAllText(report.MarkdownPath), Does.Contain(bad).And.Contain("no network converged"));
    }

    [TestCase("""{ "tasks": [ { "task": "juggle" } ], "factors": { "width": [8] }, "analyses": { "ood": {} } }""", "tasks[0].task", "flipflop, sine, delayed, pathint")]
    [TestCase("""{ "tasks": [ { "task": "flipflop" } ], "factors": { "depth": [1, 2] }, "analyses": { "ood": {} } }""", "factors.depth", "width, gamma, l1, nuclear, rank, complexity, learning_rate")]
    [TestCase("""{ "tasks": [ { "task": "flipflop" } ], "factors": { "width": [8] }, "analyses": { "ood": {}, "rsa": {} } }""", "rsa", "ood, behavior, dsa, pif, cka, shape, fixed_points, feature_learning")]
    [TestCase("""{ "tasks": [ { "task": "flipflop" } ], "factors": {}, "analyses": { "ood": {} } }""", "the grid is empty", "width, gamma")]
    [TestCase("""{ "tasks": [ { "task": "flipflop" } ], "factors": { "width": [8, 0] }, "analyses": { "ood": {} } }""", "factors.width[1]", "[1, 4096], got 0")]
    [TestCase("""{ "tasks": [ { "task": "flipflop" } ], "factors": { "l1": [0, -0.001] }, "analyses": { "ood": {} } }""", "factors.l1[1]", "must be ≥ 0, got -0.001")]
    [TestCase("""{ "seeds": 1, "tasks": [ { "task": "flipflop" } ], "factors": { "width": [8] }, "analyses": { "dsa": {} } }""", "seeds", "at least 2 seeds")]
    [TestCase("""{ "tasks": [ { "task": "flipflop" } ], "factors": { "width": [8] }, "analyses": { "behavior": {} } }""", "analyses.behavior", "needs analyses.ood")]
    [TestCase("""{ "tasks": [ { "task": "flipflop" } ], "factors": { "width": [8] }, "analyses": {} }""", "analyses", "ood, behavior, dsa")]
    [TestCase("""{ "tasks": [ { "task": "flipflop", "settings": { "bits": 0 } } ], "factors": { "width": [8] }, "analyses": { "ood": {} } }""", "tasks[0].settings", "bits")]
    [TestCase("""{ "tasks": [ { "task": "delayed" } ], "factors": { "width": [8] }, "training": { "steps": 5 }, "analyses": { "ood": {} } }""", "Steps (5) is shorter", "delayed")]
    public void BadConfig_IsRejectedBeforeAnyWork_NamingTheFieldAndTheAllowedValues(string json, string field, string allowed)
    {
        string cfg = StudyRunData.Write(_dir, "bad.json", json);
        string dir = Folder("bad");
        var (code, _, err) = Support.CliHarness.Run("study", "plan", cfg, "--out", dir);
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.StartWith("error: ").And.Contain(field).And.Contain(allowed));
        Assert.That(File.Exists(Path.Combine(dir, StudyPlan.FileName)), Is.False, "nothing planned");
    }

    [Test]
    public void Plan_IsDeterministic_AndAConditionNeverSpansShards()
    {
        string json = """
            { "seeds": 4, "tasks": [ { "task": "flipflop", "factors": { "gamma": [0.5, 1, 2], "l1": [0, 1e-4] } }, { "task": "sine" } ],
              "factors": { "width": [16, 32, 64] }, "baseline": { "width": 32 }, "analyses": { "ood": {}, "dsa": {} } }
            """;
        var a = StudyPlanner.Plan(StudyConfig.Parse(json), shards: 3);
        var b = StudyPlanner.Plan(StudyConfig.Parse(json), shards: 3);
        Assert.That(System.Text.Json.JsonSerializer.Serialize(a), Is.EqualTo(System.Text.Json.JsonSerializer.Serialize(b)));
        // flipflop: widths 16, 32, 64 (32 = baseline), γ 0.5/1/2 under µP at width 32, l1 1e-4 (l1 0 = baseline); sine: 3 widths.
        Assert.That(a.Conditions, Has.Count.EqualTo(3 + 3 + 1 + 3));
        Assert.That(a.Levels.Count(l => l.Task == "flipflop" && l.Factor == "l1"), Is.EqualTo(2));
        Assert.That(a.Conditions.Where(c => c.Parameterization == "mup").Select(c => c.Gamma), Is.EquivalentTo(new[] { 0.5, 1, 2 }));
        var owners = a.Shards.SelectMany(s => s.Groups.Select(g => (g, s.Index))).ToArray();
        Assert.That(owners.Select(o => o.g), Is.Unique, "every group in exactly one shard");
        Assert.That(owners.Select(o => o.g), Is.EquivalentTo(a.Groups.Select(g => g.Id)));
        Assert.That(a.Groups.SelectMany(g => g.Conditions), Is.Unique.And.EquivalentTo(a.Conditions.Select(c => c.Id)), "every condition in exactly one group");
        Assert.That(a.Recipes.Select(r => (r.Task, r.Parameterization)), Is.EquivalentTo(new[]
        {
            ("flipflop", Parameterization.Standard), ("flipflop", Parameterization.MuP), ("sine", Parameterization.Standard),
        }), "the recipes are frozen into the plan, one per task and parameterisation");
        string dir = Folder("plan");
        a.Save(dir);
        var loaded = StudyPlan.Load(dir);
        Assert.That(loaded.Recipes, Is.EqualTo(a.Recipes), "recipes survive plan.json");
        var mupGroup = a.Groups.Single(g => a.Condition(g.Conditions[0]).Parameterization == "mup");
        Assert.That(StudyRunner.TrainingFor(loaded, mupGroup).Spec.Alpha, Is.EqualTo((float)TrainingRecipe.For("flipflop", Parameterization.MuP).RateAlpha!.Value));
        var fw32 = a.Groups.Single(g => g.Conditions.Contains(a.Conditions.Single(c => c.Task == "flipflop" && c.Width == 32 && c.L1 == 0 && c.Parameterization == "standard").Id));
        Assert.That(fw32.Conditions, Has.Length.EqualTo(2), "the l1 condition trains in the same batched ensemble as the width-32 baseline");
    }
}
