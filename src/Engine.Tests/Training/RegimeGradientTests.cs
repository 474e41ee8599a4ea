using Engine.Backends.Reference;
using Engine.Kernels;
using Engine.Model;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>Regularisers, low-rank factors and µP scaling: gradients against central finite differences in float64.</summary>
public sealed class RegimeGradientTests
{
    private static double[] RandomVector(int n, int seed, double scale = 0.5)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private static void AssertMatchesFiniteDifferences(Func<double[], double> f, double[] x, double[] analytic, double h = 1e-6)
    {
        for (int k = 0; k < x.Length; k++)
        {
            double keep = x[k];
            x[k] = keep + h;
            double fp = f(x);
            x[k] = keep - h;
            double fm = f(x);
            x[k] = keep;
            double fd = (fp - fm) / (2 * h);
            double err = Math.Abs(fd - analytic[k]) / Math.Max(1e-3, Math.Abs(fd) + Math.Abs(analytic[k]));
            Assert.That(err, Is.LessThan(1e-6), $"coordinate {k}: analytic {analytic[k]:R} vs finite difference {fd:R}");
        }
    }

    [TestCase(0.3, 0.0, 0.0)]
    [TestCase(0.0, 0.7, 0.0)]
    [TestCase(0.0, 0.0, 0.4)]
    [TestCase(0.2, 0.1, 0.3)]
    public void WeightRegularizer_Gradient_MatchesFiniteDifferences_Float64(double l1, double l2, double nuclear)
    {
        const int n = 6;
        var w = RandomVector(n * n, 3);
        var g = new double[w.Length];
        WeightRegularizer.AddGradient(w, n, l1, l2, nuclear, g);
        AssertMatchesFiniteDifferences(x => WeightRegularizer.Penalty(x, n, l1, l2, nuclear), w, g);
    }

    [Test]
    public void NuclearNorm_OfKnownMatrix_IsSumOfSingularValues()
    {
        // diag(3, -2) rotated: singular values 3 and 2
        double c = Math.Cos(0.4), s = Math.Sin(0.4);
        double[] w = [3 * c, -3 * s, 2 * s, 2 * c];
        Assert.That(WeightRegularizer.Penalty(w, 2, 0, 0, 1), Is.EqualTo(5).Within(1e-12));
    }

    [Test]
    public void LowRank_FactorGradient_MatchesFiniteDifferences_ThroughTheReferenceLoss()
    {
        var spec = new EnsembleSpec { Networks = 1, Hidden = 6, Inputs = 2, Outputs = 2, Cell = CellType.Leaky, Alpha = 0.5f };
        const int rank = 2, trials = 2, steps = 5;
        var batch = Support.TestData.Batch(spec, 1, trials, steps, 9);
        double[] x = Array.ConvertAll(batch.Inputs, v => (double)v), y = Array.ConvertAll(batch.Targets, v => (double)v), m = Array.ConvertAll(batch.Mask, v => (double)v);
        var p = RandomVector(spec.Layout.Stride, 10);
        var factors = RandomVector(LowRank.FactorStride(6, rank), 11, 1.0);
        double Loss(double[] f, double[]? dW)
        {
            LowRank.Compose<double>(f, 6, rank, p.AsSpan(0, 36));
            var grad = new double[p.Length];
            double l = ReferenceRnn.LossAndGradient(spec, p, trials, steps, x, y, m, [], grad);
            grad.AsSpan(0, 36).CopyTo(dW ?? new double[36]);
            return l;
        }

        var dw = new double[36];
        Loss(factors, dw);
        var df = new double[factors.Length];
        LowRank.Pullback<double>(factors, dw, 6, rank, df);
        AssertMatchesFiniteDifferences(f => Loss(f, null), factors, df);
    }

    [Test]
    public void MuP_AdamOnEffectiveWeights_EqualsAdamOnRawWeights()
    {
        // J is trained with lr η and ε; the engine stores W = J/N and trains it with lr η/N and ε/N, where dL/dW = N dL/dJ.
        const int n = 128;
        var rng = new Random(4);
        float j = 0.3f, mj = 0, vj = 0, w = j / n, mw = 0, vw = 0;
        const float eta = 0.01f;
        for (int step = 1; step <= 50; step++)
        {
            float gJ = (float)(rng.NextDouble() - 0.5) * 1e-3f;
            AdamMath.Update(ref j, ref mj, ref vj, gJ, AdamMath.Coefficients(eta, step, 1f));
            AdamMath.Update(ref w, ref mw, ref vw, gJ * n, AdamMath.Coefficients(eta / n, step, 1f, AdamMath.Epsilon / n));
            Assert.That((double)w, Is.EqualTo((double)j / n).Within(1e-5 * Math.Abs((double)j / n)), $"step {step}");
        }
    }

    [Test]
    public void MuP_Initialisation_HasTheDocumentedScales()
    {
        const int n = 200;
        var spec = new EnsembleSpec { Networks = 2, Hidden = n, Inputs = 2, Outputs = 3, Cell = CellType.Rate, Alpha = 0.1f };
        var options = new TrainingOptions { Parameterization = Parameterization.MuP, GammaPerNetwork = [1, 4], Gain = 1.5 };
        var state = Initializer.NewRun(spec, [1, 2], "flipflop", new Dictionary<string, string>(), options);
        for (int e = 0; e < 2; e++)
        {
            var w = spec.Layout.WRec(state.Ensemble.Parameters, e).ToArray();
            double varW = w.Select(v => (double)v * v).Average();
            Assert.That(varW, Is.EqualTo(1.5 * 1.5 / n).Within(0.05 * 1.5 * 1.5 / n), "(1/N) J has entry variance g²/N");
            var c = spec.Layout.WOut(state.Ensemble.Parameters, e).ToArray();
            double gamma = e == 0 ? 1 : 4;
            double stdC = Math.Sqrt(c.Select(v => (double)v * v).Average());
            Assert.That(stdC, Is.EqualTo(1 / (gamma * n)).Within(0.15 / (gamma * n)), "readout scaled 1/(γN)");
            Assert.That(spec.Layout.Bias(state.Ensemble.Parameters, e).ToArray(), Is.All.Zero);
        }

        Assert.Throws<ArgumentException>(() => Initializer.NewRun(spec with { Cell = CellType.Leaky }, [1, 2], "flipflop", new Dictionary<string, string>(), options));
    }
}
