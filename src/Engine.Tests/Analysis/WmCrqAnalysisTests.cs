using Engine.Analysis.Crq;
using Engine.Analysis.WorkingMemory;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Analysis;

/// <summary>The working-memory and CRQ measurements on small trained and broken ensembles.</summary>
[NonParallelizable]
public sealed class WmCrqAnalysisTests
{
    /// <summary>Two noisy leaky networks trained with r = 10 on [0°, 45°) and 1 elsewhere (4 bins), short delays.</summary>
    private static readonly Lazy<TrainingState> Rewarded = new(() => TrainWm("10,1,1,1"));

    private static TrainingState TrainWm(string reward)
    {
        var task = TaskRegistry.Create("wm-orientation", new Dictionary<string, string>
        {
            ["delays"] = "4,8", ["stimulus"] = "3", ["response"] = "3", ["reward_bins"] = "4", ["reward"] = reward,
        });
        var spec = new EnsembleSpec { Networks = 2, Hidden = 32, Inputs = task.Inputs, Outputs = task.Outputs, Cell = CellType.Leaky, Alpha = 0.2f, NoiseStd = 0.5f };
        var options = new TrainingOptions { Trials = 64, LearningRate = 1e-3, ClipNorm = 1, MaxEpochs = 1000, Threshold = 1e-5, ProbeTrials = 0 };
        using var backend = BackendFactory.Create("cpu");
        return Trainer.Train(backend, task, spec, [0, 1], options);
    }

    [Test]
    public void RewardWeightedNetwork_ErrorSpreadIsLowerAtTheRewardedOrientations()
    {
        using var backend = BackendFactory.Create("cpu");
        var r = OrientationMemoryAnalysis.Run(backend, Rewarded.Value, new OrientationMemoryOptions { Bins = 8, Repeats = 64 });
        Assert.That(r.RewardFromTask, Is.True);
        Assert.That(r.LeftOut, Is.Empty);
        for (int d = 0; d < r.Delays.Length; d++)
        {
            double high = Enumerable.Range(0, 2).Average(k => r.Sd[d * 8 + k]), low = Enumerable.Range(2, 6).Average(k => r.Sd[d * 8 + k]);
            TestContext.Out.WriteLine($"delay {r.Delays[d]}: SD rewarded {high * 180 / Math.PI:F2} deg, others {low * 180 / Math.PI:F2} deg");
            Assert.That(high, Is.LessThan(0.85 * low), $"delay {r.Delays[d]}");
            Assert.That(r.RewardContrast[d], Is.EqualTo(low - high).Within(1e-12));
        }
    }

    [Test]
    public void Wm_SameSeedSameNumbers_AndANonFiniteNetworkIsLeftOut()
    {
        using var backend = BackendFactory.Create("cpu");
        var options = new OrientationMemoryOptions { Bins = 4, Repeats = 4 };
        var trained = Rewarded.Value;
        var a = OrientationMemoryAnalysis.Run(backend, trained, options);
        var b = OrientationMemoryAnalysis.Run(backend, trained, options);
        Assert.That(a.Sd, Is.EqualTo(b.Sd));
        var p = (float[])trained.Ensemble.Parameters.Clone();
        trained.Ensemble.Layout.WRec(p, 1)[0] = float.NaN;
        var broken = new TrainingState(new Ensemble(trained.Ensemble.Spec, trained.Ensemble.Seeds, p), trained.TaskName, trained.TaskSettings, trained.Options);
        var r = OrientationMemoryAnalysis.Run(backend, broken, options);
        Assert.That(r.Networks, Is.EqualTo(new[] { 0 }));
        Assert.That(r.LeftOut.Single().Network, Is.EqualTo(1));
        Assert.That(r.Sd, Has.All.Matches<double>(double.IsFinite));
        var dir = Directory.CreateTempSubdirectory("wm-files").FullName;
        try
        {
            OrientationMemoryFiles.Write([r], options, f => Path.Combine(dir, f));
            Assert.That(File.ReadAllText(Path.Combine(dir, "wm.json")), Does.Contain("\"reason\": \"non-finite parameters\""));
            Assert.That(File.ReadAllLines(Path.Combine(dir, "wm.csv")), Has.Length.EqualTo(1 + 2 * 4));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void Crq_UntrainedNetworksNearChance_OutputEqualToTheAnswerIsRight_NonFiniteLeftOut()
    {
        var task = new CrqTask(2, 2, 8);
        var spec = new EnsembleSpec { Networks = 3, Hidden = 16, Inputs = task.Inputs, Outputs = task.Outputs };
        var ens = Ensemble.Initialize(spec, [1, 2, 3]);
        var p = (float[])ens.Parameters.Clone();
        ens.Layout.WRec(p, 2)[0] = float.NaN;
        var state = new TrainingState(new Ensemble(spec, ens.Seeds, p), task.Name, task.Settings, new TrainingOptions());
        using var backend = BackendFactory.Create("cpu");
        var r = CrqAnalysis.Run(backend, state, trials: 400);
        Assert.That(r.LeftOut.Select(l => l.Network), Is.EqualTo(new[] { 2 }));
        Assert.That(double.IsNaN(r.Accuracy[2]), Is.True);
        Assert.That(r.Healthy, Has.All.InRange(0.1, 0.45), "4 leaves: chance 0.25");
        Assert.Throws<ArgumentException>(() => CrqAnalysis.Run(backend, Rewarded.Value));
        Assert.Throws<ArgumentException>(() => OrientationMemoryAnalysis.Run(backend, state, new OrientationMemoryOptions()));
    }
}
