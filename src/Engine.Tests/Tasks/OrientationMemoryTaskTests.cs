using Engine.Analysis.WorkingMemory;
using Engine.Tasks;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Tasks;

/// <summary>The orientation working-memory task (SEEDS §7): encoding, prior, reward weights, seeds and named errors.</summary>
public sealed class OrientationMemoryTaskTests
{
    private static readonly Dictionary<string, string> Small = new() { ["delays"] = "2,5", ["stimulus"] = "3", ["response"] = "2", ["channels"] = "8" };

    [Test]
    public void WriteTrial_InputsTargetsAndMask_FollowTheEncoding()
    {
        var task = new OrientationMemoryTask(OrientationPrior.Uniform, OrientationMemoryTask.ObliqueReward, [2, 5], channels: 8, kappa: 2, stimulusSteps: 3, responseSteps: 2);
        int steps = task.MinimumSteps, ni = task.Inputs;
        Assert.That((steps, ni, task.Outputs), Is.EqualTo((3 + 5 + 2, 9, 2)));
        var x = new float[steps * ni];
        var y = new float[steps * 2];
        var m = new float[steps * 2];
        double theta = 0.7; // in the rewarded bin [π/8, 3π/8)
        task.WriteTrial(theta, 2, steps, x, y, m);
        int response = steps - 2, onset = response - 2 - 3;
        for (int t = 0; t < steps; t++)
        {
            bool stim = t >= onset && t < onset + 3, resp = t >= response;
            for (int j = 0; j < 8; j++)
            {
                double want = stim ? Math.Exp(2 * (Math.Cos(2 * (theta - j * Math.PI / 8)) - 1)) : 0;
                Assert.That(x[t * ni + j], Is.EqualTo(want).Within(1e-6), $"step {t} channel {j}");
            }

            Assert.That(x[t * ni + 8], Is.EqualTo(resp ? 1f : 0f), $"go cue at step {t}");
            Assert.That(y[2 * t], Is.EqualTo(resp ? Math.Cos(2 * theta) : 0).Within(1e-6));
            Assert.That(y[2 * t + 1], Is.EqualTo(resp ? Math.Sin(2 * theta) : 0).Within(1e-6));
            // Uniform prior, r = 2 on 2 of 8 bins: E[r] = 1.25, so w = 2 / 1.25 = 1.6 on the rewarded bins.
            Assert.That(m[2 * t], Is.EqualTo(resp ? 1.6 : 0).Within(1e-6));
            Assert.That(m[2 * t + 1], Is.EqualTo(m[2 * t]));
        }

        Assert.That(task.Weight(0.1), Is.EqualTo(0.8).Within(1e-12), "unrewarded: 1 / 1.25");
        Assert.That(task.Decode(y, steps), Is.EqualTo(theta).Within(1e-6), "decoding the target gives θ back");
    }

    [Test]
    public void NaturalPrior_CdfIntegratesTheDensity_SamplesFollowIt_AndTheMeanWeightIsOne()
    {
        var task = new OrientationMemoryTask(OrientationPrior.Natural, [3, 1, 1, 1, 2, 1, 1, 1], [1], rewardBins: 8);
        const int grid = 200000;
        double integral = 0, meanWeight = 0;
        for (int i = 0; i < grid; i++)
        {
            double th = (i + 0.5) * Math.PI / grid;
            integral += task.Density(th) * Math.PI / grid;
            meanWeight += task.Density(th) * task.Weight(th) * Math.PI / grid;
            if (i % 20000 == 0)
            {
                Assert.That(OrientationMemoryTask.PriorCdf(OrientationPrior.Natural, th + 0.5 * Math.PI / grid), Is.EqualTo(integral).Within(1e-6), $"CDF at {th}");
            }
        }

        Assert.That(integral, Is.EqualTo(1).Within(1e-6));
        Assert.That(meanWeight, Is.EqualTo(1).Within(1e-6), "E_p[w] = 1");
        var rng = Rng.For(5, Rng.DataStream);
        var counts = new int[4];
        const int draws = 40000;
        for (int i = 0; i < draws; i++)
        {
            counts[OrientationMemoryTask.BinOf(task.SampleOrientation(rng), 4)]++;
        }

        // Each quarter [kπ/4, (k + 1)π/4) holds 1/4 by symmetry; the cardinal-centred regions hold more.
        double nearCardinal = 0;
        for (int i = 0; i < draws; i++)
        {
            double th = task.SampleOrientation(rng);
            nearCardinal += OrientationMemoryAnalysis.IsCardinal(th) ? 1 : 0;
        }

        // [0, π/8) ∪ [3π/8, 5π/8) ∪ [7π/8, π); the first and last hold the same mass by symmetry.
        double expected = 2 * OrientationMemoryTask.PriorCdf(OrientationPrior.Natural, Math.PI / 8)
            + OrientationMemoryTask.PriorCdf(OrientationPrior.Natural, 5 * Math.PI / 8) - OrientationMemoryTask.PriorCdf(OrientationPrior.Natural, 3 * Math.PI / 8);
        Assert.That(expected, Is.GreaterThan(0.55), "the natural prior puts more than half its mass near the cardinals");
        Assert.That(nearCardinal / draws, Is.EqualTo(expected).Within(0.015));
        Assert.That(counts.Select(c => (double)c / draws), Is.All.EqualTo(0.25).Within(0.015));
    }

    [Test]
    public void Generate_SameSeedSameData_OtherSeedOtherData()
    {
        var task = TaskRegistry.Create("wm-orientation", new Dictionary<string, string>(Small) { ["prior"] = "natural", ["reward"] = "oblique" });
        int steps = task.DefaultSteps, n = 6 * steps;
        float[] Draw(long seed, out float[] targets)
        {
            var x = new float[n * task.Inputs];
            targets = new float[n * 2];
            task.Generate(Rng.For(seed, Rng.DataStream), 6, steps, x, targets, new float[n * 2]);
            return x;
        }

        Assert.That(Draw(1, out var y1), Is.EqualTo(Draw(1, out var y2)));
        Assert.That(y1, Is.EqualTo(y2));
        Assert.That(Draw(2, out _), Is.Not.EqualTo(Draw(1, out _)));
        Assert.That(task.Settings["reward"], Is.EqualTo("1,2,2,1,1,1,1,1"));
        var again = TaskRegistry.Create("wm-orientation", task.Settings);
        Assert.That(again.Settings, Is.EqualTo(task.Settings), "settings round-trip through the registry");
        var ood = (OrientationMemoryTask)task.OutOfDistribution();
        Assert.That(ood.Delays, Is.EqualTo(new[] { 4, 10 }));
        Assert.That(task.OodSteps(task.DefaultSteps), Is.EqualTo(ood.MinimumSteps));
    }

    [Test]
    public void BadInput_IsANamedError()
    {
        var ex = Assert.Throws<ArgumentException>(() => TaskRegistry.Create("wm-orientation", new Dictionary<string, string> { ["reward"] = "2,1,1" }));
        Assert.That(ex!.Message, Does.Contain("3 entries").And.Contain("reward_bins = 8"));
        ex = Assert.Throws<ArgumentException>(() => TaskRegistry.Create("wm-orientation", new Dictionary<string, string> { ["reward"] = "2,x" }));
        Assert.That(ex!.Message, Does.Contain("'reward'"));
        ex = Assert.Throws<ArgumentException>(() => TaskRegistry.Create("wm-orientation", new Dictionary<string, string> { ["prior"] = "flat" }));
        Assert.That(ex!.Message, Does.Contain("'prior'").And.Contain("uniform, natural"));
        ex = Assert.Throws<ArgumentException>(() => new OrientationMemoryTask(reward: [1, 1, 1, 1, 1, 1, 1, -1]));
        Assert.That(ex!.Message, Does.Contain("entry 7"));
        ex = Assert.Throws<ArgumentException>(() => new OrientationMemoryTask(delays: []));
        Assert.That(ex!.Message, Does.Contain("delays"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OrientationMemoryTask(kappa: 0));
        var task = new OrientationMemoryTask(delays: [4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => task.WriteTrial(0.1, 40, task.MinimumSteps, new float[task.MinimumSteps * task.Inputs], new float[task.MinimumSteps * 2], new float[task.MinimumSteps * 2]));
    }

    [Test]
    public void CircularStats_KnownErrors()
    {
        var (sd, bias) = OrientationMemoryAnalysis.CircularStats([0.1, 0.1, 0.1]);
        Assert.That((sd, bias), Is.EqualTo((0.0, 0.1)).Within(1e-7));
        (sd, bias) = OrientationMemoryAnalysis.CircularStats([0.05, -0.05]);
        Assert.That(bias, Is.EqualTo(0).Within(1e-12));
        Assert.That(sd, Is.EqualTo(0.5 * Math.Sqrt(-2 * Math.Log(Math.Cos(0.1)))).Within(1e-12));
        Assert.That(sd, Is.EqualTo(0.05).Within(1e-4), "≈ the spread for small errors");
        Assert.That(OrientationMemoryAnalysis.WrapError(Math.PI - 0.1), Is.EqualTo(-0.1).Within(1e-12), "orientation errors wrap with period π");
        Assert.That(OrientationMemoryAnalysis.WrapError(-Math.PI / 2), Is.EqualTo(Math.PI / 2).Within(1e-12), "to (−π/2, π/2]");
    }
}
