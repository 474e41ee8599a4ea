using Engine.Backends;
using Engine.IO;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>Training regimes end to end: per-network factors inside one ensemble, low rank, µP, resume with all of them.</summary>
public sealed class RegimeTrainingTests
{
    private static readonly FlipFlopTask Task = new(2);

    private static EnsembleSpec Spec(int networks, CellType cell = CellType.Discrete)
        => new() { Networks = networks, Hidden = 8, Inputs = 2, Outputs = 2, Cell = cell, Alpha = cell == CellType.Discrete ? 1f : 0.1f };

    [Test]
    public void DifferentFactorsInOneEnsemble_EqualEachNetworkTrainedAloneWithItsOwnSettings()
    {
        var seeds = new long[] { 5, 6, 7 };
        var options = new TrainingOptions
        {
            Trials = 4, Steps = 10, MaxEpochs = 15, ProbeTrials = 2,
            LearningRates = [1e-3, 5e-3, 2e-3], L1PerNetwork = [0, 1e-3, 0], L2PerNetwork = [1e-2, 0, 0], NuclearPerNetwork = [0, 0, 1e-2],
        };
        using var backend = BackendFactory.Create("cpu");
        var together = Trainer.Train(backend, Task, Spec(3), seeds, options);
        for (int e = 0; e < 3; e++)
        {
            var alone = options with
            {
                LearningRates = [options.LearningRates[e]], L1PerNetwork = [options.L1PerNetwork[e]],
                L2PerNetwork = [options.L2PerNetwork[e]], NuclearPerNetwork = [options.NuclearPerNetwork[e]],
            };
            var single = Trainer.Train(backend, Task, Spec(1), [seeds[e]], alone);
            Assert.That(single.Ensemble.Parameters, Is.EqualTo(together.Ensemble.Layout.Network(together.Ensemble.Parameters, e).ToArray()), $"network {e}");
            Assert.That(single.KernelAlignment[0], Is.EqualTo(together.KernelAlignment[e]), $"kernel alignment of network {e}");
        }
    }

    [Test]
    public void LowRank_KeepsWAtRankR_AndResumesExactly()
    {
        var seeds = new long[] { 1, 2 };
        var options = new TrainingOptions { Trials = 4, Steps = 10, MaxEpochs = 12, CheckpointEvery = 4, Rank = 2, L1 = 1e-3, LearningRate = 1e-2, ProbeTrials = 0 };
        using var backend = BackendFactory.Create("cpu");
        var full = Trainer.Train(backend, Task, Spec(2), seeds, options);
        var w = full.Ensemble.Layout.WRec(full.Ensemble.Parameters, 1).ToArray();
        var svd = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(8, 8, (i, j) => w[i * 8 + j]).Svd(false);
        Assert.That(svd.S[2] / svd.S[0], Is.LessThan(1e-5), "W stays rank 2");
        Assert.That(full.WeightChange, Has.All.GreaterThan(0));

        string dir = Directory.CreateTempSubdirectory("lowrank").FullName;
        try
        {
            using var stop = new CancellationTokenSource();
            string path = Path.Combine(dir, "c.rnn");
            Trainer.Train(backend, Task, Spec(2), seeds, options,
                onEpoch: r =>
                {
                    if (r.Epoch == 5)
                    {
                        stop.Cancel();
                    }
                },
                onCheckpoint: s => Checkpoint.Save(path, s), cancel: stop.Token);
            var resumed = Trainer.Train(backend, Task, Checkpoint.Load(path));
            Assert.That(resumed.Ensemble.Parameters, Is.EqualTo(full.Ensemble.Parameters));
            Assert.That(resumed.Factors, Is.EqualTo(full.Factors));
            Assert.That(resumed.Networks, Is.EqualTo(full.Networks));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void MuP_OnTheReference_LearningRateScalesWithGamma_AndFeatureLearningIsRecorded()
    {
        var options = new TrainingOptions
        {
            Trials = 4, Steps = 8, MaxEpochs = 6, Parameterization = Parameterization.MuP, GammaPerNetwork = [0.5, 4], LearningRate = 1e-3, ProbeTrials = 2,
        };
        using var backend = BackendFactory.Create("reference");
        var reports = new List<EpochReport>();
        var state = Trainer.Train(backend, Task, Spec(2, CellType.Rate), [3, 4], options, onEpoch: reports.Add);
        Assert.That(reports[0].LearningRates, Is.EqualTo(new[] { 0.5e-3, 4e-3 }).Within(1e-15));
        Assert.That(state.WeightChange, Has.All.GreaterThan(0));
        Assert.That(state.KernelAlignment, Has.All.InRange(-1.0, 1.0 + 1e-9));
        Assert.That(state.WeightChange[1], Is.GreaterThan(state.WeightChange[0]), "larger γ, larger steps on W");
    }

    [Test]
    public void Plateau_HalvesTheLearningRate_WhenTheSmoothedLossStopsImproving()
    {
        var options = new TrainingOptions { Trials = 2, Steps = 5, MaxEpochs = 60, LearningRate = 0, PlateauPatience = 5, ProbeTrials = 0 };
        using var backend = BackendFactory.Create("cpu");
        var lrs = new List<double>();
        var state = Trainer.Train(backend, Task, Spec(1), [1], options with { LearningRates = [1e-9] }, onEpoch: r => lrs.Add(r.LearningRates[0]));
        Assert.That(state.Networks[0].LrScale, Is.LessThan(1.0));
        Assert.That(lrs[^1], Is.LessThan(lrs[0]));
    }
}
