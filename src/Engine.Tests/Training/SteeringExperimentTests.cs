using Engine.Distances;
using Engine.Model;
using Engine.Tasks;
using Engine.Tests.Support;
using Engine.Training;
using Engine.Training.Representation;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>
/// The representational terms do what they are for, at test size (2-bit flip-flop, small widths): guidance pulls networks
/// toward the guide and toward each other, diversity pushes them apart, and a guide rescues a ReLU network that trains
/// badly alone. Each test asserts the direction of its effect only.
/// </summary>
[TestFixture]
[NonParallelizable]
public class SteeringExperimentTests
{
    private static TrainingState Train(int networks, int hidden, long seed, int epochs, TrainingOptions? extra = null, RepresentationTargets? targets = null,
        ActivationKind activation = ActivationKind.Tanh, int bits = 2)
    {
        var spec = new EnsembleSpec { Networks = networks, Hidden = hidden, Inputs = bits, Outputs = bits, Activation = activation }.Validate();
        var options = (extra ?? new TrainingOptions()) with { Trials = 32, Steps = 25, LearningRate = 3e-3, ClipNorm = 1, MaxEpochs = epochs, CheckpointEvery = 10_000 };
        return Trainer.Train(TestBackends.Cpu, new FlipFlopTask(bits), spec, Ensemble.ConsecutiveSeeds(seed, networks), options, targets: targets);
    }

    private static RepresentationTargets GuideOf(TrainingState guide, bool untrained = false, int bits = 2)
        => new(GuideStates.FromRun(TestBackends.Cpu, guide, "guide", new FlipFlopTask(bits), 16, 25, 12345, untrained), []);

    [Test]
    public void Guidance_PullsAnEnsembleTowardTheGuideAndTogether_AtEqualTaskLoss()
    {
        var guide = Train(1, 24, 7, 2000);
        var plain = Train(4, 24, 100, 2000);
        var guided = Train(4, 24, 100, 2000, new TrainingOptions { GuideStrength = 1 }, GuideOf(guide));
        var r = CrossRunComparison.Compare(TestBackends.Cpu, [("plain", plain), ("guided", guided)], (guide, 0), trials: 16);
        TestContext.Out.WriteLine(string.Join("\n", r));
        Assert.That(r[1].CkaToReference, Is.LessThan(r[0].CkaToReference), "arccos CKA to the guide");
        Assert.That(r[1].CkaWithin, Is.LessThan(r[0].CkaWithin), "arccos CKA between the guided networks");
        Assert.That(r[1].DsaToReference, Is.LessThan(r[0].DsaToReference), "angular DSA to the guide");
        Assert.That(r[1].Mse, Is.LessThan(Math.Max(3 * r[0].Mse, 0.02)), "guided networks still do the task");
    }

    [Test]
    public void Diversity_PushesAnEnsembleApart()
    {
        var plain = Train(4, 24, 200, 2000);
        var diverse = Train(4, 24, 200, 2000, new TrainingOptions { Diversity = 0.2 });
        var r = CrossRunComparison.Compare(TestBackends.Cpu, [("plain", plain), ("diverse", diverse)], null, trials: 16);
        TestContext.Out.WriteLine(string.Join("\n", r));
        Assert.That(r[1].CkaWithin, Is.GreaterThan(r[0].CkaWithin), "arccos CKA between the networks");
        Assert.That(r[1].Mse, Is.LessThan(Math.Max(3 * r[0].Mse, 0.02)), "diverse networks still do the task");
    }

    [Test]
    public void Guidance_RescuesAReluNetworkThatTrainsBadlyAlone()
    {
        var guide = Train(1, 48, 7, 1500, bits: 3);
        var alone = Train(4, 48, 300, 1500, activation: ActivationKind.Relu, bits: 3);
        var guided = Train(4, 48, 300, 1500, new TrainingOptions { GuideStrength = 1, GuideEpochs = 500 }, GuideOf(guide, bits: 3), ActivationKind.Relu, 3);
        var untrained = Train(4, 48, 300, 1500, new TrainingOptions { GuideStrength = 1, GuideEpochs = 500 }, GuideOf(guide, untrained: true, bits: 3), ActivationKind.Relu, 3);
        double Loss(TrainingState s) => s.Networks.Select(n => n.SmoothedLoss).Order().ElementAt(s.Networks.Length / 2);
        TestContext.Out.WriteLine($"median smoothed loss: alone {Loss(alone):E2}, trained guide {Loss(guided):E2}, untrained guide {Loss(untrained):E2}");
        Assert.That(Loss(guided), Is.LessThan(Loss(alone)));
    }
}
