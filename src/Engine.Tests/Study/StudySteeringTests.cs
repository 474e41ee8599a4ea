using Engine.Study;
using Engine.Tests.Support;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Study;

/// <summary>Guidance and diversity as study factors: the conditions train with their terms, and a guide is required by name.</summary>
[NonParallelizable]
public sealed class StudySteeringTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("study-steer").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static string Config(string guide) => $$"""
        { "name": "steer", "seeds": 2, "tasks": [ { "task": "flipflop", "settings": { "bits": 1 } } ],
          "factors": { "guide_strength": [0, 1], "diversity": [0.5] }, "baseline": { "width": 8 },
          "training": { "steps": 20, "trials": 16, "max_epochs": 40, "threshold": 0.05, "guide": "{{guide}}" },
          "analyses": { "cka": {} } }
        """;

    [Test]
    public void GuideStrengthAndDiversityFactors_TrainTheirConditions_AndNeedAGuide()
    {
        var spec = new Engine.Model.EnsembleSpec { Networks = 1, Hidden = 8, Inputs = 1, Outputs = 1 };
        var guideState = Trainer.Train(TestBackends.Cpu, new Engine.Tasks.FlipFlopTask(1), spec, [5],
            new TrainingOptions { Trials = 16, Steps = 20, MaxEpochs = 40 });
        string guide = Path.Combine(_dir, "guide");
        Directory.CreateDirectory(guide);
        Checkpoint.Save(Path.Combine(guide, Checkpoint.FileName), guideState);

        var plan = StudyRunner.Plan(StudyConfig.Parse(Config(guide)), Path.Combine(_dir, "study"));
        var ids = plan.Conditions.Select(c => c.Id).ToArray();
        Assert.That(ids, Has.Some.Contains("-guide1"));
        Assert.That(ids, Has.Some.Contains("-div0.5"));
        var (run, _) = StudyRunner.RunAll(Path.Combine(_dir, "study"));
        Assert.That(run.Trained, Is.GreaterThan(0));
        var layout = new StudyLayout(Path.Combine(_dir, "study"));
        var groups = Directory.GetDirectories(Path.Combine(layout.Shard(0), "groups"));
        Assert.That(groups.Any(g => File.Exists(Path.Combine(g, "guide_states.npy"))), "the guided group keeps its guide's states");
        Assert.That(groups.Any(g => File.Exists(Path.Combine(g, "representation.csv"))), "the terms' curves are recorded");

        var ex = Assert.Throws<ArgumentException>(() => StudyConfig.Parse(Config(guide).Replace($"\"guide\": \"{guide}\"", "\"clip\": 1")).Validate());
        Assert.That(ex!.Message, Does.Contain("training.guide"));
    }
}
