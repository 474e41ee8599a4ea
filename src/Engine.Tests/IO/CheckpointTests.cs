using Engine.IO;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.IO;

public sealed class CheckpointTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("ckpt").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static TrainingState SampleState()
    {
        var spec = new EnsembleSpec { Networks = 3, Hidden = 5, Inputs = 2, Outputs = 2, Cell = CellType.Leaky, Alpha = 0.3f, InitialState = InitialStateKind.Learned, NoiseStd = 0.1f };
        var task = new FlipFlopTask(2);
        var state = new TrainingState(Ensemble.Initialize(spec, [4, 5, 6]), task.Name, task.Settings, new TrainingOptions { Trials = 7, LearningRates = [1e-3, 2e-3, 3e-3] })
        {
            Epoch = 17,
        };
        var rng = new Random(1);
        for (int i = 0; i < state.FirstMoment.Length; i++)
        {
            state.FirstMoment[i] = (float)rng.NextDouble();
            state.SecondMoment[i] = (float)rng.NextDouble();
        }

        state.Networks[1] = new NetworkProgress { Status = NetworkStatus.Diverged, Epochs = 9, SinceThreshold = -1, LastLoss = double.NaN };
        state.Networks[2] = new NetworkProgress { Status = NetworkStatus.Converged, Epochs = 12, SinceThreshold = 3, LastLoss = 1e-4 };
        return state;
    }

    [Test]
    public void SaveLoad_RoundTripsEverything()
    {
        var state = SampleState();
        string path = Path.Combine(_dir, "a.rnn");
        Checkpoint.Save(path, state);
        var back = Checkpoint.Load(path);
        Assert.That(back.Ensemble.Spec, Is.EqualTo(state.Ensemble.Spec));
        Assert.That(back.Ensemble.Parameters, Is.EqualTo(state.Ensemble.Parameters));
        Assert.That(back.Ensemble.Seeds, Is.EqualTo(state.Ensemble.Seeds));
        Assert.That(back.FirstMoment, Is.EqualTo(state.FirstMoment));
        Assert.That(back.SecondMoment, Is.EqualTo(state.SecondMoment));
        Assert.That(back.Epoch, Is.EqualTo(17));
        Assert.That(back.Options.LearningRates, Is.EqualTo(state.Options.LearningRates));
        Assert.That(back.Options.Trials, Is.EqualTo(7));
        Assert.That(back.Networks, Is.EqualTo(state.Networks));
        Assert.That(back.TaskName, Is.EqualTo("flipflop"));
        Assert.That(back.TaskSettings, Is.EqualTo(state.TaskSettings));
    }

    /// <summary>Every field of the run state, each set away from its default (low-rank factors and their moments included), survives a save and a load.</summary>
    [Test]
    public void SaveLoad_RoundTripsEveryFieldOfTheRunState()
    {
        var spec = new EnsembleSpec { Networks = 2, Hidden = 4, Inputs = 1, Outputs = 1, Cell = CellType.Rate, Alpha = 0.5f };
        var options = new TrainingOptions
        {
            Trials = 5, Steps = 11, LearningRate = 2e-3, LearningRates = [1e-3, 4e-3], ClipNorm = 0.7, MaxEpochs = 123, Threshold = 2e-2,
            Patience = 4, CheckpointEvery = 9, Parameterization = Parameterization.MuP, Gamma = 1.5, GammaPerNetwork = [0.5, 2],
            Gain = 0.9, Rank = 2, L1 = 1e-5, L1PerNetwork = [1e-5, 2e-5], L2 = 3e-5, L2PerNetwork = [3e-5, 4e-5], Nuclear = 5e-5,
            NuclearPerNetwork = [5e-5, 6e-5], Activity = 7e-5, ActivityPerNetwork = [7e-5, 8e-5], PlateauPatience = 13, PlateauFactor = 0.3,
            ProbeTrials = 3,
        };
        var task = new FlipFlopTask(1);
        var state = new TrainingState(Ensemble.Initialize(spec, [21, 22]), task.Name, task.Settings, options) { Epoch = 40 };
        var rng = new Random(2);
        foreach (var block in new[] { state.Ensemble.Parameters, state.FirstMoment, state.SecondMoment, state.InitialParameters, state.Factors, state.FactorFirstMoment, state.FactorSecondMoment })
        {
            Assert.That(block, Is.Not.Empty);
            for (int i = 0; i < block.Length; i++)
            {
                block[i] = (float)(rng.NextDouble() - 0.5);
            }
        }

        state.Networks[0] = new NetworkProgress
        {
            Status = NetworkStatus.Converged, Epochs = 31, SinceThreshold = 4, LastLoss = 1e-3, LrScale = 0.25, SmoothedLoss = 9e-3, BestLoss = 8e-3, BadEpochs = 6,
        };
        state.Networks[1] = new NetworkProgress { Status = NetworkStatus.NotConverged, Epochs = 40, LastLoss = 0.2, LrScale = 0.5, SmoothedLoss = 0.21, BestLoss = 0.19, BadEpochs = 2 };
        state.WeightChange[0] = 1.25;
        state.WeightChange[1] = 2.5;
        state.KernelAlignment[0] = 0.75;
        state.KernelAlignment[1] = 0.625;

        string path = Path.Combine(_dir, "every.rnn");
        Checkpoint.Save(path, state);
        var back = Checkpoint.Load(path);

        Assert.That(back.Ensemble.Spec, Is.EqualTo(state.Ensemble.Spec));
        Assert.That(back.Ensemble.Seeds, Is.EqualTo(state.Ensemble.Seeds));
        Assert.That(back.Epoch, Is.EqualTo(40));
        Assert.That(back.TaskName, Is.EqualTo(state.TaskName));
        Assert.That(back.TaskSettings, Is.EqualTo(state.TaskSettings));
        Assert.That(System.Text.Json.JsonSerializer.Serialize(back.Options), Is.EqualTo(System.Text.Json.JsonSerializer.Serialize(state.Options)), "every option");
        Assert.That(back.Networks, Is.EqualTo(state.Networks), "every per-network record field");
        Assert.That(back.Ensemble.Parameters, Is.EqualTo(state.Ensemble.Parameters));
        Assert.That(back.FirstMoment, Is.EqualTo(state.FirstMoment));
        Assert.That(back.SecondMoment, Is.EqualTo(state.SecondMoment));
        Assert.That(back.InitialParameters, Is.EqualTo(state.InitialParameters));
        Assert.That(back.Factors, Is.EqualTo(state.Factors));
        Assert.That(back.FactorFirstMoment, Is.EqualTo(state.FactorFirstMoment));
        Assert.That(back.FactorSecondMoment, Is.EqualTo(state.FactorSecondMoment));
        Assert.That(back.WeightChange, Is.EqualTo(state.WeightChange));
        Assert.That(back.KernelAlignment, Is.EqualTo(state.KernelAlignment));
    }

    [Test]
    public void Save_NullState_IsAnArgumentError() =>
        Assert.Throws<ArgumentNullException>(() => Checkpoint.Save(Path.Combine(_dir, "null.rnn"), null!));

    [Test]
    public void Load_RejectsTruncatedCheckpoint()
    {
        string path = Path.Combine(_dir, "t.rnn");
        Checkpoint.Save(path, SampleState());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("truncated"));
    }

    [Test]
    public void Load_RejectsCorruptedPayload()
    {
        string path = Path.Combine(_dir, "c.rnn");
        Checkpoint.Save(path, SampleState());
        var bytes = File.ReadAllBytes(path);
        bytes[^60] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.That(e!.Message, Does.Contain("checksum"));
    }

    [Test]
    public void Load_RejectsOtherFormatsAndVersions()
    {
        string other = Path.Combine(_dir, "x.npy");
        Npy.Write(other, new float[] { 1, 2, 3 }, 3);
        Assert.That(Assert.Throws<InvalidDataException>(() => Checkpoint.Load(other))!.Message, Does.Contain("not an engine checkpoint"));

        string path = Path.Combine(_dir, "v.rnn");
        Checkpoint.Save(path, SampleState());
        var bytes = File.ReadAllBytes(path);
        bytes[8] = 99;
        File.WriteAllBytes(path, bytes);
        Assert.That(Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path))!.Message, Does.Contain("version 99"));

        Assert.That(Assert.Throws<InvalidDataException>(() => Checkpoint.Load(Path.Combine(_dir, "missing.rnn")))!.Message, Does.Contain("cannot read"));
    }

    [Test]
    public void Npy_RoundTrips_WithNumpyHeader()
    {
        string path = Path.Combine(_dir, "a.npy");
        var data = Enumerable.Range(0, 24).Select(i => i * 0.5f).ToArray();
        Npy.Write(path, data, 2, 3, 4);
        var (back, shape) = Npy.ReadFloat32(path);
        Assert.That(shape, Is.EqualTo(new[] { 2, 3, 4 }));
        Assert.That(back, Is.EqualTo(data));
        var bytes = File.ReadAllBytes(path);
        int headerLen = bytes[8] | (bytes[9] << 8);
        Assert.That((10 + headerLen) % 64, Is.Zero, "numpy aligns the data to 64 bytes");
        Assert.That(System.Text.Encoding.ASCII.GetString(bytes, 10, headerLen), Does.StartWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }"));
    }
}
