using Engine.Backends.Reference;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>The oracle's BPTT gradient against central finite differences, all in float64.</summary>
public sealed class ReferenceGradientTests
{
    public static IEnumerable<TestCaseData> Specs() => TestData.OddSpecs().Select((s, i) => new TestCaseData(s.WithNetworks(1)).SetArgDisplayNames($"spec{i}"));

    [TestCaseSource(nameof(Specs))]
    public void Gradient_MatchesCentralFiniteDifferences_Float64(EnsembleSpec spec)
    {
        const int trials = 3, steps = 5;
        var batch = TestData.Batch(spec, 1, trials, steps, 7);
        var rng = new Random(8);
        var p = new double[spec.Layout.Stride];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = (rng.NextDouble() * 2 - 1) * 0.6;
        }

        double[] x = Widen(batch.Inputs), y = Widen(batch.Targets), m = Widen(batch.Mask), xi = Widen(batch.Noise);
        var grad = new double[p.Length];
        ReferenceRnn.LossAndGradient(spec, p, trials, steps, x, y, m, xi, grad);
        const double h = 1e-5;
        var scratch = new double[p.Length];
        for (int k = 0; k < p.Length; k++)
        {
            double keep = p[k];
            p[k] = keep + h;
            double lp = ReferenceRnn.LossAndGradient(spec, p, trials, steps, x, y, m, xi, scratch);
            p[k] = keep - h;
            double lm = ReferenceRnn.LossAndGradient(spec, p, trials, steps, x, y, m, xi, scratch);
            p[k] = keep;
            double fd = (lp - lm) / (2 * h);
            double err = Math.Abs(fd - grad[k]) / Math.Max(1e-3, Math.Abs(fd) + Math.Abs(grad[k]));
            Assert.That(err, Is.LessThan(1e-6), $"parameter {k}: analytic {grad[k]:R} vs finite difference {fd:R}");
        }
    }

    private static double[] Widen(float[] a) => Array.ConvertAll(a, v => (double)v);
}
