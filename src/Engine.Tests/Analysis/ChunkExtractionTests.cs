using Engine.Analysis.Chunks;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Analysis;

/// <summary>Known answers for DSC, PA and UCD: chunks planted in synthetic population activity are recovered; bad input is a clear error.</summary>
public sealed class ChunkExtractionTests
{
    private const int Width = 12, Trials = 20, Steps = 60, Prototypes = 5;

    /// <summary>
    /// Five prototype states (per neuron a permutation of −0.8 … 0.8, so every neuron separates them by 0.4) visited in
    /// dwells of 3–8 steps, plus Gaussian noise σ = 0.03; returns states [S][N] and the planted labels [S].
    /// </summary>
    internal static (float[] States, int[] Labels) Planted(int seed, double noise = 0.03)
    {
        var rng = Rng.For(seed, 7);
        var proto = new double[Prototypes, Width];
        double[] levels = [-0.8, -0.4, 0, 0.4, 0.8];
        for (int j = 0; j < Width; j++)
        {
            var perm = Enumerable.Range(0, Prototypes).ToArray();
            for (int i = Prototypes - 1; i > 0; i--)
            {
                int k = rng.NextInt(i + 1);
                (perm[i], perm[k]) = (perm[k], perm[i]);
            }

            for (int p = 0; p < Prototypes; p++)
            {
                proto[p, j] = levels[perm[p]];
            }
        }

        var states = new float[Trials * Steps * Width];
        var labels = new int[Trials * Steps];
        for (int b = 0; b < Trials; b++)
        {
            int t = 0;
            while (t < Steps)
            {
                int p = rng.NextInt(Prototypes), dwell = 3 + rng.NextInt(6);
                for (int k = 0; k < dwell && t < Steps; k++, t++)
                {
                    int s = b * Steps + t;
                    labels[s] = p;
                    for (int j = 0; j < Width; j++)
                    {
                        states[s * Width + j] = (float)(proto[p, j] + noise * rng.NextGaussian());
                    }
                }
            }
        }

        return (states, labels);
    }

    [TestCase(ChunkMethod.Dsc)]
    [TestCase(ChunkMethod.Pa)]
    [TestCase(ChunkMethod.Ucd)]
    public void PlantedPrototypes_AreRecovered_NmiAtLeast09(ChunkMethod method)
    {
        var (states, planted) = Planted(11);
        var x = ChunkAnalysis.Extract(states, Trials, Steps, Width, planted, Prototypes, new ChunkOptions { Method = method });
        double nmi = ChunkAnalysis.Nmi(x.Labels, planted);
        TestContext.Out.WriteLine($"{method}: {x.Count} chunks, NMI {nmi:F3}, explained {x.FractionExplained:F3}");
        Assert.That(nmi, Is.GreaterThanOrEqualTo(0.9));
        // PA's threshold is the largest deviation of only 4 reference occurrences, so it detects a minority of fresh steps.
        Assert.That(x.FractionExplained, Is.GreaterThan(method == ChunkMethod.Pa ? 0.3 : 0.9));
        Assert.That(x.Labels, Has.Length.EqualTo(Trials * Steps));
        Assert.That(x.Prototypes, Has.All.Length.EqualTo(Width));
    }

    [Test]
    public void Dsc_GrowsWordsFromRecurringPairs_AndParsesShorterThanTheStates()
    {
        var (states, _) = Planted(12);
        var x = ChunkAnalysis.Extract(states, Trials, Steps, Width, null, 0, new ChunkOptions { Method = ChunkMethod.Dsc });
        Assert.That(x.Words!.Count, Is.GreaterThan(x.Count), "BPE added words");
        Assert.That(x.ParseLength, Is.LessThan(Trials * Steps));
        Assert.That(x.ParseChunks!.Distinct().Count(), Is.GreaterThan(1));
    }

    [Test]
    public void Ucd_IsDeterministicForASeed()
    {
        var (states, _) = Planted(13);
        var a = ChunkAnalysis.Extract(states, Trials, Steps, Width, null, 0, new ChunkOptions { Method = ChunkMethod.Ucd, Epochs = 5, Seed = 4 });
        var b = ChunkAnalysis.Extract(states, Trials, Steps, Width, null, 0, new ChunkOptions { Method = ChunkMethod.Ucd, Epochs = 5, Seed = 4 });
        Assert.That(b.Labels, Is.EqualTo(a.Labels));
        Assert.That(b.Embeddings, Is.EqualTo(a.Embeddings));
    }

    [Test]
    public void Nmi_IsOneForARelabelling_AndZeroForIndependentLabels()
    {
        Assert.That(ChunkAnalysis.Nmi([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9]), Is.EqualTo(1).Within(1e-12));
        Assert.That(ChunkAnalysis.Nmi([0, 0, 1, 1], [0, 1, 0, 1]), Is.EqualTo(0).Within(1e-12));
        Assert.That(ChunkAnalysis.Nmi([0, -1, 1], [0, 7, 1]), Is.EqualTo(1).Within(1e-12), "unlabelled steps are left out");
    }

    [Test]
    public void Pa_WithoutLabels_IsAClearErrorNamingTheMethod()
    {
        var (states, _) = Planted(14);
        var e = Assert.Throws<ArgumentException>(() => ChunkAnalysis.Extract(states, Trials, Steps, Width, null, 0, new ChunkOptions { Method = ChunkMethod.Pa }));
        Assert.That(e!.Message, Does.Contain("'pa'").And.Contain("latent labels"));
    }

    [Test]
    public void TooFewSteps_IsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => ChunkAnalysis.Extract(new float[2 * 5 * Width], 2, 5, Width, null, 0, new ChunkOptions()));
        Assert.That(e!.Message, Does.Contain("at least 20 recorded steps").And.Contain("got 10"));
    }

    [Test]
    public void MismatchedStates_AndUnknownMethod_AreClearErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => ChunkAnalysis.Extract(new float[100], 10, 10, Width, null, 0, new ChunkOptions()));
        Assert.That(e!.Message, Does.Contain("states"));
        var m = Assert.Throws<ArgumentException>(() => ChunkOptions.ParseMethod("kmeans"));
        Assert.That(m!.Message, Does.Contain("dsc, pa or ucd"));
    }
}
