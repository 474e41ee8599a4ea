using Engine.Tasks;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Tasks;

/// <summary>The planted-chunk sequence task: one-hot next-symbol targets, only the planted words and filler, latents = input symbol.</summary>
public sealed class SequenceChunksTaskTests
{
    [Test]
    public void Generate_PlantsOnlyTheWordsSeparatedByFiller_AndTargetsAreTheNextSymbol()
    {
        var task = (SequenceChunksTask)TaskRegistry.Create("sequence-chunks", new Dictionary<string, string> { ["filler_max"] = "3" });
        const int trials = 8, steps = 200, n = SequenceChunksTask.Symbols;
        var x = new float[trials * steps * n];
        var y = new float[x.Length];
        var m = new float[x.Length];
        task.Generate(Rng.For(3, Rng.DataStream), trials, steps, x, y, m);
        var labels = new int[trials * steps];
        task.Latents(x, y, trials, steps, labels);
        Assert.That(m, Is.All.EqualTo(1f));
        for (int b = 0; b < trials; b++)
        {
            var text = new string(Enumerable.Range(0, steps).Select(t => SequenceChunksTask.Letter(labels[b * steps + t])).ToArray());
            Assert.That(text.Replace("E", " ").Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).SkipLast(1),
                Is.All.Matches<string>(w => w.Replace("ABCD", "").Replace("GHI", "").Replace("JKLMN", "") == ""), text);
            Assert.That(text, Does.Not.Contain("EEEEE"), "runs of at most filler_max = 3 E's (plus none between words)");
            for (int t = 0; t + 1 < steps; t++)
            {
                int s = b * steps + t;
                Assert.That(y.AsSpan(s * n, n).ToArray(), Is.EqualTo(x.AsSpan((s + 1) * n, n).ToArray()), "target = next input");
                Assert.That(task.DecodeOutput(y.AsSpan(s * n, n)), Is.EqualTo(labels[s + 1]));
            }
        }
    }

    [Test]
    public void FlipFlopLatents_AreTheMemoryCode_AndUndefinedBeforeEveryChannelIsSet()
    {
        var task = new FlipFlopTask(3);
        float[] targets = [0, 1, 0, 1, 1, -1, -1, 1, 1];
        var labels = new int[3];
        task.Latents(new float[9], targets, 1, 3, labels);
        Assert.That(labels, Is.EqualTo(new[] { -1, 3, 6 }));
        Assert.That(task.LatentLabel(6), Is.EqualTo("-++"));
        Assert.That(task.DecodeOutput([0.9f, -0.2f, 0.1f]), Is.EqualTo(5));
    }
}
