using Engine.ClosedLoop;
using NUnit.Framework;

namespace Engine.Tests.ClosedLoop;

/// <summary>The loss-step detector on curves whose steps are known.</summary>
public sealed class LossStepsTests
{
    private static readonly int[] Steps = Enumerable.Range(0, 500).Select(i => 10 * i).ToArray();

    [Test]
    public void Staircase_GivesOneFallPerStep_AtTheRightPlaces()
    {
        // plateaus at 8, 6, 3.7, 1.5 with sigmoid falls centred on steps 1000, 2500, 4000 (width ~50 steps)
        double[] levels = [8, 6, 3.7, 1.5];
        int[] centres = [1000, 2500, 4000];
        var loss = Steps.Select(s =>
        {
            double l = levels[0];
            for (int k = 0; k < centres.Length; k++)
            {
                l += (levels[k + 1] - levels[k]) / (1 + Math.Exp(-(s - centres[k]) / 15.0));
            }

            return l * (1 + 0.002 * Math.Sin(s));   // a little wobble on the plateaus
        }).ToArray();
        var falls = LossSteps.Detect(Steps, loss);
        Assert.That(falls, Has.Count.EqualTo(3), string.Join("; ", falls));
        for (int k = 0; k < 3; k++)
        {
            Assert.That(falls[k].StartStep, Is.LessThanOrEqualTo(centres[k]).And.GreaterThan(centres[k] - 200));
            Assert.That(falls[k].EndStep, Is.GreaterThanOrEqualTo(centres[k]).And.LessThan(centres[k] + 200));
            Assert.That(falls[k].LossBefore, Is.EqualTo(levels[k]).Within(0.05 * levels[k]));
            Assert.That(falls[k].LossAfter, Is.EqualTo(levels[k + 1]).Within(0.05 * levels[k + 1]));
        }
    }

    [Test]
    public void SmoothDecay_IsOneFall_AndAFlatCurveNone()
    {
        var smooth = Steps.Select(s => 10 * Math.Exp(-s / 1500.0)).ToArray();
        Assert.That(LossSteps.Detect(Steps, smooth), Has.Count.EqualTo(1), "one long fall, no plateau");
        var flat = Steps.Select(s => 3.0 + 0.01 * Math.Sin(s / 7.0)).ToArray();
        Assert.That(LossSteps.Detect(Steps, flat), Is.Empty);
    }

    [Test]
    public void ADivergedTail_IsIgnored()
    {
        var loss = Steps.Select(s => s < 2000 ? 5.0 : s < 2100 ? 5.0 - (s - 2000) * 0.03 : s < 3000 ? 2.0 : double.NaN).ToArray();
        var falls = LossSteps.Detect(Steps, loss);
        Assert.That(falls, Has.Count.EqualTo(1));
        Assert.That(falls[0].LossAfter, Is.EqualTo(2.0));
    }
}
