using Engine.Backends.Reference;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>The oracle's BPTT gradient against central finite differences, all in float64.</summary>
public sealed class ReferenceGradientTests
{
    public static IEnumerable<TestCaseData> Specs()
    {
        int i = 0;
        foreach (var s in TestData.OddSpecs())
        {
            yield return new TestCaseData(s.WithNetworks(1), 0.0).SetArgDisplayNames($"spec{i++}");
        }

        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 7, Inputs = 3, Outputs = 2, Cell = CellType.Rate, Alpha = 0.1f }, 0.0).SetArgDisplayNames("rate_tanh");
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 5, Inputs = 2, Outputs = 3, Cell = CellType.Rate, Alpha = 0.3f, Activation = ActivationKind.Relu, NoiseStd = 0.1f, InitialState = InitialStateKind.Learned }, 0.0).SetArgDisplayNames("rate_relu_noise_h0");
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 6, Inputs = 2, Outputs = 2, Cell = CellType.Leaky, Alpha = 0.4f }, 0.7).SetArgDisplayNames("leaky_activity");
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 6, Inputs = 2, Outputs = 2, Cell = CellType.Rate, Alpha = 0.2f, InitialState = InitialStateKind.Learned }, 1.3).SetArgDisplayNames("rate_activity_h0");
    }

    [TestCaseSource(nameof(Specs))]
    public void Gradient_MatchesCentralFiniteDifferences_Float64(EnsembleSpec spec, double activity)
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
        ReferenceRnn.LossAndGradient(spec, p, trials, steps, x, y, m, xi, grad, activity);
        const double h = 1e-5;
        var scratch = new double[p.Length];
        for (int k = 0; k < p.Length; k++)
        {
            double keep = p[k];
            p[k] = keep + h;
            double lp = Objective(spec, p, trials, steps, x, y, m, xi, scratch, activity);
            p[k] = keep - h;
            double lm = Objective(spec, p, trials, steps, x, y, m, xi, scratch, activity);
            p[k] = keep;
            double fd = (lp - lm) / (2 * h);
            double err = Math.Abs(fd - grad[k]) / Math.Max(1e-3, Math.Abs(fd) + Math.Abs(grad[k]));
            Assert.That(err, Is.LessThan(1e-6), $"parameter {k}: analytic {grad[k]:R} vs finite difference {fd:R}");
        }
    }

    /// <summary>MSE + λ · mean h², the objective whose gradient the reference returns.</summary>
    private static double Objective(EnsembleSpec spec, double[] p, int trials, int steps, double[] x, double[] y, double[] m, double[] xi, double[] scratch, double activity)
    {
        double mse = ReferenceRnn.LossAndGradient(spec, p, trials, steps, x, y, m, xi, scratch);
        if (activity == 0)
        {
            return mse;
        }

        var states = new double[trials * steps * spec.Hidden];
        ReferenceRnn.Forward(spec, p, trials, steps, x, xi, states, Span<double>.Empty);
        return mse + activity * states.Sum(v => v * v) / states.Length;
    }

    private static double[] Widen(float[] a) => Array.ConvertAll(a, v => (double)v);
}
