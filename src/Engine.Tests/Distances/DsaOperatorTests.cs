using Complex = System.Numerics.Complex;
using Engine.Backends;
using Engine.Distances;
using Engine.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Engine.Tests.Distances.DistanceTestData;

namespace Engine.Tests.Distances;

/// <summary>
/// DSA's pieces against values worked out in the test: the delay embedding entry by entry, its size limits at their
/// boundaries, the fitted operator entry by entry (not only its spectrum) and its sign convention, the ridge, the
/// top eigenpairs, the scores of rank-one operators, the options and the errors.
/// </summary>
public sealed class DsaOperatorTests
{
    [Test]
    public void Embed_StacksTheDelayedStates_EntryByEntry()
    {
        // x(b, s)_k = 100 b + 10 s + k; 2 trials of 5 steps, width 2, delays 2 apart 2: rows (b, t) = [x(b, t + 2), x(b, t)]
        const int trials = 2, steps = 5, width = 2;
        var x = new float[trials * steps * width];
        for (int b = 0; b < trials; b++)
        {
            for (int s = 0; s < steps; s++)
            {
                for (int k = 0; k < width; k++)
                {
                    x[(b * steps + s) * width + k] = 100 * b + 10 * s + k;
                }
            }
        }

        var (h, rows, cols) = DsaOperator.Embed(x, trials, steps, width, new DsaOptions { Delays = 2, DelayInterval = 2, Rank = 2 });
        Assert.That((rows, cols), Is.EqualTo((6, 4)));
        var expected = new List<double>();
        for (int b = 0; b < trials; b++)
        {
            for (int t = 0; t < 3; t++)
            {
                expected.AddRange([100 * b + 10 * (t + 2), 100 * b + 10 * (t + 2) + 1, 100 * b + 10 * t, 100 * b + 10 * t + 1]);
            }
        }

        Assert.That(h, Is.EqualTo(expected));
    }

    [Test]
    public void Embed_SizeLimits_AtTheirBoundaries()
    {
        var x = LinearTrajectories(Stable(3, 1), 2, 8, 0.1, 2);
        // 3 delays 3 apart span 6 steps: 8 steps leave 2 samples per trial (the least); 8 delays 1 apart span 7 and leave 1
        Assert.That(() => DsaOperator.Embed(x, 2, 8, 3, new DsaOptions { Delays = 3, DelayInterval = 3, Rank = 2 }), Throws.Nothing);
        Assert.That(() => DsaOperator.Embed(x, 2, 8, 3, new DsaOptions { Delays = 8, DelayInterval = 1, Rank = 2 }), Throws.ArgumentException.With.Message.Contains("need at least 9 steps"));
        // rank up to the embedding width (2 delays × 3 units), and up to the number of consecutive pairs (2 trials × 1)
        var y = LinearTrajectories(Stable(3, 1), 4, 8, 0.1, 2);
        Assert.That(() => DsaOperator.Embed(y, 4, 8, 3, new DsaOptions { Delays = 2, Rank = 6 }), Throws.Nothing);
        Assert.That(() => DsaOperator.Embed(y, 4, 8, 3, new DsaOptions { Delays = 2, Rank = 7 }), Throws.ArgumentException.With.Message.Contains("rank 7 exceeds the delay-embedding width 6"));
        Assert.That(() => DsaOperator.Embed(x, 2, 8, 3, new DsaOptions { Delays = 3, DelayInterval = 3, Rank = 2 }), Throws.Nothing, "2 pairs for rank 2");
        Assert.That(() => DsaOperator.Embed(x, 2, 8, 3, new DsaOptions { Delays = 3, DelayInterval = 3, Rank = 3 }), Throws.ArgumentException.With.Message.Contains("2 consecutive embedded samples (2 trials × 1) for rank 3"));
        Assert.That(() => DsaOperator.Fit(x, 2, 8, 3, new DsaOptions { Delays = 0 }), Throws.TypeOf<ArgumentOutOfRangeException>(), "the fits validate their options");
        Assert.That(() => DsaOperator.FitReference(x, 2, 8, 3, new DsaOptions { Rank = 0 }), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    /// <summary>
    /// With one delay and full rank, the reduced coordinates are an invertible linear map of the states, so the operator
    /// is the least-squares one-step map M = (Σ x₁x₀ᵀ)(Σ x₀x₀ᵀ)⁻¹ in other coordinates: the same spectrum. Worked out here
    /// directly from the states.
    /// </summary>
    [Test]
    public void Fit_FullRank_HasTheSpectrumOfTheLeastSquaresOneStepMap()
    {
        const int n = 3, trials = 5, steps = 12;
        var x = LinearTrajectories(Stable(n, 21, 0.8), trials, steps, 0.3, 22);
        var expected = Sorted(OneStepMap(x.Select(v => (double)v).ToArray(), trials, steps, n, 0).Evd().EigenValues.ToArray());
        var options = new DsaOptions { Delays = 1, Rank = n };
        foreach (var (name, a, tol) in new[] { ("reference", DsaOperator.FitReference(x, trials, steps, n, options), 1e-9), ("fast", DsaOperator.Fit(x, trials, steps, n, options), 2e-5) })
        {
            var got = Sorted(Dsa.Eigenvalues(a, n));
            for (int k = 0; k < n; k++)
            {
                Assert.That((got[k] - expected[k]).Magnitude, Is.LessThan(tol), $"{name}: eigenvalue {k}");
            }
        }
    }

    private static Complex[] Sorted(Complex[] v) => [.. v.OrderBy(z => z.Real).ThenBy(z => z.Imaginary)];

    /// <summary>
    /// The operator itself, not only its spectrum: the fast path (Gram + subspace iteration) and the reference (SVD) give
    /// the same matrix entry by entry, because both fix each reduced coordinate's sign (its largest entry positive) and
    /// scale (unit norm); and so flipping the states' sign leaves the operator unchanged.
    /// </summary>
    [Test]
    public void Fit_OperatorEntries_MatchTheReference_AndIgnoreTheStatesSign()
    {
        const int n = 5, trials = 4, steps = 30;
        var x = LinearTrajectories(Stable(n, 31, 0.9), trials, steps, 0.2, 32);
        var negated = x.Select(v => -v).ToArray();
        var options = new DsaOptions { Delays = 2, DelayInterval = 1, Rank = 4 };
        var reference = DsaOperator.FitReference(x, trials, steps, n, options);
        Assert.That(DsaOperator.Fit(x, trials, steps, n, options), Is.EqualTo(reference).Within(1e-4), "fast vs reference");
        Assert.That(DsaOperator.FitReference(negated, trials, steps, n, options), Is.EqualTo(reference).Within(1e-9), "reference of −x");
        Assert.That(DsaOperator.Fit(negated, trials, steps, n, options), Is.EqualTo(reference).Within(1e-4), "fast of −x");
        Assert.That(reference.Select(Math.Abs).Max(), Is.GreaterThan(0.05), "a non-trivial operator");
    }

    /// <summary>The ridge λ solves A (Σ z₀z₀ᵀ + λ I) = Σ z₁z₀ᵀ: it shrinks every singular direction by s / (s + λ), so ‖A‖ falls as λ grows.</summary>
    [Test]
    public void Fit_Ridge_ShrinksTheOperator()
    {
        var x = LinearTrajectories(Stable(4, 41, 0.9), 3, 25, 0.2, 42);
        double Norm(double ridge) => Math.Sqrt(DsaOperator.FitReference(x, 3, 25, 4, new DsaOptions { Delays = 1, Rank = 3, Ridge = ridge }).Sum(v => v * v));
        double none = Norm(0), some = Norm(0.05), more = Norm(0.5);
        Assert.That(some, Is.LessThan(none * 0.999));
        Assert.That(more, Is.LessThan(some * 0.99));
        // the reduced coordinates have unit norm over all samples, so λ ≫ 1 leaves ≈ (Σ z₁z₀ᵀ) / λ
        Assert.That(Norm(1e4) * 1e4, Is.InRange(0.1, 3.0 * 1.001));
    }

    /// <summary>A = (Σ z₁z₀ᵀ)(Σ z₀z₀ᵀ + λ I)⁻¹ over consecutive samples within each trial, the sums written out here.</summary>
    [TestCase(0.0)]
    [TestCase(0.3)]
    public void Regress_IsTheRidgeLeastSquaresOneStepMap(double ridge)
    {
        const int trials = 3, perTrial = 6, r = 3;
        var rng = new Random(81);
        var z = Enumerable.Range(0, trials * perTrial * r).Select(_ => rng.NextDouble() - 0.5).ToArray();
        Assert.That(DsaOperator.Regress(z, trials, perTrial, r, ridge), Is.EqualTo(OneStepMap(z, trials, perTrial, r, ridge).ToRowMajorArray()).Within(1e-12));
    }

    /// <summary>(Σ x₁x₀ᵀ)(Σ x₀x₀ᵀ + λ I)⁻¹ over consecutive samples within each trial of x [trials][steps][width], the sums written out.</summary>
    private static Matrix<double> OneStepMap(double[] x, int trials, int steps, int width, double ridge)
    {
        var xx = Matrix<double>.Build.DenseIdentity(width) * ridge;
        var yx = Matrix<double>.Build.Dense(width, width);
        for (int b = 0; b < trials; b++)
        {
            for (int t = 0; t + 1 < steps; t++)
            {
                var x0 = Vector<double>.Build.Dense(width, k => x[(b * steps + t) * width + k]);
                var x1 = Vector<double>.Build.Dense(width, k => x[(b * steps + t + 1) * width + k]);
                xx += x0.OuterProduct(x0);
                yx += x1.OuterProduct(x0);
            }
        }

        return yx * xx.Inverse();
    }

    [Test]
    public void Regress_Singular_IsAClearError_TheRidgeRepairsIt()
    {
        // coordinate 1 is non-zero only at each trial's last sample, which is never a regressor
        const int trials = 2, perTrial = 4, r = 2;
        var z = new double[trials * perTrial * r];
        for (int s = 0; s < trials * perTrial; s++)
        {
            z[s * r] = 1 + s;
            z[s * r + 1] = s % perTrial == perTrial - 1 ? 1 : 0;
        }

        Assert.That(() => DsaOperator.Regress(z, trials, perTrial, r, 0), Throws.ArgumentException.With.Message.Contains("regression is singular"));
        Assert.That(DsaOperator.Regress(z, trials, perTrial, r, 0.1), Has.All.Matches<double>(double.IsFinite));
    }

    [Test]
    public void CanonicalSigns_MakeEachCoordinatesLargestSamplePositive()
    {
        // columns: largest −3 (flipped), largest 2 (kept), a tie 0.5 / −0.5 (the first wins: kept), all zero (kept)
        double[] z = [1, 2, 0.5, 0, -3, -1, -0.5, 0, 2, 0.25, 0.1, 0];
        DsaOperator.CanonicalSigns(z, 3, 4);
        Assert.That(z, Is.EqualTo(new[] { -1, 2, 0.5, 0, 3, -1, -0.5, 0, -2, 0.25, 0.1, 0 }));
        var again = (double[])z.Clone();
        DsaOperator.CanonicalSigns(again, 3, 4);
        Assert.That(again, Is.EqualTo(z), "idempotent");
        var flipped = z.Select((v, i) => i % 4 == 1 ? -v : v).ToArray();
        DsaOperator.CanonicalSigns(flipped, 3, 4);
        Assert.That(flipped, Is.EqualTo(z), "a coordinate's sign does not matter");
    }

    [Test]
    // the rank test is relative to σ²_1: the same states at any scale have the same rank
    [TestCase(1f)]
    [TestCase(1e3f)]
    [TestCase(1e-3f)]
    public void Fit_RankAboveTheStatesRank_IsAClearError_TheirRankIsFine(float scale)
    {
        // a planar system embedded in three units: rank 2
        var planar = LinearTrajectories(Stable(2, 51, 0.9), 3, 20, 0.2, 52);
        var x = new float[3 * 20 * 3];
        for (int s = 0; s < 60; s++)
        {
            float a = scale * planar[s * 2], b = scale * planar[s * 2 + 1];
            x[s * 3] = a;
            x[s * 3 + 1] = b;
            x[s * 3 + 2] = a - 2 * b;
        }

        foreach (var fit in new Func<DsaOptions, double[]>[] { o => DsaOperator.Fit(x, 3, 20, 3, o), o => DsaOperator.FitReference(x, 3, 20, 3, o) })
        {
            Assert.That(fit(new DsaOptions { Delays = 1, Rank = 2 }), Has.Length.EqualTo(4));
            Assert.That(() => fit(new DsaOptions { Delays = 1, Rank = 3 }), Throws.ArgumentException.With.Message.Contains("numerical rank below 3"));
        }
    }

    [TestCase(12, 4, 1.0)]
    [TestCase(40, 4, 1e-9)]
    [TestCase(6, 4, 1.0)]
    [TestCase(9, 9, 1.0)]
    public void TopEigen_MatchesTheSymmetricEigenDecomposition(int n, int r, double scale)
    {
        var b = RandomMatrix(n + 3, n, 61);
        var g = b.TransposeThisAndMultiply(b) * scale;
        var evd = g.Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, n).OrderByDescending(i => evd.EigenValues[i].Real).ToArray();
        var (values, vectors) = DsaOperator.TopEigen(g.ToRowMajorArray(), n, r);
        Assert.That(values, Has.Length.EqualTo(r));
        Assert.That(vectors, Has.Length.EqualTo(r * n));
        for (int k = 0; k < r; k++)
        {
            double lambda = evd.EigenValues[order[k]].Real;
            Assert.That(values[k], Is.EqualTo(lambda).Within(1e-10 * evd.EigenValues.Select(v => v.Real).Max()), $"λ{k}");
            var v = Vector<double>.Build.Dense(n, i => vectors[k * n + i]);
            Assert.That(Math.Abs(v.DotProduct(evd.EigenVectors.Column(order[k]))), Is.EqualTo(1).Within(1e-8), $"v{k} up to sign");
        }
    }

    [Test]
    public void Gram_IsHTransposeH_Symmetric()
    {
        var h = Enumerable.Range(0, 7 * 5).Select(i => Math.Sin(0.7 * i) + 0.1 * i).ToArray();
        var g = DsaOperator.Gram(h, 7, 5);
        var m = Matrix<double>.Build.Dense(7, 5, (i, j) => h[i * 5 + j]);
        var expected = m.TransposeThisAndMultiply(m);
        for (int a = 0; a < 5; a++)
        {
            for (int b = 0; b < 5; b++)
            {
                Assert.That(g[a * 5 + b], Is.EqualTo(expected[a, b]).Within(1e-5 * expected[a, a]), $"G[{a},{b}]");
                Assert.That(g[a * 5 + b], Is.EqualTo(g[b * 5 + a]), "symmetric");
            }
        }
    }

    /// <summary>
    /// Rank one: the alignment is trivial (C = ±1 leaves a scalar alone) and DSA compares the normalised operators
    /// a / |a| = sign a; the Wasserstein score compares the raw eigenvalues a and b.
    /// </summary>
    [Test]
    public void FromOperators_RankOne_ScoresByHand()
    {
        int calls = 0, lastDone = -1, lastTotal = -1;
        var result = Dsa.FromOperators(TestBackends.CpuThreads(1), [[0.5], [0.2], [-0.3]], [7, 8, 9], new DsaOptions { Rank = 1, Iterations = 10 }, (done, total) =>
        {
            calls++;
            Assert.That(done, Is.GreaterThanOrEqualTo(lastDone));
            (lastDone, lastTotal) = (done, total);
        });
        Assert.That(result.Angular.Ids, Is.EqualTo(new[] { 7, 8, 9 }));
        Assert.That(result.Angular[0, 1], Is.EqualTo(0).Within(1e-6));
        Assert.That(result.Angular[0, 2], Is.EqualTo(Math.PI).Within(1e-3));
        Assert.That(result.Euclidean[0, 1], Is.EqualTo(0).Within(1e-6));
        Assert.That(result.Euclidean[1, 2], Is.EqualTo(2).Within(1e-6));
        Assert.That(result.Wasserstein[0, 1], Is.EqualTo(0.3).Within(1e-12));
        Assert.That(result.Wasserstein[0, 2], Is.EqualTo(0.8).Within(1e-12));
        Assert.That(result.Wasserstein[2, 1], Is.EqualTo(0.5).Within(1e-12));
        Assert.That(result.Operators[2], Is.EqualTo(new[] { -0.3 }));
        Assert.That((calls > 0, lastDone, lastTotal), Is.EqualTo((true, 3, 3)), "progress ends at every pair done");
        Assert.That(DistanceTestData.ReferencePair([0.5], [-0.3], 1, 10, 5e-3), Is.EqualTo((2.0, Math.PI)).Within(1e-9), "the reference has no coordinate swap at rank one");
        Assert.That(DistanceTestData.ReferencePair([0.5], [0.2], 1, 10, 5e-3), Is.EqualTo((0.0, 0.0)).Within(1e-9));
    }

    /// <summary>
    /// Progress ends at every pair done whichever worker finishes last: two workers, several batches of pairs, and a slow
    /// progress callback, so the worker that reports falls behind and the other one takes the last batches.
    /// </summary>
    [Test]
    public void FromOperators_Progress_EndsAtEveryPair_OnTwoThreads()
    {
        var ops = Enumerable.Range(0, 12).Select(k => Flat(Stable(2, (ulong)(70 + k)))).ToArray();
        var seen = new List<(int Done, int Total)>();
        Dsa.FromOperators(TestBackends.CpuThreads(2), ops, [.. Enumerable.Range(0, 12)], new DsaOptions { Rank = 2, Iterations = 5, Optimizer = DsaOptimizer.Published }, (d, t) =>
        {
            lock (seen)
            {
                seen.Add((d, t));
            }

            Thread.Sleep(30);
        });
        Assert.That(seen[^1], Is.EqualTo((66, 66)));
        Assert.That(seen.Select(x => x.Done), Is.Ordered);

        // one worker: a report after each batch of SIMD lanes (two alignments per pair), then the total
        int lanes = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 16 : 8;
        var one = new List<int>();
        Dsa.FromOperators(TestBackends.CpuThreads(1), ops, [.. Enumerable.Range(0, 12)], new DsaOptions { Rank = 2, Iterations = 5, Optimizer = DsaOptimizer.Published }, (d, t) => one.Add(d));
        var expected = Enumerable.Range(1, (132 + lanes - 1) / lanes).Select(k => Math.Min(66, k * lanes / 2)).Append(66);
        Assert.That(one, Is.EqualTo(expected));
    }

    [Test]
    public void FromOperators_RankTwo_EuclideanIsTheChordOfTheAngle()
    {
        // ⟨I, C B Cᵀ⟩ = tr B for every orthogonal C: B = [[1, 1], [0, 1]], cos θ = 2 / √6; both unit-norm, so ‖Â − Ĉ B̂ Cᵀ‖ = √(2 − 2 cos θ)
        var fast = Dsa.FromOperators(TestBackends.CpuThreads(1), [[1, 0, 0, 1], [1, 1, 0, 1]], [0, 1], new DsaOptions { Rank = 2, Iterations = 200 });
        double cos = 2 / Math.Sqrt(6);
        Assert.That(fast.Euclidean[0, 1], Is.EqualTo(Math.Sqrt(2 - 2 * cos)).Within(1e-4));
        Assert.That(fast.Wasserstein[0, 1], Is.Zero.Within(1e-12), "both spectra are {1, 1}");
    }

    [Test]
    public void FromOperators_BadInput_IsAClearError()
    {
        var options = new DsaOptions { Rank = 2 };
        Assert.That(() => Dsa.FromOperators(TestBackends.Cpu, [], [], options), Throws.ArgumentException.With.Message.Contains("at least one operator"));
        Assert.That(() => Dsa.FromOperators(TestBackends.Cpu, [[1, 0, 0, 1], [1, 0, 0]], [0, 1], options), Throws.ArgumentException.With.Message.Contains("[r=2][r]"));
        Assert.That(() => Dsa.FromOperators(TestBackends.Cpu, [[1, 0, 0, 1], [0, 0, 0, 0]], [0, 1], options), Throws.ArgumentException.With.Message.Contains("non-zero finite operator"));
        Assert.That(() => Dsa.FromOperators(TestBackends.Cpu, null!, [0], options), Throws.ArgumentNullException);
        Assert.That(() => Dsa.FromOperators(TestBackends.Cpu, [[1.0]], [0], null!), Throws.ArgumentNullException);
        Assert.That(() => Dsa.Compute(TestBackends.Cpu, null!, options), Throws.ArgumentNullException);
        Assert.That(() => Dsa.Compute(TestBackends.Reference, null!, options), Throws.ArgumentNullException);
        var set = Set(2, 10, (LinearTrajectories(Stable(3, 1), 2, 10, 0.1, 2), 3), (LinearTrajectories(Stable(3, 3), 2, 10, 0.1, 4), 3));
        Assert.That(() => Dsa.Compute(TestBackends.Cpu, set, null!), Throws.ArgumentNullException);
        Assert.That(() => Dsa.Compute(TestBackends.Reference, set, null!), Throws.ArgumentNullException);
        Assert.That(() => Dsa.Compute(TestBackends.CpuThreads(2), set, new DsaOptions { Delays = 1, Rank = 2, LearningRate = -1 }), Throws.TypeOf<ArgumentOutOfRangeException>(), "not wrapped by the parallel fits");
        Assert.That(() => Dsa.Compute(TestBackends.Reference, set, new DsaOptions { Delays = 0 }), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => Dsa.SpectralWasserstein([1, 2], [1]), Throws.ArgumentException.With.Message.Contains("got 2 and 1"));
        Assert.That(() => Dsa.SpectralWasserstein([], []), Throws.ArgumentException);
    }

    [Test]
    public void Options_Validate_AtTheBoundaries()
    {
        Assert.That(new DsaOptions { Delays = 1, DelayInterval = 1, Rank = 1, Iterations = 0, Ridge = 0, LearningRate = 0 }.Validate(), Is.Not.Null);
        Assert.That(new DsaOptions { LearningRate = 10 }.Validate(), Is.Not.Null);
        foreach (var (name, bad) in new (string, DsaOptions)[]
        {
            ("delays", new DsaOptions { Delays = 0 }), ("delay-interval", new DsaOptions { DelayInterval = 0 }), ("rank", new DsaOptions { Rank = 0 }),
            ("iterations", new DsaOptions { Iterations = -1 }), ("ridge", new DsaOptions { Ridge = -1e-12 }), ("lr", new DsaOptions { LearningRate = 10.5 }),
            ("lr", new DsaOptions { LearningRate = -1e-9 }), ("dsa-starts", new DsaOptions { RandomStarts = -1 }), ("dsa-max-steps", new DsaOptions { MaxSteps = 0 }),
            ("dsa-optimizer", new DsaOptions { Optimizer = (DsaOptimizer)7 }),
        })
        {
            Assert.That(() => bad.Validate(), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo(name), name);
        }
    }
}
