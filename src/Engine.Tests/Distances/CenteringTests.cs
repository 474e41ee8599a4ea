using Engine.Distances;
using Engine.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Engine.Tests.Distances;

/// <summary>CKA and the shape metrics on data that is not zero-mean: per-unit offsets must not change any distance, and the values match the formulas written out here.</summary>
public sealed class CenteringTests
{
    private const int Trials = 3, Steps = 20, Samples = Trials * Steps;

    private static float[] Random(int width, int seed, double offsetScale)
    {
        var rng = new Random(seed);
        var offsets = Enumerable.Range(0, width).Select(_ => offsetScale * (2 * rng.NextDouble() - 1)).ToArray();
        var x = new float[Samples * width];
        for (int s = 0; s < Samples; s++)
        {
            for (int k = 0; k < width; k++)
            {
                x[s * width + k] = (float)(Math.Tanh(rng.NextDouble() * 2 - 1 + 0.3 * k) + offsets[k]);
            }
        }

        return x;
    }

    private static float[] Shift(float[] x, int width, int seed, double scale)
    {
        var rng = new Random(seed);
        var c = Enumerable.Range(0, width).Select(_ => scale * (2 * rng.NextDouble() - 1)).ToArray();
        return x.Select((v, i) => (float)(v + c[i % width])).ToArray();
    }

    /// <summary>arccos of linear CKA, Kornblith et al. 2019, on centred X, Y: ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F).</summary>
    private static double HandCka(float[] a, int na, float[] b, int nb)
    {
        var x = DistanceTestData.CenteredMatrix(a, Samples, na);
        var y = DistanceTestData.CenteredMatrix(b, Samples, nb);
        double cross = (y.TransposeThisAndMultiply(x)).FrobeniusNorm();
        double cka = cross * cross / (x.TransposeThisAndMultiply(x).FrobeniusNorm() * y.TransposeThisAndMultiply(y).FrobeniusNorm());
        return Math.Acos(Math.Clamp(cka, -1, 1));
    }

    /// <summary>Procrustes shape distance (α = 1, netrep) on centred, zero-padded X, Y.</summary>
    private static double HandProcrustes(float[] a, int na, float[] b, int nb)
        => DistanceTestData.ShapeAngle(DistanceTestData.CenteredMatrix(a, Samples, na), DistanceTestData.CenteredMatrix(b, Samples, nb));

    [TestCase(7, 7)]
    [TestCase(9, 5)]
    public void Cka_OnNonCenteredData_MatchesTheFormula_AndIgnoresPerUnitOffsets(int na, int nb)
    {
        var a = Random(na, 1, 3.0);
        var b = Random(nb, 2, 3.0);
        var set = new StateSet([a, b], Trials, Steps, [na, nb]);
        var shifted = new StateSet([Shift(a, na, 3, 10), Shift(b, nb, 4, 10)], Trials, Steps, [na, nb]);
        double expected = HandCka(a, na, b, nb);
        Assert.That(expected, Is.GreaterThan(0.05), "a non-trivial distance");
        foreach (var (name, m) in new[] { ("fast", Cka.Compute(TestBackends.Cpu, set)), ("reference", Cka.Compute(TestBackends.Reference, set)), ("fast, shifted", Cka.Compute(TestBackends.Cpu, shifted)), ("reference, shifted", Cka.Compute(TestBackends.Reference, shifted)) })
        {
            Assert.That(m[0, 1], Is.EqualTo(expected).Within(2e-4), name);
        }
    }

    [TestCase(7, 7)]
    [TestCase(9, 5)]
    public void ShapeMetric_OnNonCenteredData_MatchesProcrustes_AndIgnoresPerUnitOffsetsAtEveryAlpha(int na, int nb)
    {
        var a = Random(na, 5, 3.0);
        var b = Random(nb, 6, 3.0);
        var set = new StateSet([a, b], Trials, Steps, [na, nb]);
        var shifted = new StateSet([Shift(a, na, 7, 10), Shift(b, nb, 8, 10)], Trials, Steps, [na, nb]);
        double procrustes = HandProcrustes(a, na, b, nb);
        Assert.That(procrustes, Is.GreaterThan(0.05), "a non-trivial distance");
        Assert.That(ShapeMetric.Compute(TestBackends.Cpu, set, 1)[0, 1], Is.EqualTo(procrustes).Within(2e-4), "α = 1 is Procrustes on centred states");
        Assert.That(ShapeMetric.Compute(TestBackends.Reference, set, 1)[0, 1], Is.EqualTo(procrustes).Within(2e-4));
        foreach (double alpha in new[] { 0.0, 0.5, 1.0 })
        {
            double plain = ShapeMetric.Compute(TestBackends.Reference, set, alpha)[0, 1];
            Assert.That(ShapeMetric.Compute(TestBackends.Cpu, shifted, alpha)[0, 1], Is.EqualTo(plain).Within(2e-4), $"α = {alpha}: per-unit offsets change nothing (fast)");
            Assert.That(ShapeMetric.Compute(TestBackends.Reference, shifted, alpha)[0, 1], Is.EqualTo(plain).Within(2e-4), $"α = {alpha}: per-unit offsets change nothing (reference)");
        }
    }
}
