using Engine.FixedPointRnn;
using NUnit.Framework;

namespace Engine.Tests.FixedPointRnn;

/// <summary>Training: determinism over thread counts, the run files round trip, and named errors for bad settings.</summary>
public sealed class FpRnnTrainingTests
{
    private static FpRnnEnsemble Small(int threads, FpIteration? iteration = null) => FpRnnEnsemble.Create(
        new ModularCountTask(4), networks: 3, hidden: 6, reflections: 2, iteration ?? new FpIteration { MaxIterations = 50, Tolerance = 1e-4 },
        new FpTrainOptions { Trials = 8, TrainLength = 8, MaxSteps = 15, Threads = threads, LearningRate = 1e-2 }, seed: 7);

    [Test]
    public void Train_IsDeterministic_AcrossThreadCounts()
    {
        foreach (var it in new[] { new FpIteration { Iterations = 3 }, new FpIteration { MaxIterations = 50, Tolerance = 1e-4 } })
        {
            var one = Small(1, it);
            var many = Small(3, it);
            FpRnnTrainer.Train(one);
            FpRnnTrainer.Train(many);
            Assert.That(many.Parameters, Is.EqualTo(one.Parameters), it.Label);
            Assert.That(one.Steps, Is.All.EqualTo(15));
            var initial = Small(1, it);
            Assert.That(one.Parameters, Is.Not.EqualTo(initial.Parameters), "training moved the parameters");
        }
    }

    [Test]
    public void Files_RoundTrip()
    {
        var ens = Small(1);
        FpRnnTrainer.Train(ens);
        string dir = Path.Combine(Path.GetTempPath(), "fprnn-files-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(dir);
            FpRnnFiles.Save(dir, ens);
            var back = FpRnnFiles.Load(dir);
            Assert.That(back.Parameters, Is.EqualTo(ens.Parameters));
            Assert.That(back.Spec, Is.EqualTo(ens.Spec));
            Assert.That(back.Iteration, Is.EqualTo(ens.Iteration));
            Assert.That(back.Task.Settings["modulus"], Is.EqualTo("4"));
            Assert.That(back.Status, Is.EqualTo(ens.Status));
            File.WriteAllText(Path.Combine(dir, FpRnnFiles.ManifestName), "{\"Format\":\"other\"}");
            Assert.Throws<InvalidDataException>(() => FpRnnFiles.Load(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void BadSettings_AreNamedErrors()
    {
        var task = new ParityTask();
        var opt = new FpTrainOptions();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => FpRnnEnsemble.Create(task, 2, 4, 5, new FpIteration(), opt, 0))!;
        Assert.That(e.Message, Does.Contain("reflections").And.Contain("hidden = 4").And.Contain("5"));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => FpRnnEnsemble.Create(task, 2, 4, 2, new FpIteration { Iterations = 0 }, opt, 0))!;
        Assert.That(e.Message, Does.Contain("iterations").And.Contain("at least 1"));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => FpRnnEnsemble.Create(task, 2, 4, 2, new FpIteration { Tolerance = -1 }, opt, 0))!;
        Assert.That(e.Message, Does.Contain("tolerance"));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => FpRnnEnsemble.Create(task, 0, 4, 2, new FpIteration(), opt, 0))!;
        Assert.That(e.Message, Does.Contain("networks"));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => FpRnnEnsemble.Create(new CopyTask(3), 1, 4, 2, new FpIteration(), opt with { TrainLength = 3 }, 0))!;
        Assert.That(e.Message, Does.Contain("train-length"));
        var core = new FpRnnCore<double>(new FpRnnSpec { Hidden = 3, Vocab = 2, Classes = 2, Reflections = 1 });
        var p = new double[core.GetType() == typeof(FpRnnCore<double>) ? new FpRnnSpec { Hidden = 3, Vocab = 2, Classes = 2, Reflections = 1 }.Stride : 0];
        var ae = Assert.Throws<ArgumentOutOfRangeException>(() => core.Forward(p, [0, 2], 1, 2, new FpIteration { Iterations = 1 }, false))!;
        Assert.That(ae.Message, Does.Contain("tokens[1] = 2"));
        Assert.Throws<ArgumentException>(() => core.Forward(p, [0, 1, 1], 1, 2, new FpIteration { Iterations = 1 }, false));
    }

    [Test]
    public void Divergence_IsAStatus_NotACrash()
    {
        var ens = Small(1, new FpIteration { Iterations = 2 });
        // A huge embedding makes the loss overflow float32 at the first step.
        for (int e = 0; e < 3; e++)
        {
            var p = ens.Network(e);
            p.Slice(ens.Spec.EmbedOffset, ens.Spec.Vocab * ens.Spec.Hidden).Fill(e == 1 ? 3e38f : 0.1f);
        }

        FpRnnTrainer.Train(ens);
        Assert.That(ens.Status[1], Is.EqualTo(FpNetworkStatus.Diverged));
        Assert.That(ens.Status[0], Is.Not.EqualTo(FpNetworkStatus.Diverged));
    }
}
