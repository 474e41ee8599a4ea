using Engine.Backends;
using Engine.Distances;
using Engine.Model;
using Engine.Tasks;
using Engine.Tests.Support;
using Engine.Training;
using Engine.Util;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Engine.Tests.Distances.DistanceTestData;

namespace Engine.Tests.Distances;

/// <summary>DSA's optimal alignment: A against O A Oᵀ reads 0 for every random pair, the sign search is exact, the float64 score is exact near 0.</summary>
public sealed class DsaOptimumTests
{
    private static double[] Unit(Matrix<double> m) => Flat(m / m.FrobeniusNorm());

    /// <summary>70 random pairs at each of ranks 4, 10 and 20 (210 in all), O of either determinant: the optimum is 0, the engine must reach it.</summary>
    [TestCase(4)]
    [TestCase(10)]
    [TestCase(20)]
    public void RotatedCopies_ReadZero_ForEveryPair(int r)
    {
        double worst = 0;
        long iters = 0;
        for (int k = 0; k < 70; k++)
        {
            ulong seed = (ulong)(1000 * r + k);
            var a = RandomMatrix(r, r, seed);
            var o = Orthogonal(r, seed + 7, det: k % 2 == 0 ? 1 : -1);
            var b = o.Transpose() * a * o; // A = O B Oᵀ
            var result = DsaDescent.Align(Unit(a), Unit(b), r, randomStarts: 4, maxIterations: 500, seed);
            worst = Math.Max(worst, result.Angle);
            iters += result.Iterations;
            Assert.That(result.Angle, Is.LessThan(1e-4), $"rank {r}, pair {k} (det O {(k % 2 == 0 ? 1 : -1)}): {result.Angle:E3} rad from start {result.Start}");
        }

        TestContext.Out.WriteLine($"rank {r}: worst angle {worst:E2} rad over 70 pairs, {iters / 70.0:F0} iterations per pair");
    }

    /// <summary>The published optimiser's failure case from the issue: random 10 × 10 A, B = Oᵀ A O. Adam from C = I ends ≈ 0.34 rad away.</summary>
    [Test]
    public void TheIssuesExample_IsFoundWhereAdamFromTheIdentityStops()
    {
        var a = RandomMatrix(10, 10, 42);
        var o = Orthogonal(10, 43);
        var b = o.Transpose() * a * o;
        var published = ReferencePair(Unit(a), Unit(b), 10, 1500, 5e-3);
        var optimal = DsaDescent.Align(Unit(a), Unit(b), 10, 4, 500, 1);
        Assert.That(optimal.Angle, Is.LessThan(1e-6));
        Assert.That(optimal.Angle, Is.LessThanOrEqualTo(published.Angular));
    }

    /// <summary>The ±1 quadratic maximisation against brute force over all 2^r sign vectors, per product parity.</summary>
    [TestCase(3)]
    [TestCase(6)]
    [TestCase(9)]
    [TestCase(16)]
    public void BestSigns_MatchBruteForce(int r)
    {
        var rng = new Rng(99 + (ulong)r);
        var w = new double[r * r];
        for (int i = 0; i < r; i++)
        {
            for (int j = i + 1; j < r; j++)
            {
                w[i * r + j] = w[j * r + i] = rng.NextGaussian();
            }
        }

        double Value(double[] d)
        {
            double s = 0;
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    s += w[i * r + j] * d[i] * d[j];
                }
            }

            return s;
        }

        double bestPlus = double.NegativeInfinity, bestMinus = double.NegativeInfinity;
        for (long mask = 0; mask < 1L << r; mask++)
        {
            var d = Enumerable.Range(0, r).Select(i => (mask >> i & 1) == 1 ? -1.0 : 1.0).ToArray();
            double v = Value(d);
            if (d.Aggregate(1.0, (p, x) => p * x) > 0)
            {
                bestPlus = Math.Max(bestPlus, v);
            }
            else
            {
                bestMinus = Math.Max(bestMinus, v);
            }
        }

        var (best, other) = DsaDescent.BestSigns(w, r);
        if (r % 2 == 1)
        {
            Assert.That(Value(best!), Is.EqualTo(Math.Max(bestPlus, bestMinus)).Within(1e-9));
            Assert.That(other, Is.Null);
        }
        else if (r <= 14)
        {
            Assert.That(Value(best!), Is.EqualTo(bestPlus).Within(1e-9));
            Assert.That(Value(other!), Is.EqualTo(bestMinus).Within(1e-9));
        }
        else
        {
            // Above 14 the search is local: the best found is still the global one on this instance, and both parities are filled.
            Assert.That(Math.Max(Value(best!), Value(other!)), Is.EqualTo(Math.Max(bestPlus, bestMinus)).Within(1e-9));
        }
    }

    /// <summary>The score of C = I for B = A is exactly 0 (the residual, not arccos of a rounded 1).</summary>
    [Test]
    public void Score_OfAnOperatorWithItself_IsZero()
    {
        var a = Unit(RandomMatrix(10, 10, 5));
        var id = new double[100];
        for (int i = 0; i < 10; i++)
        {
            id[i * 11] = 1;
        }

        var s = DsaDescent.Score(a, a, id, 10, "identity");
        Assert.That(s.Angle, Is.EqualTo(0));
        Assert.That(s.Loss, Is.EqualTo(0));
        Assert.That(Math.Acos(Math.Min(1, s.Inner)), Is.LessThan(1e-7), "and arccos of the inner product is near 0 too, but not exactly");
    }

    /// <summary>On a trained run (six flip-flop networks) the optimal alignment is never above the published optimiser's, pair by pair.</summary>
    [Test]
    public void TrainedRun_OptimalIsNeverAbovePublished()
    {
        var task = new FlipFlopTask(2);
        var spec = new EnsembleSpec { Networks = 6, Hidden = 24, Inputs = 2, Outputs = 2 };
        var backend = TestBackends.Cpu;
        var state = Trainer.Train(backend, task, spec, [1, 2, 3, 4, 5, 6], new TrainingOptions
        {
            Trials = 32, Steps = 30, LearningRate = 5e-3, ClipNorm = 1, MaxEpochs = 400,
        });
        var states = StateSet.Record(backend, state.Ensemble, task, 16, 60, 12345);
        var options = new DsaOptions { Rank = 6, Delays = 3 };
        var optimal = Dsa.Compute(backend, states, options);
        var published = Dsa.Compute(backend, states, options with { Optimizer = DsaOptimizer.Published });
        Assert.That(optimal.Optimizer, Is.EqualTo("optimal"));
        Assert.That(published.Optimizer, Is.EqualTo("published"));
        foreach (var (i, j) in PairwiseMatrix.Pairs(6))
        {
            Assert.That(optimal.Angular[i, j], Is.LessThanOrEqualTo(published.Angular[i, j] + 1e-9), $"pair ({i}, {j})");
        }

        TestContext.Out.WriteLine($"mean angular: optimal {optimal.Angular.Mean():F5}, published {published.Angular.Mean():F5}");
    }
}
