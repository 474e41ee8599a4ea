using Engine.Composed;
using Engine.Tasks.Cognitive;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Composed;

/// <summary>The online epoch-inference model recovers planted epoch structure without labels.</summary>
public sealed class EpochChainTests
{
    /// <summary>Synthetic trials: 4 planted epochs in order, diagonal-Gaussian emissions (σ = 0.1) in 3 features, neighbours 1 apart in some feature, durations U{3..12}.</summary>
    private static (double[] Features, int[] Labels, int Steps) Planted(Rng rng, double[][] means)
    {
        var durations = means.Select(_ => 3 + rng.NextInt(10)).ToArray();
        int steps = durations.Sum();
        var f = new double[steps * 3];
        var labels = new int[steps];
        int t = 0;
        for (int k = 0; k < means.Length; k++)
        {
            for (int s = 0; s < durations[k]; s++, t++)
            {
                labels[t] = k;
                for (int d = 0; d < 3; d++)
                {
                    f[t * 3 + d] = means[k][d] + 0.1 * rng.NextGaussian();
                }
            }
        }

        return (f, labels, steps);
    }

    [Test]
    public void Chain_RecoversPlantedEpochs_OnFreshTrials()
    {
        var rng = new Rng(11);
        // Epoch 2 returns to epoch 0's emissions (like delay after fixation): only the chain's order tells them apart.
        double[][] means = [[1, 0, 0], [1, 1, 0.5], [1, 0, 0], [0, 0.5, 1]];
        var chain = new EpochChain(3, new EpochChainOptions { VarianceFloor = 1e-3, PriorVariance = 0.04 });
        for (int n = 0; n < 100; n++)
        {
            var (f, _, steps) = Planted(rng, means);
            chain.Learn(f, steps, new double[steps * chain.Options.MaxEpochs]);
        }

        Assert.That(chain.Epochs, Is.EqualTo(4), "one epoch per planted epoch");
        var truth = new List<int>();
        var found = new List<int>();
        for (int n = 0; n < 50; n++)
        {
            var (f, labels, steps) = Planted(rng, means);
            var post = new double[steps * chain.Options.MaxEpochs];
            chain.Filter(f, steps, post);
            for (int t = 0; t < steps; t++)
            {
                var row = post.AsSpan(t * chain.Options.MaxEpochs, chain.Options.MaxEpochs);
                found.Add(row.IndexOf(row.ToArray().Max()));
                truth.Add(labels[t]);
            }
        }

        double accuracy = truth.Zip(found).Count(p => p.First == p.Second) / (double)truth.Count;
        double ari = EpochChain.AdjustedRand(truth.ToArray(), found.ToArray());
        TestContext.Out.WriteLine($"accuracy {accuracy:F3}, ARI {ari:F3}; durations {string.Join(", ", Enumerable.Range(0, 4).Select(j => chain.Duration(j).ToString("F1")))}");
        Assert.That(accuracy, Is.GreaterThanOrEqualTo(0.9));
        Assert.That(ari, Is.GreaterThanOrEqualTo(0.9));
        for (int j = 0; j < 4; j++)
        {
            Assert.That(chain.Duration(j), Is.EqualTo(7.5).Within(1.5), $"mean duration of epoch {j}");
        }
    }

    [TestCase("delaygo")]
    [TestCase("dmsgo")]
    [TestCase("delaydm1")]
    public void Chain_OnCognitiveTrials_FindsTheTaskEpochs(string name)
    {
        var task = new CognitiveTask(name, new CognitiveOptions { Dt = 50, Ring = 8, TimeScale = 0.3 });
        var chain = new EpochChain(CognitiveTask.FeatureCount);
        var rng = new Rng(3);
        for (int n = 0; n < 100; n++)
        {
            var trial = task.Draw(rng, 1);
            var f = new double[trial.Steps * CognitiveTask.FeatureCount];
            ContinualLearner.Features(task, trial, 0, f);
            chain.Learn(f, trial.Steps, new double[trial.Steps * chain.Options.MaxEpochs]);
        }

        var truth = new List<int>();
        var found = new List<int>();
        for (int n = 0; n < 40; n++)
        {
            var trial = task.Draw(rng, 1);
            var f = new double[trial.Steps * CognitiveTask.FeatureCount];
            ContinualLearner.Features(task, trial, 0, f);
            var post = new double[trial.Steps * chain.Options.MaxEpochs];
            chain.Filter(f, trial.Steps, post);
            // Segment index of the true epochs (roles may repeat in a chain, positions do not).
            int segment = 0;
            for (int t = 0; t < trial.Steps; t++)
            {
                if (t > 0 && trial.Roles[t] != trial.Roles[t - 1])
                {
                    segment++;
                }

                var row = post.AsSpan(t * chain.Options.MaxEpochs, chain.Options.MaxEpochs).ToArray();
                truth.Add(segment);
                found.Add(Array.IndexOf(row, row.Max()));
            }
        }

        double ari = EpochChain.AdjustedRand(truth.ToArray(), found.ToArray());
        TestContext.Out.WriteLine($"{name}: {chain.Epochs} epochs, ARI {ari:F3}");
        // Every true epoch gets its own chain epoch; an outlier trial may add a rarely visited one at the end.
        Assert.That(chain.Epochs, Is.InRange(task.Roles.Count, task.Roles.Count + 2));
        Assert.That(ari, Is.GreaterThanOrEqualTo(0.9));
    }

    [Test]
    public void AdjustedRand_KnownValues()
    {
        Assert.That(EpochChain.AdjustedRand([0, 0, 1, 1], [5, 5, 7, 7]), Is.EqualTo(1.0));
        Assert.That(EpochChain.AdjustedRand([0, 0, 1, 1], [0, 1, 0, 1]), Is.EqualTo(-0.5).Within(1e-12));
    }
}
