using System.Numerics;
using Engine.Numerics;
using Engine.Util;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Engine.Tests.Numerics;

/// <summary>
/// <see cref="Eigen"/> against MathNet's non-symmetric Evd (the float64 reference): eigenvalue sets matched by a minimum-cost
/// assignment agree to 1e-10 of the spectral radius; every eigenpair has ‖A v − λ v‖ ≤ 1e-10 ‖A‖_F and ‖v‖ = 1.
/// </summary>
public sealed class EigenTests
{
    private const double Tolerance = 1e-10;

    private static double[] Gaussian(int n, ulong seed, double scale = 1)
    {
        var rng = new Rng(seed * 7919 + (ulong)n);
        return Enumerable.Range(0, n * n).Select(_ => scale * rng.NextGaussian()).ToArray();
    }

    private static Matrix<double> Orthogonal(int n, ulong seed)
        => Matrix<double>.Build.Dense(n, n, Gaussian(n, seed)).QR().Q;

    /// <summary>Q D Qᵀ for a random orthogonal Q and a block-diagonal D, as a row-major array.</summary>
    private static double[] Similar(Matrix<double> d, ulong seed)
    {
        var q = Orthogonal(d.RowCount, seed);
        return (q * d * q.Transpose()).ToRowMajorArray();
    }

    private static Complex[] Reference(double[] a, int n)
        => Matrix<double>.Build.Dense(n, n, (i, j) => a[i * n + j]).Evd(Symmetricity.Asymmetric).EigenValues.ToArray();

    private static double FrobeniusNorm(double[] a) => Math.Sqrt(a.Sum(x => x * x));

    /// <summary>max |x_i − y_σ(i)| over the assignment σ that minimises the total distance.</summary>
    private static double SetDistance(IReadOnlyList<Complex> x, IReadOnlyList<Complex> y)
    {
        int n = x.Count;
        Assert.That(y, Has.Count.EqualTo(n));
        var cost = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                cost[i * n + j] = (x[i] - y[j]).Magnitude;
            }
        }

        var col = LinearAssignment.Minimize(cost, n);
        return Enumerable.Range(0, n).Select(i => cost[i * n + col[i]]).DefaultIfEmpty(0).Max();
    }

    private static void AssertMatchesReference(double[] a, int n, string what)
    {
        var values = new Complex[n];
        Eigen.Values(a, n, values);
        var reference = Reference(a, n);
        double radius = Math.Max(reference.Select(z => z.Magnitude).DefaultIfEmpty(0).Max(), double.Epsilon);
        Assert.That(SetDistance(values, reference), Is.LessThanOrEqualTo(Tolerance * radius), $"{what}: eigenvalues as MathNet's");
        AssertEigenpairs(a, n, values, what);
    }

    /// <summary>Decompose: the same values bitwise, conjugate pairs adjacent (+ first), and A v = λ v with unit v.</summary>
    private static void AssertEigenpairs(double[] a, int n, Complex[] values, string what)
    {
        var vals = new Complex[n];
        var vecs = new Complex[n * n];
        Eigen.Decompose(a, n, vals, vecs);
        Assert.That(vals, Is.EqualTo(values), $"{what}: Decompose and Values give bitwise the same eigenvalues");
        double scale = Math.Max(FrobeniusNorm(a), double.Epsilon);
        for (int j = 0; j < n; j++)
        {
            if (vals[j].Imaginary > 0)
            {
                Assert.That(vals[j + 1], Is.EqualTo(Complex.Conjugate(vals[j])), $"{what}: pair {j} adjacent, positive imaginary part first");
            }

            double residual = 0, norm = 0;
            for (int i = 0; i < n; i++)
            {
                var av = Complex.Zero;
                for (int k = 0; k < n; k++)
                {
                    av += a[i * n + k] * vecs[k * n + j];
                }

                residual += Sq((av - vals[j] * vecs[i * n + j]).Magnitude);
                norm += Sq(vecs[i * n + j].Magnitude);
            }

            Assert.That(Math.Sqrt(residual), Is.LessThanOrEqualTo(Tolerance * scale), $"{what}: ‖A v − λ v‖ for column {j} (λ = {vals[j]})");
            Assert.That(Math.Sqrt(norm), Is.EqualTo(1).Within(1e-12), $"{what}: column {j} has unit norm");
        }
    }

    private static double Sq(double x) => x * x;

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(7)]
    [TestCase(31)]
    [TestCase(65)]
    [TestCase(128)]
    [TestCase(129)]
    public void Values_MatchMathNet_RandomGaussian(int n)
    {
        for (ulong seed = 1; seed <= (n <= 7 ? 20UL : 3UL); seed++)
        {
            AssertMatchesReference(Gaussian(n, seed), n, $"n {n} seed {seed}");
        }
    }

    [TestCase(7)]
    [TestCase(64)]
    [TestCase(129)]
    public void Values_MatchMathNet_TanhRnnJacobian(int n)
    {
        // J = diag(1 − h²) W at h = tanh(W h + b) style states: W ~ 𝒩(0, g²/N), g = 1.5, h spread over the tanh's range
        for (ulong seed = 1; seed <= 3; seed++)
        {
            var w = Gaussian(n, seed, 1.5 / Math.Sqrt(n));
            var rng = new Rng(seed + 99);
            var j = new double[n * n];
            for (int i = 0; i < n; i++)
            {
                double h = Math.Tanh(2 * rng.NextGaussian());
                for (int k = 0; k < n; k++)
                {
                    j[i * n + k] = (1 - h * h) * w[i * n + k];
                }
            }

            AssertMatchesReference(j, n, $"tanh Jacobian n {n} seed {seed}");
        }
    }

    [TestCase(2)]
    [TestCase(9)]
    [TestCase(64)]
    public void Values_ExactComplexPairs_RotationBlocksUnderSimilarity(int n)
    {
        // D = ⊕ r_k [[cos θ_k, −sin θ_k], [sin θ_k, cos θ_k]] (and a trailing 1×1 when n is odd): eigenvalues r_k e^{±iθ_k}
        var d = Matrix<double>.Build.Dense(n, n);
        var expected = new List<Complex>();
        for (int k = 0; k + 1 < n; k += 2)
        {
            double r = 0.5 + 0.01 * k, theta = 0.3 + 0.05 * k;
            d[k, k] = d[k + 1, k + 1] = r * Math.Cos(theta);
            d[k, k + 1] = -r * Math.Sin(theta);
            d[k + 1, k] = r * Math.Sin(theta);
            expected.Add(Complex.FromPolarCoordinates(r, theta));
            expected.Add(Complex.FromPolarCoordinates(r, -theta));
        }

        if (n % 2 == 1)
        {
            d[n - 1, n - 1] = -0.7;
            expected.Add(-0.7);
        }

        foreach (var (a, what) in new[] { (d.ToRowMajorArray(), "block diagonal"), (Similar(d, 3), "under an orthogonal similarity") })
        {
            var values = new Complex[n];
            Eigen.Values(a, n, values);
            Assert.That(SetDistance(values, expected), Is.LessThanOrEqualTo(Tolerance), $"{what}: r e^{{±iθ}}");
            Assert.That(values.Count(v => v.Imaginary > 0), Is.EqualTo(n / 2), $"{what}: {n / 2} pairs");
            AssertMatchesReference(a, n, what);
        }
    }

    [Test]
    public void Values_RepeatedEigenvalues()
    {
        // a normal matrix with eigenvalues 2 (×3), −1 (×2), 0.5 and the pair 0.3 ± 0.4i (×2)
        int n = 10;
        var d = Matrix<double>.Build.Dense(n, n);
        double[] diagonal = [2, 2, 2, -1, -1, 0.5];
        for (int i = 0; i < diagonal.Length; i++)
        {
            d[i, i] = diagonal[i];
        }

        for (int k = 6; k < n; k += 2)
        {
            d[k, k] = d[k + 1, k + 1] = 0.3;
            d[k, k + 1] = -0.4;
            d[k + 1, k] = 0.4;
        }

        var a = Similar(d, 11);
        var values = new Complex[n];
        Eigen.Values(a, n, values);
        Complex[] expected = [2, 2, 2, -1, -1, 0.5, new(0.3, 0.4), new(0.3, -0.4), new(0.3, 0.4), new(0.3, -0.4)];
        Assert.That(SetDistance(values, expected), Is.LessThanOrEqualTo(1e-12 * 10));
        AssertMatchesReference(a, n, "repeated");
    }

    [TestCase(1)]
    [TestCase(6)]
    [TestCase(33)]
    public void Values_UpperTriangular_AreTheDiagonal(int n)
    {
        var a = Gaussian(n, 5);
        for (int i = 0; i < n; i++)
        {
            Array.Clear(a, i * n, i);
        }

        var values = new Complex[n];
        Eigen.Values(a, n, values);
        Assert.That(values, Is.EqualTo(Enumerable.Range(0, n).Select(i => new Complex(a[i * n + i], 0))), "exactly the diagonal, in order");
        AssertEigenpairs(a, n, values, "triangular");
    }

    [TestCase(1)]
    [TestCase(5)]
    [TestCase(128)]
    public void Decompose_ZeroMatrix_ZeroValuesAndTheUnitVectors(int n)
    {
        var a = new double[n * n];
        var values = new Complex[n];
        var vectors = new Complex[n * n];
        Eigen.Decompose(a, n, values, vectors);
        Assert.That(values, Is.All.EqualTo(Complex.Zero));
        Assert.That(vectors, Is.EqualTo(Enumerable.Range(0, n * n).Select(k => k / n == k % n ? Complex.One : Complex.Zero)));
    }

    [Test]
    public void Values_EmptyMatrix_IsEmpty()
    {
        Eigen.Values([], 0, Span<Complex>.Empty);
        Eigen.Decompose([], 0, Span<Complex>.Empty, Span<Complex>.Empty);
    }

    [Test]
    public void Values_RejectNonFiniteAndMisshapenInput()
    {
        var values = new Complex[2];
        var vectors = new Complex[4];
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            var ex = Assert.Throws<ArgumentException>(() => Eigen.Values([1, 0, bad, 1], 2, values));
            Assert.That(ex!.Message, Does.Contain("a[1, 0]").And.Contain("finite"));
            Assert.Throws<ArgumentException>(() => Eigen.Decompose([1, 0, bad, 1], 2, values, vectors));
        }

        Assert.Throws<ArgumentException>(() => Eigen.Values([1, 2, 3], 2, values));
        Assert.Throws<ArgumentException>(() => Eigen.Values([1, 2, 3, 4], 2, new Complex[3]));
        Assert.Throws<ArgumentException>(() => Eigen.Decompose([1, 2, 3, 4], 2, values, new Complex[3]));
        Assert.Throws<ArgumentException>(() => Eigen.Values([1, 2, 3, 4], 2, values, new EigenWorkspace(3)));
        Assert.Throws<ArgumentException>(() => Eigen.ValuesBatch(new double[7], 2, new Complex[4]));
    }

    [Test]
    public void Batch_MatchesOneAtATime_WhateverTheThreads()
    {
        int n = 33, count = 9;
        var matrices = Enumerable.Range(0, count).SelectMany(k => Gaussian(n, (ulong)k + 40)).ToArray();
        var single = new Complex[count * n];
        var singleVectors = new Complex[count * n * n];
        var ws = new EigenWorkspace(n);
        for (int k = 0; k < count; k++)
        {
            Eigen.Decompose(matrices.AsSpan(k * n * n, n * n), n, single.AsSpan(k * n, n), singleVectors.AsSpan(k * n * n, n * n), ws);
        }

        foreach (int threads in new[] { 1, 2, 0 })
        {
            var values = new Complex[count * n];
            Assert.That(Eigen.ValuesBatch(matrices, n, values, threads), Is.All.True);
            Assert.That(values, Is.EqualTo(single), $"{threads} threads: values");
            var vals = new Complex[count * n];
            var vecs = new Complex[count * n * n];
            Eigen.DecomposeBatch(matrices, n, vals, vecs, threads);
            Assert.That((vals, vecs), Is.EqualTo((single, singleVectors)), $"{threads} threads: decomposition");
        }
    }

    [Test]
    public void SortByDecreasingModulus_TiesByRealThenImaginary_PermutesColumns()
    {
        Complex[] values = [new(0.5, 0), new(0, 1), new(-1, 0), new(0, -1), new(1, 0), 2];
        int n = values.Length;
        var vectors = new Complex[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < n; c++)
            {
                vectors[i * n + c] = values[c] * (i + 1);
            }
        }

        Eigen.SortByDecreasingModulus(values, vectors);
        Assert.That(values, Is.EqualTo(new Complex[] { 2, 1, new(0, 1), new(0, -1), -1, 0.5 }));
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < n; c++)
            {
                Assert.That(vectors[i * n + c], Is.EqualTo(values[c] * (i + 1)), $"row {i} column {c} moved with its value");
            }
        }
    }
}
