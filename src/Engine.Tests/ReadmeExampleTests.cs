using Engine.Analysis;
using Engine.Backends;
using Engine.ClosedLoop;
using Engine.IO;
using Engine.Model;
using Engine.Study;
using Engine.Tasks;
using Engine.Tasks.Control;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests;

/// <summary>The C# example of the README, line for line (with a small epoch budget), so the README stays true.</summary>
public sealed class ReadmeExampleTests
{
    [Test]
    public void ReadmeExample_RunsAsWritten()
    {
        string path = Path.Combine(Path.GetTempPath(), $"flipflop-{Guid.NewGuid():N}.rnn");
        try
        {
            var task = new FlipFlopTask(bits: 3);
            var spec = new EnsembleSpec { Networks = 8, Hidden = 64, Inputs = task.Inputs, Outputs = task.Outputs };
            using var backend = BackendFactory.Create("auto");
            var run = Trainer.Train(backend, task, spec, Ensemble.ConsecutiveSeeds(0, 8),
                new TrainingOptions { Trials = 32, Steps = 30, LearningRate = 3e-3, ClipNorm = 1, MaxEpochs = 20 });
            var batch = TrialBatch.For(spec, sets: 1, trials: 4, steps: 30);
            var (outputs, states) = run.Ensemble.Run(backend, batch);
            var eval = Evaluation.Run(backend, run, task);
            Checkpoint.Save(path, run);
            var again = Checkpoint.Load(path);

            Assert.That(outputs, Has.Length.EqualTo(8 * 4 * 30 * 3));
            Assert.That(states, Has.Length.EqualTo(8 * 4 * 30 * 64));
            Assert.That(eval.OodSteps, Is.EqualTo(60));
            Assert.That(again.Ensemble.Parameters, Is.EqualTo(run.Ensemble.Parameters));
            Assert.That(run.WeightChange, Has.All.GreaterThan(0));

            // The reloaded checkpoint is the same networks (spec, cell, parameters) and the same training options (steps):
            // the same outputs on the same batch, the same evaluation.
            var (outputsAgain, _) = again.Ensemble.Run(backend, batch);
            Assert.That(outputsAgain, Is.EqualTo(outputs));
            var evalAgain = Evaluation.Run(backend, again, task);
            Assert.That(evalAgain.OodMse, Is.EqualTo(eval.OodMse));
            Assert.That(evalAgain.InDistributionMse, Is.EqualTo(eval.InDistributionMse));
            Assert.That(eval.OodMse, Has.Some.Not.EqualTo(eval.OodMse[0]), "networks that answer differently");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The README's analysis example (DSA, numpy files, eigenvalues), line for line.</summary>
    [Test]
    public void ReadmeAnalysisExample_RunsAsWritten()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"readme-npy-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string cwd = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = dir;
            var task = new FlipFlopTask(bits: 3);
            var spec = new EnsembleSpec { Networks = 3, Hidden = 16, Inputs = task.Inputs, Outputs = task.Outputs };
            using var backend = BackendFactory.Create("cpu");
            var run = Trainer.Train(backend, task, spec, Ensemble.ConsecutiveSeeds(0, 3),
                new TrainingOptions { Trials = 32, Steps = 30, LearningRate = 3e-3, ClipNorm = 1, MaxEpochs = 20 });
            Npy.Write("labels.npy", new int[] { 1, 0, 1 }, 3);
            var jacobian = Enumerable.Range(0, 128 * 128).Select(k => Math.Sin(k * 0.37) / 12).ToArray();

            var states = Engine.Distances.StateSet.Record(backend, run.Ensemble, task, trials: 32, steps: 30, seed: 12345);
            var dsa = Engine.Distances.Dsa.Compute(backend, states, new DsaOptions());
            Console.WriteLine($"{dsa.Optimizer}: mean {dsa.Angular.Mean():F4}, pair (0,1) won by start {dsa.Alignments[0].Start}");
            var labels = Npy.Read("labels.npy").ToInt64();
            Npy.Write("perm.npy", new long[] { 2, 0, 1 }, 3);
            var lambdas = new System.Numerics.Complex[128];
            Engine.Numerics.Eigen.Values(jacobian, 128, lambdas);

            Assert.That(dsa.Optimizer, Is.EqualTo("optimal"));
            Assert.That(dsa.Alignments, Has.Count.EqualTo(3));
            Assert.That(labels, Is.EqualTo(new long[] { 1, 0, 1 }));
            Assert.That(Npy.ReadInt64("perm.npy").Data, Is.EqualTo(new long[] { 2, 0, 1 }));
            var reference = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(128, 128, (i, j) => jacobian[i * 128 + j]).Evd().EigenValues;
            Assert.That(lambdas.Sum(l => l.Real), Is.EqualTo(reference.Sum(l => l.Real)).Within(1e-9), "the trace");
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void ReadmeClosedLoopExample_RunsAsWritten()
    {
        var preset = ClosedLoopPreset.GerBarakTracking;
        var plant = preset.CreatePlant();
        var tracking = (TrackingTask)preset.CreateTask(plant);
        using var agents = new ClosedLoopEnsemble(plant, tracking, preset.Options,
            [new AgentSetup(Seed: 0, Horizon: preset.Horizon, LearningRate: preset.LearningRate)]);
        var records = ClosedLoopRecorder.Train(agents, steps: 20, every: 10);
        var falls = LossSteps.Detect(records.Select(r => r.Step).ToList(), records.Select(r => r.Loss).ToList());
        using var probe = new TrackingProbe(agents.Backend, plant, tracking, preset.Options, preset.Horizon);
        var perFrequency = probe.Losses(agents.Parameters[0]);

        Assert.That(records.Select(r => r.Step), Is.EqualTo(new[] { 0, 10, 20 }));
        Assert.That(records[^1].Loss, Is.LessThan(records[0].Loss));
        Assert.That(falls, Has.Count.GreaterThanOrEqualTo(1), "the initial fall");
        Assert.That(perFrequency, Has.Length.EqualTo(4).And.All.GreaterThan(0));
    }

    [Test]
    public void ReadmeStudyExample_RunsAsWritten()
    {
        string dir = Directory.CreateTempSubdirectory("readme-study").FullName;
        try
        {
            string config = Path.Combine(dir, "tiny.json");
            File.WriteAllText(config, Study.StudyRunData.Tiny);
            string studyDir = Path.Combine(dir, "demo");
            var lines = new List<string>();
            var plan = StudyRunner.Plan(StudyConfig.Load(config), studyDir, shards: 1);
            var (done, report) = StudyRunner.RunAll(studyDir, new StudyRunOptions { Log = lines.Add });
            var results = StudyMerge.Collect(studyDir);
            foreach (var c in report.Conditions) lines.Add($"{c.Condition}: mean DSA {c.MeanDsa.Value:G3} [{c.MeanDsa.Low:G3}, {c.MeanDsa.High:G3}]");

            Assert.That(done.Trained, Is.EqualTo(plan.Groups.Count));
            Assert.That(results.Networks, Has.Count.EqualTo(plan.Conditions.Sum(c => c.Seeds.Length)));
            Assert.That(report.Conditions.Select(c => c.MeanDsa.Value), Has.All.GreaterThan(0));

            // MeanDsa is the mean over the condition's pairs of converged networks (one row per pair i < j in the collected
            // results), not over per-network values: recomputed here from the rows.
            Assert.That(report.Conditions.Select(c => c.Condition), Is.EqualTo(plan.Conditions.Select(c => c.Id)));
            foreach (var c in report.Conditions)
            {
                var converged = results.Networks.Where(n => n.Condition == c.Condition && n.Status == "converged").Select(n => n.Network).Order().ToArray();
                var dsa = results.Pairs.Where(p => p.Condition == c.Condition && p.Metric == "dsa").ToArray();
                var expectedPairs = converged.SelectMany((a, i) => converged.Skip(i + 1).Select(b => (a, b)));
                Assert.That(dsa.Select(p => (Math.Min(p.NetworkA, p.NetworkB), Math.Max(p.NetworkA, p.NetworkB))), Is.EquivalentTo(expectedPairs), $"{c.Condition}: one DSA row per converged pair");
                Assert.That(c.MeanDsa.Value, Is.EqualTo(dsa.Average(p => p.Value)).Within(1e-7).Percent, $"{c.Condition}: MeanDsa is the mean over pairs");
                Assert.That(c.MeanDsa.Low, Is.LessThanOrEqualTo(c.MeanDsa.Value).And.GreaterThanOrEqualTo(dsa.Min(p => p.Value)), $"{c.Condition}: interval low");
                Assert.That(c.MeanDsa.High, Is.GreaterThanOrEqualTo(c.MeanDsa.Value).And.LessThanOrEqualTo(dsa.Max(p => p.Value)), $"{c.Condition}: interval high");
            }
            Assert.That(lines, Has.Some.Contains("ETA"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
