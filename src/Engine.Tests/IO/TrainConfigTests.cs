using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.IO;

public sealed class TrainConfigTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("cfg").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private string Write(string text)
    {
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void Load_ReadsEveryKnob_AndFlagsOverride()
    {
        var cfg = TrainConfig.Load(Write("""
            { "task": "flipflop", "bits": 2, "networks": 4, "hidden": 9, "cell": "leaky", "alpha": 0.2, "learning_rate": 0.01, "seed": 7, // comment
              "max_epochs": 12, }
            """));
        var merged = cfg.Merge(new TrainConfig { Hidden = 11 });
        var task = merged.BuildTask();
        var spec = merged.BuildSpec(task);
        Assert.That((spec.Networks, spec.Hidden, spec.Inputs, spec.Cell, spec.Alpha), Is.EqualTo((4, 11, 2, Engine.Model.CellType.Leaky, 0.2f)));
        Assert.That(merged.BuildSeeds(4), Is.EqualTo(new long[] { 7, 8, 9, 10 }));
        Assert.That(merged.BuildOptions(4).MaxEpochs, Is.EqualTo(12));
    }

    [Test]
    public void Load_RejectsUnknownField_NamingFileAndField()
    {
        string path = Write("""{ "networks": 4, "hiden": 9 }""");
        var e = Assert.Throws<InvalidDataException>(() => TrainConfig.Load(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("hiden"));
    }

    [Test]
    public void Load_RejectsMalformedJson_AndWrongTypes()
    {
        Assert.That(Assert.Throws<InvalidDataException>(() => TrainConfig.Load(Write("{ \"networks\": ")))!.Message, Does.Contain("invalid config"));
        Assert.That(Assert.Throws<InvalidDataException>(() => TrainConfig.Load(Write("{ \"networks\": \"many\" }")))!.Message, Does.Contain("networks"));
        Assert.That(Assert.Throws<InvalidDataException>(() => TrainConfig.Load(Path.Combine(_dir, "none.json")))!.Message, Does.Contain("cannot read"));
    }

    [TestCase("""{ "networks": -2 }""", "Networks")]
    [TestCase("""{ "hidden": 0 }""", "Hidden")]
    [TestCase("""{ "bits": 0 }""", "bits")]
    [TestCase("""{ "task": "juggling" }""", "Unknown task 'juggling'")]
    [TestCase("""{ "cell": "lstm" }""", "Unknown cell 'lstm'")]
    [TestCase("""{ "activation": "gelu" }""", "Unknown activation 'gelu'")]
    [TestCase("""{ "cell": "leaky", "alpha": 1.5 }""", "Alpha")]
    [TestCase("""{ "trials": 0 }""", "Trials")]
    [TestCase("""{ "networks": 2, "seeds": [1, 2, 3] }""", "seeds has 3 entries")]
    public void Build_RejectsImpossibleValues_BeforeTraining(string json, string expected)
    {
        var cfg = TrainConfig.Load(Write(json));
        var e = Assert.Catch<ArgumentException>(() =>
        {
            var task = cfg.BuildTask();
            var spec = cfg.BuildSpec(task);
            cfg.BuildSeeds(spec.Networks);
            cfg.BuildOptions(spec.Networks);
        });
        Assert.That(e!.Message, Does.Contain(expected));
    }
}
