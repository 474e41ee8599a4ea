using System.Globalization;
using Engine.Model;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

public sealed partial class TrainerRuleTests
{
    private static EnsembleSpec Sized(int hidden = 1, int outputs = 1, float noise = 0f)
        => new() { Networks = 1, Hidden = hidden, Inputs = 1, Outputs = outputs, NoiseStd = noise };

    [Test]
    public void Train_RejectsNullArguments_NamingThem()
    {
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1f));
        var state = NewState(Spec(1), new TrainingOptions { MaxEpochs = 1 });
        string? Name(Action call) => Assert.Throws<ArgumentNullException>(call)!.ParamName;
        Assert.That(Name(() => Trainer.Train(null!, Task, state)), Is.EqualTo("backend"));
        Assert.That(Name(() => Trainer.Train(backend, null!, state)), Is.EqualTo("task"));
        Assert.That(Name(() => Trainer.Train(backend, Task, (TrainingState)null!)), Is.EqualTo("state"));
        Assert.That(Name(() => Trainer.Train(backend, null!, Spec(1), [1], Quick(new TrainingOptions()))), Is.EqualTo("task"));
        Assert.That(Name(() => Trainer.CheckSizes(null!, new TrainingOptions(), 5)), Is.EqualTo("spec"));
        Assert.That(Name(() => Trainer.CheckSizes(Spec(1), null!, 5)), Is.EqualTo("options"));
    }

    [TestCase(2, 1)] // inputs differ, outputs match
    [TestCase(1, 2)] // outputs differ, inputs match
    public void Train_RejectsATaskWhoseInputsOrOutputsAloneDiffer(int inputs, int outputs)
    {
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1f));
        var spec = Spec(1) with { Inputs = inputs, Outputs = outputs };
        var e = Assert.Throws<ArgumentException>(() => Trainer.Train(backend, Task, spec, [1], Quick(new TrainingOptions { MaxEpochs = 1 })))!;
        Assert.That(e.ParamName, Is.EqualTo("task"));
        Assert.That(e.Message, Does.Contain($"has 1 inputs and 1 outputs; the ensemble has {inputs} and {outputs}"));
        Assert.That(backend.RunnersCreated, Is.Zero);
    }

    [Test]
    public void CheckSizes_ValidatesTheSpec()
        => Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.CheckSizes(Sized() with { Networks = 0 }, new TrainingOptions(), 5))!.ParamName,
            Is.EqualTo("Networks"));

    // Each case overflows one array with exactly one buffer (E = 1, I = 1): the message names it and gives its dimensions, the
    // element count (their product) and the bytes (count × bytes per element × blocks).
    [TestCase(1, 1, 0f, 1 << 16, 1 << 16, 0, "trial inputs [E][B][T][I]", "1 × 65,536 × 65,536 × 1 = 4,294,967,296 elements (16.0 GiB)")]
    [TestCase(1, 4, 0f, 1 << 15, 1 << 15, 0, "trial targets and mask [E][B][T][O] (2 blocks)", "1 × 32,768 × 32,768 × 4 = 4,294,967,296 elements (32.0 GiB)")]
    [TestCase(4, 1, 0.1f, 1 << 15, 1 << 15, 0, "process noise [E][B][T][N]", "1 × 32,768 × 32,768 × 4 = 4,294,967,296 elements (16.0 GiB)")]
    [TestCase(4, 1, 0f, 1 << 15, 1 << 15, 0, "one network's states and derivatives [2][T+1][B][N]", "2 × 32,769 × 32,768 × 4 = 8,590,196,736 elements (32.0 GiB)")]
    [TestCase(1, 1, 0f, 1, 1 << 30, 0, "one network's states and derivatives [2][T+1][B][N]", "2 × 1,073,741,825 × 1 × 1 = 2,147,483,650 elements (8.0 GiB)")]
    [TestCase(1, 1, 0f, 1, 1, int.MaxValue, "low-rank factors and their Adam moments [E][2][N][R] (3 blocks)", "1 × 2 × 1 × 2,147,483,647 = 4,294,967,294 elements (48.0 GiB)")]
    public void CheckSizes_AnOversizedBuffer_IsAnErrorNamingIt(int hidden, int outputs, float noise, int trials, int steps, int rank, string buffer, string size)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.CheckSizes(Sized(hidden, outputs, noise), new TrainingOptions { Trials = trials, Rank = rank }, steps))!;
        Assert.That(e.ParamName, Is.EqualTo(buffer));
        Assert.That(e.Message, Does.Contain(size));
    }

    [Test]
    public void CheckSizes_TheEightParameterBlocks_AreCheckedAgainstTheMemory()
    {
        // One network whose P floats fit the memory once (the spec's own check) but not as the 8 host blocks of 4 bytes:
        // P ≈ memory / 16, or just under one array's limit on a machine with more than about 34 GB.
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        int hidden = (int)Math.Sqrt(Math.Min(available / 16.0, 0.99 * Array.MaxLength));
        long stride = (long)hidden * hidden + 3L * hidden + 1;
        if (available <= 0 || stride > Array.MaxLength || 32 * stride <= available)
        {
            Assert.Ignore($"with {available:N0} bytes available no P fits one array yet overflows the memory as 8 blocks");
        }

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.CheckSizes(Sized(hidden), new TrainingOptions { Trials = 1 }, 1))!;
        Assert.That(e.ParamName, Is.EqualTo("parameters, Adam moments and gradients [E][P] (8 blocks)"));
        Assert.That(e.Message, Does.Contain(string.Create(CultureInfo.InvariantCulture, $"needs {32.0 * stride / (1 << 30):F1} GiB")));
    }

    [Test]
    public void Train_ChecksTheBufferSizes_BeforeCreatingARunner()
    {
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1f));
        var options = new TrainingOptions { Trials = 1 << 16, Steps = 1 << 16, ProbeTrials = 0 };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Train(backend, Task, Spec(1), [1], options))!;
        Assert.That(e.ParamName, Is.EqualTo("trial inputs [E][B][T][I]"));
        Assert.That(backend.RunnersCreated, Is.Zero);
    }
}
