using Engine.Backends;
using Engine.IO;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>Determinism, independence and resume of the trainer on the CPU backend.</summary>
public sealed class TrainerTests
{
    private static readonly FlipFlopTask Task = new(3);
    private static readonly TrainingOptions Options = new() { Trials = 6, Steps = 12, LearningRate = 5e-3, MaxEpochs = 12, CheckpointEvery = 4 };

    private static EnsembleSpec Spec(int networks) => new() { Networks = networks, Hidden = 9, Inputs = 3, Outputs = 3, NoiseStd = 0.05f };

    private static TrainingState Train(string backend, int threads, EnsembleSpec spec, long[] seeds, TrainingOptions options)
    {
        using var b = BackendFactory.Create(backend, threads);
        return Trainer.Train(b, Task, spec, seeds, options);
    }

    [Test]
    public void SameSeed_GivesBitIdenticalCheckpoints_With1And2Threads()
    {
        string dir = Directory.CreateTempSubdirectory("det").FullName;
        try
        {
            var seeds = Ensemble.ConsecutiveSeeds(3, 4);
            Checkpoint.Save(Path.Combine(dir, "t1.rnn"), Train("cpu", 1, Spec(4), seeds, Options));
            Checkpoint.Save(Path.Combine(dir, "t2.rnn"), Train("cpu", 2, Spec(4), seeds, Options));
            Assert.That(File.ReadAllBytes(Path.Combine(dir, "t2.rnn")), Is.EqualTo(File.ReadAllBytes(Path.Combine(dir, "t1.rnn"))));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void NetworkTrainedInEnsembleOf8_EqualsSameNetworkTrainedAlone()
    {
        var seeds = Ensemble.ConsecutiveSeeds(100, 8);
        var ensemble = Train("cpu", 2, Spec(8), seeds, Options);
        var alone = Train("cpu", 2, Spec(1), [seeds[5]], Options);
        var layout = ensemble.Ensemble.Layout;
        Assert.That(alone.Ensemble.Parameters, Is.EqualTo(layout.Network(ensemble.Ensemble.Parameters, 5).ToArray()));
        Assert.That(alone.Networks[0], Is.EqualTo(ensemble.Networks[5]));
    }

    [Test]
    public void ResumedRun_EqualsUninterruptedRun()
    {
        var seeds = Ensemble.ConsecutiveSeeds(7, 3);
        var full = Train("cpu", 2, Spec(3), seeds, Options);

        using var backend = BackendFactory.Create("cpu");
        using var stop = new CancellationTokenSource();
        TrainingState? saved = null;
        string dir = Directory.CreateTempSubdirectory("resume").FullName;
        string path = Path.Combine(dir, "c.rnn");
        Trainer.Train(backend, Task, Spec(3), seeds, Options,
            onEpoch: r =>
            {
                if (r.Epoch == 6)
                {
                    stop.Cancel();
                }
            },
            onCheckpoint: s =>
            {
                Checkpoint.Save(path, s);
                saved = s;
            },
            cancel: stop.Token);
        Assert.That(saved!.Epoch, Is.EqualTo(6), "cancellation checkpoints the last completed epoch");
        var resumed = Trainer.Train(backend, Task, Checkpoint.Load(path));
        Directory.Delete(dir, true);
        Assert.That(resumed.Epoch, Is.EqualTo(full.Epoch));
        Assert.That(resumed.Ensemble.Parameters, Is.EqualTo(full.Ensemble.Parameters));
        Assert.That(resumed.FirstMoment, Is.EqualTo(full.FirstMoment));
        Assert.That(resumed.Networks, Is.EqualTo(full.Networks));
    }

    [Test]
    public void DivergingNetwork_StopsAlone_OthersUnaffected()
    {
        var spec = new EnsembleSpec { Networks = 3, Hidden = 8, Inputs = 3, Outputs = 3, Activation = ActivationKind.Identity };
        var seeds = Ensemble.ConsecutiveSeeds(11, 3);
        var wild = Options with { LearningRates = [1e-3, 10, 1e-3], Steps = 40, MaxEpochs = 30 };
        var tame = wild with { LearningRates = [1e-3, 1e-3, 1e-3] };
        var a = Train("cpu", 2, spec, seeds, wild);
        var b = Train("cpu", 2, spec, seeds, tame);
        Assert.That(a.Networks[1].Status, Is.EqualTo(NetworkStatus.Diverged));
        Assert.That(a.Ensemble.Parameters.Take(spec.Layout.Stride).ToArray(), Is.EqualTo(b.Ensemble.Parameters.Take(spec.Layout.Stride).ToArray()));
        Assert.That(a.Networks[2], Is.EqualTo(b.Networks[2]));
        Assert.That(a.Ensemble.Layout.Network(a.Ensemble.Parameters, 1).ToArray(), Has.All.Matches<float>(float.IsFinite), "a diverged network keeps its last finite parameters");
    }

    [Test]
    public void Train_RejectsTaskOfOtherShape()
    {
        using var backend = BackendFactory.Create("cpu");
        var e = Assert.Throws<ArgumentException>(() => Trainer.Train(backend, new FlipFlopTask(2), Spec(2), [1, 2], Options));
        Assert.That(e!.Message, Does.Contain("2 inputs"));
    }

    [Test]
    public void Run_RejectsNonFiniteInputs_AndMismatchedShapes()
    {
        var ens = Ensemble.Initialize(Spec(2), [1, 2]);
        using var backend = BackendFactory.Create("cpu");
        var batch = TrialBatch.For(ens.Spec, 1, 2, 3);
        batch.Inputs[4] = float.NaN;
        Assert.That(Assert.Throws<ArgumentException>(() => ens.Run(backend, batch))!.Message, Does.Contain("batch.Inputs[4] is NaN"));
        var wrong = new TrialBatch(1, 2, 3, 2, 3);
        Assert.That(Assert.Throws<ArgumentException>(() => ens.Run(backend, wrong))!.Message, Does.Contain("2 channels; the ensemble expects 3"));
        var sets = new TrialBatch(3, 2, 3, 3, 3, 2, 9);
        Assert.That(Assert.Throws<ArgumentException>(() => ens.Run(backend, sets))!.Message, Does.Contain("3 trial sets"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrialBatch(1, -1, 3, 3, 3));
    }

    [TestCase("gpu9")]
    [TestCase("")]
    public void BackendFactory_RejectsUnknownName(string name)
        => Assert.That(Assert.Throws<ArgumentException>(() => BackendFactory.Create(name))!.Message, Does.Contain("Unknown backend"));

    [Test]
    public void BackendFactory_Cuda_IsAnErrorWhenAbsent_NotAFallback()
    {
        if (Engine.Backends.Ilgpu.IlgpuBackend.IsAvailable(Engine.Backends.Ilgpu.IlgpuDevice.Cuda))
        {
            Assert.Ignore("this machine has a CUDA device");
        }

        Assert.Throws<BackendUnavailableException>(() => BackendFactory.Create("cuda"));
        using var auto = BackendFactory.Create("auto");
        Assert.That(auto.Name, Is.EqualTo("cpu"));
    }
}
