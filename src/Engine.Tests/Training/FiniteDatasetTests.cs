using System.Security.Cryptography;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>Finite-dataset mode: batches come only from the fixed training set, a resume sees the same batches, the held-out test error is recorded, and the mode off changes nothing.</summary>
public sealed class FiniteDatasetTests
{
    private static readonly QSparseTask Task = new(length: 3, q: 1, dimension: 2, QSparseVariant.Simplified);

    private static EnsembleSpec Spec(int networks) => new() { Networks = networks, Hidden = 8, Inputs = Task.Inputs, Outputs = 1 };

    private static TrainingOptions Finite(int[] samples) => new()
    {
        Trials = 4, LearningRate = 1e-2, MaxEpochs = 20, Threshold = 0, CheckpointEvery = 5, TrainSamplesPerNetwork = samples, TestEvery = 5, TestTrials = 16,
        ProbeTrials = 0,
    };

    private static float[] Sample(long seed, int index)
    {
        int steps = Task.DefaultSteps;
        var x = new float[steps * Task.Inputs];
        Trainer.TrainingSample(Task, seed, index, steps, x, new float[steps], new float[steps]);
        return x;
    }

    [Test]
    public void FillBatch_DrawsOnlyTheGivenSamples_EachOncePerPass()
    {
        const int n = 10, b = 4, epochs = 5;
        long[] seeds = [21, 22];
        var options = new TrainingOptions { Trials = b, TrainSamplesPerNetwork = [n, 3] };
        var batch = TrialBatch.For(Spec(2), 2, b, Task.DefaultSteps);
        int per = Task.DefaultSteps * Task.Inputs;
        var training = Enumerable.Range(0, n).Select(i => Sample(seeds[0], i)).ToArray();
        var drawn = new List<int>();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            Trainer.FillBatch(Task, seeds, epoch, batch, [1, 1], options);
            for (int t = 0; t < b; t++)
            {
                var x = batch.Inputs.AsSpan(t * per, per).ToArray();
                int match = Array.FindIndex(training, s => s.AsSpan().SequenceEqual(x));
                Assert.That(match, Is.GreaterThanOrEqualTo(0), $"epoch {epoch} trial {t} is one of the {n} training samples");
                drawn.Add(match);
            }

            for (int t = 0; t < b; t++)
            {
                var x = batch.Inputs.AsSpan((b + t) * per, per).ToArray();
                Assert.That(Enumerable.Range(0, 3).Any(i => Sample(seeds[1], i).AsSpan().SequenceEqual(x)), "network 1 reads only its own 3 samples");
            }
        }

        Assert.That(drawn.Take(n), Is.EquivalentTo(Enumerable.Range(0, n)), "the first pass is a permutation of the training set");
        Assert.That(drawn.Skip(n).Take(n), Is.EquivalentTo(Enumerable.Range(0, n)), "so is the second (which starts inside epoch 2)");
        Assert.That(drawn.Take(n), Is.Not.EqualTo(drawn.Skip(n).Take(n)), "each pass has its own shuffle");
        var again = new int[b];
        Trainer.DatasetBatch(seeds[0], n, 3, again);
        Assert.That(again, Is.EqualTo(drawn.Skip(3 * b).Take(b)), "a batch is a function of (seed, n, epoch)");
    }

    [Test]
    public void Training_RecordsHeldOutTestError_AndMemorisesATinySet()
    {
        using var backend = BackendFactory.Create("cpu", 2);
        var state = Trainer.Train(backend, Task, Spec(2), [5, 5], Finite([4, 64]) with { MaxEpochs = 300, TestEvery = 50, LearningRate = 2e-2 });
        foreach (var r in state.Networks)
        {
            Assert.That(double.IsFinite(r.TestLoss) && r.BestTestLoss <= r.TestLoss && r.BestTestEpoch > 0, $"{r}");
        }

        var tiny = state.Networks[0];
        Assert.That(tiny.LastLoss, Is.LessThan(0.2 * tiny.TestLoss), "4 samples are memorised: the training error is far below the held-out error");
    }

    [Test]
    public void ResumedFiniteRun_EqualsUninterrupted_AndNetworksEqualTrainedAlone()
    {
        using var backend = BackendFactory.Create("cpu", 2);
        long[] seeds = [3, 4, 5];
        var options = Finite([5, 9, 2]);
        var full = Trainer.Train(backend, Task, Spec(3), seeds, options);
        using var stop = new CancellationTokenSource();
        string dir = Directory.CreateTempSubdirectory("finite").FullName;
        string path = Path.Combine(dir, "c.rnn");
        try
        {
            Trainer.Train(backend, Task, Spec(3), seeds, options, onEpoch: r =>
            {
                if (r.Epoch == 7)
                {
                    stop.Cancel();
                }
            }, onCheckpoint: s => Checkpoint.Save(path, s), cancel: stop.Token);
            var resumed = Trainer.Train(backend, Task, Checkpoint.Load(path));
            Assert.That(resumed.Ensemble.Parameters, Is.EqualTo(full.Ensemble.Parameters), "the resumed run saw the same batches");
            Assert.That(resumed.Networks.Select(n => (n.LastLoss, n.BestTestLoss)), Is.EqualTo(full.Networks.Select(n => (n.LastLoss, n.BestTestLoss))));
            Assert.That(resumed.Options.TrainSamplesPerNetwork, Is.EqualTo(new[] { 5, 9, 2 }), "the sizes travel in the checkpoint");
        }
        finally
        {
            Directory.Delete(dir, true);
        }

        var alone = Trainer.Train(backend, Task, Spec(1), [seeds[1]], options with { TrainSamplesPerNetwork = null, TrainSamples = 9 });
        Assert.That(alone.Ensemble.Parameters, Is.EqualTo(full.Ensemble.Layout.Network(full.Ensemble.Parameters, 1).ToArray()));
        Assert.That(alone.Networks[0], Is.EqualTo(full.Networks[1]));
    }

    [Test]
    public void EarlyStopping_StopsANetworkWhoseTestErrorStopsImproving()
    {
        using var backend = BackendFactory.Create("cpu", 1);
        var state = Trainer.Train(backend, Task, Spec(1), [8], Finite([2]) with { MaxEpochs = 2000, TestEvery = 10, TestPatience = 3, LearningRate = 5e-2 });
        var r = state.Networks[0];
        Assert.That(r.Status, Is.EqualTo(NetworkStatus.Converged));
        Assert.That(r.Epochs, Is.LessThan(2000));
        Assert.That(state.Epoch, Is.EqualTo(r.BestTestEpoch + 3 * 10), "stopped three measurements after its best");
    }

    /// <summary>
    /// The mode off must leave training exactly as it was: this hash of a short flip-flop run's parameters and records was taken on the
    /// trainer before the finite-dataset mode existed (main at 488b3aa).
    /// </summary>
    [Test]
    public void ModeOff_TrainingIsBitIdenticalToBefore()
    {
        using var backend = BackendFactory.Create("cpu", 2);
        var task = new FlipFlopTask(2);
        var spec = new EnsembleSpec { Networks = 3, Hidden = 7, Inputs = 2, Outputs = 2, NoiseStd = 0.05f };
        var state = Trainer.Train(backend, task, spec, [1, 2, 3], new TrainingOptions { Trials = 5, Steps = 9, MaxEpochs = 15, LearningRate = 1e-2, ProbeTrials = 0 });
        var bytes = new byte[state.Ensemble.Parameters.Length * 4];
        Buffer.BlockCopy(state.Ensemble.Parameters, 0, bytes, 0, bytes.Length);
        string losses = string.Join(",", state.Networks.Select(n => n.LastLoss.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        string hash = Convert.ToHexString(SHA256.HashData([.. bytes, .. System.Text.Encoding.UTF8.GetBytes(losses)]));
        TestContext.Out.WriteLine(hash);
        Assert.That(hash, Is.EqualTo(ExpectedHash));
    }

    private const string ExpectedHash = "155222A02C60B67349B91C11D5802AB4450102CB193CC3B7FD0C29DA7DB1B2A1";

    [Test]
    public void BadOptions_AreNamedErrors()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new TrainingOptions { TrainSamplesPerNetwork = [4, 4] }.Validate(3))!.Message,
            Does.Contain("TrainSamplesPerNetwork has 2 elements, expected 3"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { TrainSamplesPerNetwork = [4, 0] }.Validate(2))!.ParamName,
            Is.EqualTo("TrainSamplesPerNetwork[1]"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { TrainSamples = -1 }.Validate(1))!.ParamName, Is.EqualTo("TrainSamples"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { TestEvery = 0 }.Validate(1))!.ParamName, Is.EqualTo("TestEvery"));
    }
}
