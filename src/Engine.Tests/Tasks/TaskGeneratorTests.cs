using Engine.Tasks;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Tasks;

/// <summary>Shapes, masks and target semantics of every built-in task, checked trial by trial.</summary>
public sealed class TaskGeneratorTests
{
    private static (float[] X, float[] Y, float[] M) Make(ITrialTask task, int trials, int steps, long seed = 5)
    {
        var x = new float[trials * steps * task.Inputs];
        var y = new float[trials * steps * task.Outputs];
        var m = new float[trials * steps * task.Outputs];
        task.Generate(Rng.For(seed, Rng.DataStream), trials, steps, x, y, m);
        return (x, y, m);
    }

    public static IEnumerable<ITrialTask> AllTasks()
    {
        yield return new FlipFlopTask(3);
        yield return new SineTask(5, 2);
        yield return new DelayedDiscriminationTask(5, 20, 2, auxiliary: true);
        yield return new PathIntegrationTask(2);
        yield return new PathIntegrationTask(3);
        yield return new SequenceChunksTask();
    }

    [TestCaseSource(nameof(AllTasks))]
    public void SameSeed_SameTrials_OtherSeed_OtherTrials(ITrialTask task)
    {
        int t = task.DefaultSteps;
        var a = Make(task, 4, t);
        var b = Make(task, 4, t);
        var c = Make(task, 4, t, seed: 6);
        Assert.That(b.X, Is.EqualTo(a.X));
        Assert.That(b.Y, Is.EqualTo(a.Y));
        Assert.That(b.M, Is.EqualTo(a.M));
        Assert.That(c.X, Is.Not.EqualTo(a.X));
    }

    [TestCaseSource(nameof(AllTasks))]
    public void Ood_IsTwiceAsLong_AndBuiltFromTheSameGenerator(ITrialTask task)
    {
        var ood = task.OutOfDistribution();
        int trained = task.DefaultSteps;
        int oodSteps = task.OodSteps(trained);
        Assert.That(oodSteps, Is.GreaterThanOrEqualTo(ood.MinimumSteps));
        Assert.That((ood.Name, ood.Inputs, ood.Outputs), Is.EqualTo((task.Name, task.Inputs, task.Outputs)));
        if (task is DelayedDiscriminationTask dd)
        {
            var d2 = (DelayedDiscriminationTask)ood;
            Assert.That((d2.DelayMin, d2.DelayMax), Is.EqualTo((2 * dd.DelayMin, 2 * dd.DelayMax)), "delays twice as long");
        }
        else
        {
            Assert.That(oodSteps, Is.EqualTo(2 * trained), "whole trial twice as long");
        }

        var (x, _, _) = Make(ood, 2, oodSteps);
        Assert.That(x, Has.All.Matches<float>(float.IsFinite));
    }

    [Test]
    public void FlipFlop_TargetHoldsLastPulse_ZeroBeforeFirst()
    {
        var task = new FlipFlopTask(2, 0.2);
        var (x, y, m) = Make(task, 3, 50);
        Assert.That(m, Has.All.EqualTo(1f));
        for (int b = 0; b < 3; b++)
        {
            for (int c = 0; c < 2; c++)
            {
                float held = 0;
                for (int t = 0; t < 50; t++)
                {
                    int k = (b * 50 + t) * 2 + c;
                    Assert.That(x[k], Is.AnyOf(-1f, 0f, 1f));
                    held = x[k] != 0 ? x[k] : held;
                    Assert.That(y[k], Is.EqualTo(held), $"trial {b} channel {c} step {t}");
                }
            }
        }
    }

    [Test]
    public void Sine_TargetIsSineOfTheCuedFrequency()
    {
        var task = new SineTask(4, 1, dt: 0.01);
        Assert.That(Enumerable.Range(0, 4).Select(task.Frequency), Is.EqualTo(new[] { 1.0, 1 + 29.0 / 3, 1 + 58.0 / 3, 30.0 }).Within(1e-12));
        var (x, y, m) = Make(task, 5, 40);
        Assert.That(m, Has.All.EqualTo(1f));
        for (int b = 0; b < 5; b++)
        {
            double f = x[b * 40] * 30.0;
            Assert.That(Enumerable.Range(0, 4).Select(task.Frequency).Min(k => Math.Abs(k - f)), Is.LessThan(1e-4), "input encodes one of the task's frequencies");
            for (int t = 0; t < 40; t++)
            {
                Assert.That(x[b * 40 + t], Is.EqualTo(x[b * 40]), "static cue");
                Assert.That(y[b * 40 + t], Is.EqualTo(Math.Sin(2 * Math.PI * f * (t + 1) * 0.01)).Within(2e-4));
            }
        }
    }

    [Test]
    public void DelayedDiscrimination_ScoresOnlyTheResponseWindow_WithSignAndAux()
    {
        var task = new DelayedDiscriminationTask(4, 9, channels: 1, auxiliary: true);
        int steps = task.MinimumSteps + 3;
        var (x, y, m) = Make(task, 20, steps);
        for (int b = 0; b < 20; b++)
        {
            var xs = x.AsSpan(b * steps, steps).ToArray();
            int[] on = Enumerable.Range(0, steps).Where(t => xs[t] != 0).ToArray();
            Assert.That(on, Has.Length.EqualTo(2 * DelayedDiscriminationTask.PulseSteps));
            int stim2 = on[DelayedDiscriminationTask.PulseSteps];
            int delay = stim2 - DelayedDiscriminationTask.PulseSteps;
            Assert.That(delay, Is.InRange(4, 9));
            double f1 = xs[0] * 10, f2 = xs[stim2] * 10;
            Assert.That(Math.Abs(f2 - f1), Is.GreaterThanOrEqualTo(1 - 1e-5));
            int response = stim2 + DelayedDiscriminationTask.PulseSteps;
            for (int t = 0; t < steps; t++)
            {
                bool inWindow = t >= response && t < response + DelayedDiscriminationTask.ResponseSteps;
                int k = (b * steps + t) * 2;
                Assert.That(m[k], Is.EqualTo(inWindow ? 1f : 0f), $"mask at step {t}");
                Assert.That(m[k + 1], Is.EqualTo(inWindow ? 1f : 0f));
                if (inWindow)
                {
                    Assert.That(y[k], Is.EqualTo(Math.Sign(f2 - f1)));
                    Assert.That(y[k + 1], Is.EqualTo((f2 - f1) / 8).Within(1e-5));
                }
            }
        }
    }

    [TestCase(2)]
    [TestCase(3)]
    public void PathIntegration_TargetIsClippedCumulativeSumOfVelocities(int dims)
    {
        var task = new PathIntegrationTask(dims, maxSpeed: 1.0);
        int steps = 300;
        var (x, y, m) = Make(task, 3, steps);
        Assert.That(m, Has.All.EqualTo(1f));
        bool clipped = false;
        for (int b = 0; b < 3; b++)
        {
            var pos = new double[dims];
            for (int t = 0; t < steps; t++)
            {
                int xi = (b * steps + t) * (dims + 1), yi = (b * steps + t) * dims;
                double v = x[xi + dims];
                double norm = Math.Sqrt(Enumerable.Range(0, dims).Sum(k => (double)x[xi + k] * x[xi + k]));
                if (dims == 2)
                {
                    Assert.That(norm, Is.EqualTo(1).Within(1e-5), "heading is a unit vector");
                }

                for (int k = 0; k < dims; k++)
                {
                    double raw = pos[k] + v * x[xi + k];
                    pos[k] = Math.Clamp(raw, -5, 5);
                    clipped |= raw != pos[k];
                    Assert.That(y[yi + k], Is.EqualTo(pos[k]).Within(1e-4), $"trial {b} step {t} dim {k}");
                }
            }
        }

        Assert.That(clipped, "the arena wall was reached at least once");
    }

    [TestCase("flipflop", "bits", "0", "bits must be at least 1")]
    [TestCase("sine", "frequencies", "31", "frequencies must be in [1, 30]")]
    [TestCase("sine", "channels", "0", "channels must be at least 1")]
    [TestCase("delayed", "delay_min", "-1", "delayMin must be at least 0")]
    [TestCase("delayed", "delay_max", "2", "delay_max (2) must be at least delay_min (5)")]
    [TestCase("pathint", "dimensions", "4", "dimensions must be 2 or 3")]
    [TestCase("flipflop", "delay_max", "4", "has no setting 'delay_max'")]
    [TestCase("sequence-chunks", "filler_max", "-1", "filler_max must be in 0 … 100")]
    public void ImpossibleKnob_IsAClearError(string task, string key, string value, string expected)
    {
        var e = Assert.Catch<ArgumentException>(() => TaskRegistry.Create(task, new Dictionary<string, string> { [key] = value }));
        Assert.That(e!.Message, Does.Contain(expected));
    }

    [Test]
    public void DelayLongerThanTheTrial_IsRejectedBeforeTraining()
    {
        var task = new DelayedDiscriminationTask(5, 40);
        var options = new Engine.Training.TrainingOptions { Steps = 30 };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => options.StepsFor(task));
        Assert.That(e!.Message, Does.Contain("shorter than task 'delayed' needs (56"));
    }
}
