using System.Diagnostics;
using Engine.Analysis.PathIntegration;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Analysis;

/// <summary>The path-integration analysis end to end on a small ensemble trained in the test.</summary>
public sealed class PathIntegrationAnalysisTests
{
    private static readonly Lazy<TrainingState> Trained = new(() =>
    {
        var task = new PathIntegrationTask();
        var spec = new EnsembleSpec { Networks = 4, Hidden = 64, Inputs = task.Inputs, Outputs = task.Outputs };
        using var backend = BackendFactory.Create("cpu");
        return Trainer.Train(backend, task, spec, Ensemble.ConsecutiveSeeds(1, 4), new TrainingOptions
        {
            Trials = 32, Steps = 30, LearningRate = 3e-3, ClipNorm = 1, MaxEpochs = 300, Threshold = 5e-2,
        });
    });

    private static PathIntegrationOptions Small => new() { Trials = 900, Shuffles = 1, PruneTrials = 64, Chunk = 300 };

    [Test]
    public void Run_OnTrainedEnsemble_PruningAllInputsCostsMoreThanAsManyRandomConnections()
    {
        var sw = Stopwatch.StartNew();
        var state = Trained.Value;
        double train = sw.Elapsed.TotalSeconds;
        using var backend = BackendFactory.Create("cpu");
        var r = PathIntegrationAnalysis.Run(backend, state, Small);
        TestContext.Out.WriteLine($"train {train:F1} s, analysis {sw.Elapsed.TotalSeconds - train:F1} s (run {r.RunTime.TotalSeconds:F1}, score {r.ScoreTime.TotalSeconds:F1}, prune {r.PruneTime.TotalSeconds:F1})");
        foreach (var c in r.Pruning)
        {
            TestContext.Out.WriteLine($"{c.Label}: {c.MeanError:F3} random {c.MeanRandomError:F3} ({c.Connections.Sum()} connections)");
        }

        foreach (string line in r.Summary)
        {
            TestContext.Out.WriteLine(line);
        }

        TestContext.Out.WriteLine($"thresholds grid {r.ShuffleGridThreshold:F3} band {r.ShuffleBandThreshold:F3}; classes band {r.UnitScores.Count(u => u.Class == UnitClass.Band)} grid {r.UnitScores.Count(u => u.Class == UnitClass.Grid)}; extent {r.Extent:F2}, coverage {r.Coverage:P0}");
        Assert.That(r.RateMaps, Has.Length.EqualTo(4 * 64 * 20 * 20));
        Assert.That(r.UnitScores, Has.Length.EqualTo(4 * 64));
        Assert.That(r.NullGrid, Has.Length.EqualTo(4 * 64));
        var intact = r.Pruning.Single(c => c.Kind == "intact").MeanError;
        var untrained = r.Pruning.Single(c => c.Kind == "untrained").MeanError;
        var all = r.Pruning.Single(c => c.Kind == "all-inputs");
        Assert.That(intact, Is.LessThan(0.5 * untrained), "the networks learned to integrate");
        Assert.That(all.MeanError, Is.GreaterThan(intact + 0.6 * (untrained - intact)), "no velocity input: near an untrained network");
        Assert.That(all.MeanRandomError, Is.LessThan(intact + 0.3 * (all.MeanError - intact)), "as many random connections cost much less");
    }

    /// <summary>The place-cell output variant: the analysis decodes the population (mean centre of the 3 largest) and the trained networks beat untrained ones.</summary>
    [Test]
    public void Run_OnThePlaceCellVariant_DecodesThePopulation()
    {
        var task = new PathIntegrationTask(placeCells: 32);
        var spec = new EnsembleSpec { Networks = 2, Hidden = 48, Inputs = task.Inputs, Outputs = task.Outputs };
        using var backend = BackendFactory.Create("cpu");
        var state = Trainer.Train(backend, task, spec, Ensemble.ConsecutiveSeeds(1, 2), new TrainingOptions
        {
            Trials = 32, Steps = 30, LearningRate = 3e-3, ClipNorm = 1, MaxEpochs = 400, Threshold = 1e-6,
        });
        var r = PathIntegrationAnalysis.Run(backend, state, Small);
        var intact = r.Pruning.Single(c => c.Kind == "intact").MeanError;
        var untrained = r.Pruning.Single(c => c.Kind == "untrained").MeanError;
        TestContext.Out.WriteLine($"place cells: intact {intact:F3}, untrained {untrained:F3}");
        Assert.That(intact, Is.LessThan(0.75 * untrained), "decoded positions of trained networks are closer than an untrained network's");
        Assert.That(r.UnitScores, Has.Length.EqualTo(2 * 48));
    }

    /// <summary>A network with non-finite parameters is a status: left out (with its reason) of the classes, the null and the pruning means, which stay those of the others.</summary>
    [Test]
    public void Run_WithANonFiniteNetwork_LeavesItOut()
    {
        var trained = Trained.Value;
        var p = (float[])trained.Ensemble.Parameters.Clone();
        trained.Ensemble.Layout.WRec(p, 2)[0] = float.NaN;
        var broken = new TrainingState(new Ensemble(trained.Ensemble.Spec, trained.Ensemble.Seeds, p), trained.TaskName, trained.TaskSettings, trained.Options);
        using var backend = BackendFactory.Create("cpu");
        var r = PathIntegrationAnalysis.Run(backend, broken, Small);
        Assert.That(r.LeftOut.Keys, Is.EqualTo(new[] { 2 }));
        var intact = r.Pruning.Single(c => c.Kind == "intact");
        Assert.That(double.IsNaN(intact.Error[2]), Is.True);
        Assert.That(double.IsFinite(intact.MeanError), Is.True);
        Assert.That(r.UnitScores.Where(u => u.Network == 2).All(u => u.Class == UnitClass.Neither && !u.PassesGrid && !u.PassesBand), Is.True);
    }

    [Test]
    public void Run_RejectsAnotherTask()
    {
        var task = new FlipFlopTask(3);
        var spec = new EnsembleSpec { Networks = 1, Hidden = 8, Inputs = 3, Outputs = 3 };
        var state = Initializer.NewRun(spec, [1], task.Name, task.Settings, new TrainingOptions());
        using var backend = BackendFactory.Create("cpu");
        Assert.That(() => PathIntegrationAnalysis.Run(backend, state, Small, "DIR"),
            Throws.ArgumentException.With.Message.Contains("run DIR was trained on task 'flipflop', analyze pathint needs 'pathint'"));
    }

    [Test]
    public void Run_RejectsTooFewTrials()
    {
        var task = new PathIntegrationTask();
        var spec = new EnsembleSpec { Networks = 1, Hidden = 8, Inputs = task.Inputs, Outputs = task.Outputs };
        var state = Initializer.NewRun(spec, [1], task.Name, task.Settings, new TrainingOptions { Steps = 30 });
        using var backend = BackendFactory.Create("cpu");
        Assert.That(() => PathIntegrationAnalysis.Run(backend, state, Small with { Trials = 5 }),
            Throws.ArgumentException.With.Message.Contains("too few samples to fill the rate maps"));
    }
}
