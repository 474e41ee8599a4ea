using Engine.Backends;
using Engine.FixedPoints;
using NUnit.Framework;

namespace Engine.Tests.FixedPoints;

/// <summary>FixedPointFinder's adaptive learning rate as <see cref="LearningRateSchedule"/> implements it.</summary>
public sealed class LearningRateScheduleTests
{
    [Test]
    public void Rate_GrowsAfterFiveFalls_AndWaitsFiveChecksBetweenChanges()
    {
        var o = new AdamSearchOptions();
        var schedule = new LearningRateSchedule(o);
        double lr = 1.0;
        var rates = new List<double>();
        for (int k = 0; k < 12; k++)
        {
            lr = schedule.Update(Math.Pow(0.5, k), lr);
            rates.Add(lr);
        }

        // Checks 0..4 fill the window; the 6th value (k = 5) closes five falls; the next change needs five more checks.
        Assert.That(rates.Take(5), Is.All.EqualTo(1.0));
        Assert.That(rates[5], Is.EqualTo(1 / 0.95).Within(1e-15));
        Assert.That(rates.Skip(6).Take(4), Is.All.EqualTo(1 / 0.95).Within(1e-15));
        Assert.That(rates[10], Is.EqualTo(1 / (0.95 * 0.95)).Within(1e-15));
    }

    [Test]
    public void Rate_ShrinksWhenQRisesAboveTheWindow_NotBelowTheFloor()
    {
        var o = new AdamSearchOptions { MinLearningRate = 0.92 };
        var schedule = new LearningRateSchedule(o);
        double lr = 1.0;
        double[] q = [1, 2, 1, 2, 1, 3];
        foreach (double x in q)
        {
            lr = schedule.Update(x, lr);
        }

        Assert.That(lr, Is.EqualTo(0.95).Within(1e-15), "3 > each of the previous five");
        foreach (double x in new double[] { 1, 2, 1, 2, 4 })
        {
            lr = schedule.Update(x, lr);
        }

        Assert.That(lr, Is.EqualTo(0.92), "0.95² would be 0.9025: floored at MinLearningRate");
        lr = schedule.Update(3.9, lr);
        Assert.That(lr, Is.EqualTo(0.92), "a value below the newest is no rise; a zig-zag is no run of falls");
    }
}
