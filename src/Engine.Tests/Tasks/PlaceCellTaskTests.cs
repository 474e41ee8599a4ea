using Engine.Tasks;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Tasks;

/// <summary>The place-cell output variant of path integration: its code, its decoding and the positions beside it.</summary>
public sealed class PlaceCellTaskTests
{
    /// <summary>The code is non-negative, sums to Np (mean 1 per cell) and peaks at the cell nearest the position; decoding it lands near the position.</summary>
    [Test]
    public void PlaceCode_PeaksNearThePosition_AndDecodesBack()
    {
        var task = new PathIntegrationTask(placeCells: 256);
        var rng = new Rng(3);
        var code = new float[256];
        var decoded = new float[2];
        double worst = 0;
        for (int k = 0; k < 200; k++)
        {
            double x = rng.Uniform(-4, 4), y = rng.Uniform(-4, 4);
            task.PlaceCode(x, y, code);
            Assert.That(code, Is.All.GreaterThanOrEqualTo(-1e-6f), "non-negative (to float rounding)");
            Assert.That(code.Sum(), Is.EqualTo(256).Within(1e-2));
            int peak = Array.IndexOf(code, code.Max());
            int nearest = Enumerable.Range(0, 256).MinBy(c => Math.Pow(task.PlaceCentres[2 * c] - x, 2) + Math.Pow(task.PlaceCentres[2 * c + 1] - y, 2));
            Assert.That(peak, Is.EqualTo(nearest), "the code peaks at the nearest centre");
            task.Decode(code, decoded);
            worst = Math.Max(worst, Math.Sqrt(Math.Pow(decoded[0] - x, 2) + Math.Pow(decoded[1] - y, 2)));
        }

        Assert.That(worst, Is.LessThan(1.0), "the mean of the 3 nearest centres of 256 in a 10 × 10 arena is within a unit");
    }

    /// <summary>GenerateWithPositions gives the walk the targets encode (decoded targets near the positions), and the direct variant's positions are its targets.</summary>
    [Test]
    public void GenerateWithPositions_MatchesTheTargets()
    {
        var task = new PathIntegrationTask(placeCells: 128);
        int trials = 8, steps = 30, s = trials * steps;
        var inputs = new float[s * 3];
        var targets = new float[s * 128];
        var positions = new float[s * 2];
        task.GenerateWithPositions(new Rng(5), trials, steps, inputs, targets, new float[targets.Length], positions);
        var decoded = new float[s * 2];
        task.Decode(targets, decoded);
        for (int k = 0; k < s; k++)
        {
            double d = Math.Sqrt(Math.Pow(decoded[2 * k] - positions[2 * k], 2) + Math.Pow(decoded[2 * k + 1] - positions[2 * k + 1], 2));
            Assert.That(d, Is.LessThan(1.5), $"sample {k}");
        }

        var again = new float[targets.Length];
        task.Generate(new Rng(5), trials, steps, new float[inputs.Length], again, new float[again.Length]);
        Assert.That(again, Is.EqualTo(targets), "the same stream gives the same trials");

        var direct = new PathIntegrationTask();
        var t2 = new float[s * 2];
        var p2 = new float[s * 2];
        direct.GenerateWithPositions(new Rng(5), trials, steps, new float[s * 3], t2, new float[s * 2], p2);
        Assert.That(p2, Is.EqualTo(t2));
    }

    [Test]
    public void BadKnobs_AreNamedErrors()
    {
        Assert.That(() => new PathIntegrationTask(3, placeCells: 64), Throws.ArgumentException.With.Message.Contains("place_cells needs dimensions 2"));
        Assert.That(() => new PathIntegrationTask(placeCells: 2), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("place_cells must be 0"));
        Assert.That(TaskRegistry.Create("pathint", new Dictionary<string, string> { ["place_cells"] = "32" }).Outputs, Is.EqualTo(32));
    }
}
