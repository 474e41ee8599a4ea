using Engine.Model;
using Engine.Study;
using NUnit.Framework;

namespace Engine.Tests.Study;

/// <summary>A study may list one task several times with different settings, and set the cell and the process noise.</summary>
public sealed class StudyTaskSettingsTests
{
    private const string Config = """
        {
          "name": "wm", "seeds": 2,
          "tasks": [
            { "task": "wm-orientation", "settings": { "prior": "uniform", "delays": "2,4", "stimulus": 2, "response": 2 } },
            { "task": "wm-orientation", "settings": { "prior": "natural", "reward": "oblique", "delays": "2,4", "stimulus": 2, "response": 2 } }
          ],
          "factors": { "width": [8] },
          "training": { "cell": "leaky", "alpha": 0.2, "noise": 0.3, "max_epochs": 2 },
          "analyses": { "ood": {} }
        }
        """;

    [Test]
    public void SameTaskWithDifferentSettings_IsTwoConditions_TrainedLeakyWithNoise()
    {
        var plan = StudyPlanner.Plan(StudyConfig.Parse(Config));
        Assert.That(plan.Conditions, Has.Count.EqualTo(2));
        Assert.That(plan.Conditions.Select(c => c.TaskSettings["prior"]), Is.EquivalentTo(new[] { "uniform", "natural" }));
        Assert.That(plan.Conditions.Select(c => c.Id).Distinct().Count(), Is.EqualTo(2));
        foreach (var group in plan.Groups)
        {
            var (task, spec, _, _) = StudyRunner.TrainingFor(plan, group);
            Assert.That((spec.Cell, spec.Alpha, spec.NoiseStd), Is.EqualTo((CellType.Leaky, 0.2f, 0.3f)));
            Assert.That(task.Name, Is.EqualTo("wm-orientation"));
        }

        var flipflop = StudyPlanner.Plan(StudyConfig.Parse("""{ "seeds": 2, "tasks": [ { "task": "flipflop", "settings": { "bits": 2 } } ], "factors": { "width": [8] }, "analyses": { "ood": {} } }"""));
        Assert.That(flipflop.Conditions.Single().Id, Is.EqualTo("flipflop-b2-n8-std"), "ids of default settings are unchanged");
    }

    [TestCase("\"cell\": \"rate\"", "training.cell")]
    [TestCase("\"noise\": -1", "training.noise")]
    [TestCase("\"alpha\": 2", "training.alpha")]
    public void BadTrainingCellOrNoise_IsANamedError(string training, string field)
    {
        string json = Config.Replace("\"cell\": \"leaky\", \"alpha\": 0.2, \"noise\": 0.3, \"max_epochs\": 2", training, StringComparison.Ordinal);
        var e = Assert.Throws<ArgumentException>(() => StudyConfig.Parse(json).Validate());
        Assert.That(e!.Message, Does.Contain(field));
    }
}
