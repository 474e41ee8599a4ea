using Engine.Backends.Cpu;
using Engine.Distances;
using Engine.Tests.Support;
using Engine.Util;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Engine.Tests.Distances.DistanceTestData;

namespace Engine.Tests.Distances;

/// <summary>The shape metric against netrep's formulas written out here: partial whitening (with its eigenvalue floor), the
/// distance at α in (0, 1), widths that fill the 16-column padding exactly, the nuclear norm of either Gram, the argument checks.</summary>
public sealed class ShapeMetricFormulaTests
{
    private static void AssertClose(double[] actual, Matrix<double> expected, double relative, string what)
    {
        double scale = expected.Enumerate().Max(Math.Abs);
        Assert.That(actual, Has.Length.EqualTo(expected.RowCount * expected.ColumnCount));
        for (int s = 0; s < expected.RowCount; s++)
        {
            for (int k = 0; k < expected.ColumnCount; k++)
            {
                Assert.That(actual[s * expected.ColumnCount + k], Is.EqualTo(expected[s, k]).Within(relative * scale), $"{what}: sample {s}, unit {k}");
            }
        }
    }

    [TestCase(0.0)]
    [TestCase(0.3)]
    [TestCase(0.5)]
    public void Whiten_MatchesPartialWhiteningWrittenOut(double alpha)
    {
        const int s = 43, n = 6;
        var x = States(s, n, 501);
        AssertClose(ShapeMetric.Whiten(x, s, n, alpha), PartialWhiten(CenteredMatrix(x, s, n), alpha), 1e-9, $"α = {alpha}");
    }

    [TestCase(0.0)]
    [TestCase(0.5)]
    public void Whiten_ClampsEigenvaluesBelowATenBillionthOfTheLargest(double alpha)
    {
        // The third unit has ≈ 1e-14 of the first one's variance: below the floor 1e-10 · max λ, so that direction is scaled by
        // α + (1 − α) / √(1e-10 max λ) and stays ≈ 1e-2 of the others at α = 0, instead of being whitened up to their size.
        const int s = 50;
        var rng = new Rng(511);
        var x = new float[s * 3];
        for (int t = 0; t < s; t++)
        {
            x[t * 3] = (float)(2 * rng.NextGaussian());
            x[t * 3 + 1] = (float)rng.NextGaussian();
            x[t * 3 + 2] = (float)(1e-7 * rng.NextGaussian());
        }

        var centred = CenteredMatrix(x, s, 3);
        var lam = (centred.TransposeThisAndMultiply(centred) / s).Evd(Symmetricity.Symmetric).EigenValues.Select(z => z.Real).ToArray();
        Assert.That(lam.Min() / lam.Max(), Is.LessThan(1e-12), "the floor is reached");
        AssertClose(ShapeMetric.Whiten(x, s, 3, alpha), PartialWhiten(centred, alpha), 1e-9, $"α = {alpha}");
    }

    [Test]
    public void Whiten_AlphaOne_IsTheCentredStatesExactly()
    {
        // Integer states with integer column means (3, 2, 1): centring is exact, and α = 1 must leave it untouched, with no
        // rotation into the eigenbasis and back (which would leave rounding).
        float[] x = [1, 4, -2, 2, 0, 5, 3, 1, 1, 6, 3, 0];
        Assert.That(ShapeMetric.Whiten(x, 4, 3, 1), Is.EqualTo(new double[] { -2, 2, -3, -1, -2, 4, 0, -1, 0, 3, 1, -1 }));
    }

    [TestCase(0.0)]
    [TestCase(0.3)]
    [TestCase(0.7)]
    public void Distance_MatchesNetrepFormula_PartialWhitening_DifferentWidths(double alpha)
    {
        const int s = 61;
        int[] widths = [5, 9, 3];
        var states = widths.Select((n, e) => States(s, n, (ulong)(521 + e))).ToArray();
        var set = new StateSet(states, 1, s, widths);
        var x = widths.Select((n, e) => PartialWhiten(CenteredMatrix(states[e], s, n), alpha)).ToArray();
        var reference = ShapeMetric.Compute(TestBackends.Reference, set, alpha);
        var fast = ShapeMetric.Compute(TestBackends.CpuThreads(1), set, alpha);
        foreach (var (i, j) in PairwiseMatrix.Pairs(3))
        {
            double expected = ShapeAngle(x[i], x[j]);
            Assert.That(expected, Is.GreaterThan(0.05), "a non-trivial distance");
            Assert.That(reference[i, j], Is.EqualTo(expected).Within(1e-8), $"reference ({i}, {j})");
            Assert.That(fast[i, j], Is.EqualTo(expected).Within(2e-4), $"fast ({i}, {j})");
        }
    }

    // Widths that are multiples of 16 fill their padding exactly: the cross product has no zero column or row to hide a read
    // past the block (rows ≤ cols takes the row Gram, rows > cols the column Gram).
    [TestCase(16, 32)]
    [TestCase(32, 16)]
    [TestCase(16, 16)]
    public void Fast_MatchesProcrustes_WidthsThatFillThePadding(int na, int nb)
    {
        const int s = 50;
        var a = States(s, na, 531);
        var b = States(s, nb, 532);
        var set = Set(1, s, (a, na), (b, nb));
        double expected = ShapeAngle(CenteredMatrix(a, s, na), CenteredMatrix(b, s, nb));
        Assert.That(ShapeMetric.Compute(TestBackends.CpuThreads(1), set, 1)[0, 1], Is.EqualTo(expected).Within(2e-4));
        Assert.That(ShapeMetric.Compute(TestBackends.CpuThreads(1), set, 0.5)[0, 1], Is.EqualTo(ShapeMetric.Compute(TestBackends.Reference, set, 0.5)[0, 1]).Within(2e-4));
    }

    // Σ σ_k of the rows × cols block from the smaller Gram, with NaN in the padding columns (ldc > cols) so that a read
    // outside the block fails. The thin blocks (1 × 9, 9 × 1) are rank one: the smaller Gram is 1 × 1 and exact, where the
    // larger one's zero eigenvalues would each add ≈ 1e-8 σ through rounding.
    [TestCase(3, 7, 7)]
    [TestCase(7, 3, 3)]
    [TestCase(5, 5, 5)]
    [TestCase(4, 6, 16)]
    [TestCase(6, 4, 16)]
    [TestCase(1, 9, 9)]
    [TestCase(9, 1, 16)]
    public void NuclearNorm_IsTheSumOfSingularValues_EitherOrientation(int rows, int cols, int ldc)
    {
        var m = RandomMatrix(rows, cols, 541).Map(v => (double)(float)v);
        var c = new float[rows * ldc];
        Array.Fill(c, float.NaN);
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < cols; k++)
            {
                c[r * ldc + k] = (float)m[r, k];
            }
        }

        double expected = m.Svd(computeVectors: false).S.Sum();
        Assert.That(CpuDistanceKernels.NuclearNorm(c, rows, cols, ldc), Is.EqualTo(expected).Within(1e-12 * expected));
    }

    [Test]
    public void NullStates_IsAnArgumentNullException()
    {
        Assert.That(() => ShapeMetric.Compute(TestBackends.Cpu, null!, 1), Throws.ArgumentNullException);
        Assert.That(() => ShapeMetric.Compute(TestBackends.Reference, null!, 1), Throws.ArgumentNullException);
    }

    [TestCase(1.0)]
    [TestCase(0.5)]
    public void ConstantNetwork_IsAnErrorNamingIt(double alpha)
    {
        // Network id 7 is constant (1.5 everywhere: its centred states are exactly zero, so its norm is exactly 0 at α = 1).
        var set = new StateSet([States(8, 2, 551), Enumerable.Repeat(1.5f, 16).ToArray(), States(8, 2, 552)], 2, 4, [2, 2, 2], [4, 7, 9]);
        var runs = new (string Name, Func<PairwiseMatrix> Run)[]
        {
            ("reference", () => ShapeMetric.Compute(TestBackends.Reference, set, alpha)),
            ("fast", () => ShapeMetric.Compute(TestBackends.CpuThreads(1), set, alpha)),
        };
        foreach (var (name, run) in runs)
        {
            Assert.That(() => run(), Throws.ArgumentException.With.Property("ParamName").EqualTo("states").And.Message.Contains("Network 7 has constant states"), name);
        }
    }
}
