using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>End-to-end training of the flip-flop on the CPU backend.</summary>
public sealed class FlipFlopTrainingTests
{
    [Test]
    public void SmallEnsemble_Trains3BitFlipFlop_BelowThreshold()
    {
        var task = new FlipFlopTask(3);
        var spec = new EnsembleSpec { Networks = 2, Hidden = 24, Inputs = 3, Outputs = 3 };
        var options = new TrainingOptions { Trials = 16, Steps = 40, LearningRate = 1e-2, MaxEpochs = 1500, ClipNorm = 1.0 };
        using var backend = BackendFactory.Create("cpu");
        var state = Trainer.Train(backend, task, spec, Ensemble.ConsecutiveSeeds(1, 2), options);
        TestContext.Out.WriteLine(string.Join(", ", state.Networks.Select(n => $"{n.Status} after {n.Epochs}: {n.LastLoss:E2}")));
        Assert.That(state.Networks.Select(n => n.Status), Is.All.EqualTo(NetworkStatus.Converged));
        Assert.That(state.Networks.Select(n => n.LastLoss), Is.All.LessThan(1e-3));
    }
}
