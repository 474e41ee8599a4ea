using Engine.Backends;
using Engine.Distances;
using Engine.Tests.Support;
using Engine.Util;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Engine.Tests.Distances.DistanceTestData;

namespace Engine.Tests.Distances;

/// <summary>DSA's alignment against expectations computed here: its Adam on the Cayley parameter written out from the formula with
/// a finite-difference gradient, and the det −1 restart at every rank from 2 to 7 over random rotations.</summary>
public sealed class DsaFormulaTests
{
    /// <summary>C = (I + S)⁻¹(I − S) with S = (X − Xᵀ)/2.</summary>
    private static Matrix<double> Cayley(Matrix<double> x)
    {
        var s = (x - x.Transpose()) * 0.5;
        var id = Matrix<double>.Build.DenseIdentity(x.RowCount);
        return (id + s).Inverse() * (id - s);
    }

    private static double Loss(Matrix<double> a, Matrix<double> b, Matrix<double> x)
    {
        var c = Cayley(x);
        return (c * b * c.Transpose() - a).FrobeniusNorm() is var f ? f * f : 0;
    }

    /// <summary>Adam (β₁ 0.9, β₂ 0.999, ε 1e-8, bias-corrected) from X = 0 with the central-difference gradient of ‖C B Cᵀ − A‖²; returns (euclidean, angular).</summary>
    private static (double Euclidean, double Angular) AdamByHand(Matrix<double> a, Matrix<double> b, int iterations, double lr)
    {
        int r = a.RowCount;
        var x = Matrix<double>.Build.Dense(r, r);
        var m = Matrix<double>.Build.Dense(r, r);
        var v = Matrix<double>.Build.Dense(r, r);
        const double h = 1e-6;
        for (int t = 1; t <= iterations; t++)
        {
            var g = Matrix<double>.Build.Dense(r, r);
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    var up = x.Clone();
                    var down = x.Clone();
                    up[i, j] += h;
                    down[i, j] -= h;
                    g[i, j] = (Loss(a, b, up) - Loss(a, b, down)) / (2 * h);
                }
            }

            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    m[i, j] = 0.9 * m[i, j] + 0.1 * g[i, j];
                    v[i, j] = 0.999 * v[i, j] + 0.001 * g[i, j] * g[i, j];
                    double mhat = m[i, j] / (1 - Math.Pow(0.9, t)), vhat = v[i, j] / (1 - Math.Pow(0.999, t));
                    x[i, j] -= lr * mhat / (Math.Sqrt(vhat) + 1e-8);
                }
            }
        }

        var c = Cayley(x);
        var aligned = c * b * c.Transpose();
        double cos = Math.Clamp(a.PointwiseMultiply(aligned).Enumerate().Sum(), -1, 1);
        return ((aligned - a).FrobeniusNorm(), Math.Acos(cos));
    }

    /// <summary>P B Pᵀ with P the transposition of coordinates 0 and 1 (det P = −1).</summary>
    private static Matrix<double> SwapFirstTwo(Matrix<double> b) => Swap(b.RowCount) * b * Swap(b.RowCount);

    /// <summary>The transposition of coordinates 0 and 1.</summary>
    private static Matrix<double> Swap(int r)
    {
        var p = Matrix<double>.Build.DenseIdentity(r);
        p[0, 0] = p[1, 1] = 0;
        p[0, 1] = p[1, 0] = 1;
        return p;
    }

    private static Matrix<double> Unit(Matrix<double> m) => m / m.FrobeniusNorm();

    [TestCase(3, 4, 0.05)]
    [TestCase(4, 6, 0.02)]
    public void ReferenceAndFastAlignment_FollowAdamFromTheFormula(int r, int iterations, double lr)
    {
        var a = Unit(Stable(r, 11));
        var b = Unit(Stable(r, 12));
        var plus = AdamByHand(a, b, iterations, lr);
        var minus = AdamByHand(a, SwapFirstTwo(b), iterations, lr);
        var expected = minus.Euclidean < plus.Euclidean ? minus : plus;
        // The two branches must differ, or keeping the better one would not be tested.
        Assert.That(Math.Abs(plus.Euclidean - minus.Euclidean), Is.GreaterThan(1e-3));

        var (eu, ang) = DistanceTestData.ReferencePair(Flat(a), Flat(b), r, iterations, lr);
        Assert.That(eu, Is.EqualTo(expected.Euclidean).Within(1e-7));
        Assert.That(ang, Is.EqualTo(expected.Angular).Within(1e-7));

        var fast = Dsa.FromOperators(TestBackends.CpuThreads(1), [Flat(a), Flat(b)], [0, 1], new DsaOptions { Rank = r, Iterations = iterations, LearningRate = lr, Optimizer = DsaOptimizer.Published });
        Assert.That(fast.Euclidean[0, 1], Is.EqualTo(expected.Euclidean).Within(2e-5));
        Assert.That(fast.Angular[0, 1], Is.EqualTo(expected.Angular).Within(2e-5));
    }

    /// <summary>B = Q A Qᵀ with Q a random rotation within reach of the Cayley path (‖S‖₂ ≤ 0.9, angles below 84°), or that rotation
    /// after the swap of coordinates 0 and 1 (det −1): DSA must read 0 in both cases, at even and odd ranks.</summary>
    [Test]
    public void DetMinusOneRestart_AlignsRandomReflections_AtEvenAndOddRanks()
    {
        var failures = new List<string>();
        for (int r = 2; r <= 7; r++)
        {
            for (ulong seed = 1; seed <= 3; seed++)
            {
                var rng = new Rng(1000 * (ulong)r + seed);
                var k = Matrix<double>.Build.Dense(r, r, (_, _) => rng.NextGaussian());
                var skew = (k - k.Transpose()) * 0.5;
                skew *= 0.9 / skew.L2Norm();
                var id = Matrix<double>.Build.DenseIdentity(r);
                var rotation = (id + skew).Inverse() * (id - skew);
                var a = Stable(r, 50 + seed + 10 * (ulong)r);
                foreach (int det in new[] { 1, -1 })
                {
                    var q = det == 1 ? rotation : Swap(r) * rotation;
                    Assert.That(q.Determinant(), Is.EqualTo(det).Within(1e-9));
                    var b = q * a * q.Transpose();
                    var (eu, ang) = DistanceTestData.ReferencePair(Flat(a), Flat(b), r, 1500, 5e-3);
                    var fast = Dsa.FromOperators(TestBackends.CpuThreads(1), [Flat(a), Flat(b)], [0, 1], new DsaOptions { Rank = r });
                    if (eu > 2e-3 || ang > 2e-3 || fast.Angular[0, 1] > 5e-3)
                    {
                        failures.Add($"rank {r} seed {seed} det {det}: reference {eu:G3}/{ang:G3}, fast {fast.Angular[0, 1]:G3}");
                    }
                }
            }
        }

        Assert.That(failures, Is.Empty);
    }
}
