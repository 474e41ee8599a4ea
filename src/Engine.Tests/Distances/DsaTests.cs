using System.Numerics;
using Engine.Backends;
using Engine.Distances;
using Engine.Tests.Support;
using NUnit.Framework;
using static Engine.Tests.Distances.DistanceTestData;

namespace Engine.Tests.Distances;

/// <summary>DSA: operator fitting, the Cayley/Adam Procrustes alignment (fast SIMD batch vs float64 reference), the eigenvalue score.</summary>
public sealed class DsaTests
{
    // Seeds with rotation angles below ~170°: Cayley(S) reaches a rotation by θ only with |S| ~ tan(θ/2), so a plane rotated
    // by nearly π (seed 2, det +1: 178°) is out of reach of DSA's 1500 Adam steps of 5e-3, as in the DSA library itself.
    [TestCase(1, 7UL)]
    [TestCase(1, 4UL)]
    [TestCase(-1, 2UL)]
    [TestCase(-1, 5UL)]
    public void Alignment_OfConjugateByOrthogonal_IsZero(int det, ulong seed)
    {
        const int r = 5;
        var a = Stable(r, 1);
        var q = Orthogonal(r, seed, det);
        var b = q * a * q.Transpose();
        var (eu, ang) = DistanceTestData.ReferencePair(Flat(a), Flat(b), r, 1500, 5e-3);
        Assert.That(eu, Is.LessThan(2e-3));
        Assert.That(ang, Is.LessThan(2e-3));
        var fast = Dsa.FromOperators(TestBackends.CpuThreads(2), [Flat(a), Flat(b), Flat(Stable(r, 3))], [0, 1, 2], new DsaOptions { Rank = r });
        Assert.That(fast.Euclidean[0, 1], Is.LessThan(5e-3));
        Assert.That(fast.Angular[0, 1], Is.LessThan(5e-3));
        Assert.That(fast.Wasserstein[0, 1], Is.LessThan(1e-9));
        Assert.That(fast.Angular[0, 2], Is.GreaterThan(0.1));
    }

    [Test]
    public void Alignment_KnownValue_IdentityAgainstShear()
    {
        // ⟨I, C B Cᵀ⟩ = tr B for every orthogonal C: with B = [[1, 1], [0, 1]], cos = 2 / (√2 · √3).
        double[] a = [1, 0, 0, 1], b = [1, 1, 0, 1];
        double expected = Math.Acos(2 / Math.Sqrt(6));
        var (eu, ang) = DistanceTestData.ReferencePair(a, b, 2, 200, 5e-3);
        Assert.That(ang, Is.EqualTo(expected).Within(1e-9));
        Assert.That(eu, Is.EqualTo(Math.Sqrt(2 - 2 * Math.Cos(expected))).Within(1e-9));
        var fast = Dsa.FromOperators(TestBackends.CpuThreads(1), [a, b], [0, 1], new DsaOptions { Rank = 2, Iterations = 200 });
        Assert.That(fast.Angular[0, 1], Is.EqualTo(expected).Within(1e-4));
    }

    [Test]
    public void Wasserstein_KnownValue()
    {
        // {1, 2} vs {2, 4}: either assignment costs 3, mean 1.5.
        Assert.That(Dsa.SpectralWasserstein([1, 2], [2, 4]), Is.EqualTo(1.5).Within(1e-12));
        Assert.That(Dsa.SpectralWasserstein([new Complex(0, 1), new Complex(0, -1)], [new Complex(0, -1), new Complex(0, 1)]), Is.EqualTo(0).Within(1e-12));
    }

    [Test]
    public void Fit_RecoversTheSpectrumOfALinearSystem()
    {
        var m = Stable(4, 5, 0.95);
        var x = LinearTrajectories(m, 8, 40, 0, 6);
        var options = new DsaOptions { Delays = 1, Rank = 4 };
        var expected = m.Evd().EigenValues.OrderBy(z => z.Real).ThenBy(z => z.Imaginary).ToArray();
        foreach (var a in new[] { DsaOperator.FitReference(x, 8, 40, 4, options), DsaOperator.Fit(x, 8, 40, 4, options) })
        {
            var got = Dsa.Eigenvalues(a, 4).OrderBy(z => z.Real).ThenBy(z => z.Imaginary).ToArray();
            for (int k = 0; k < 4; k++)
            {
                Assert.That((got[k] - expected[k]).Magnitude, Is.LessThan(1e-4), $"eigenvalue {k}");
            }
        }
    }

    [Test]
    public void Fit_FastMatchesReference_WithDelays()
    {
        var x = LinearTrajectories(Stable(5, 7, 0.9), 4, 33, 0.1, 8);
        var options = new DsaOptions { Delays = 3, DelayInterval = 2, Rank = 6 };
        var reference = Dsa.Eigenvalues(DsaOperator.FitReference(x, 4, 33, 5, options), 6).OrderBy(z => z.Real).ThenBy(z => z.Imaginary).ToArray();
        var fast = Dsa.Eigenvalues(DsaOperator.Fit(x, 4, 33, 5, options), 6).OrderBy(z => z.Real).ThenBy(z => z.Imaginary).ToArray();
        for (int k = 0; k < 6; k++)
        {
            Assert.That((fast[k] - reference[k]).Magnitude, Is.LessThan(1e-6), $"eigenvalue {k}");
        }
    }

    [Test]
    public void Dsa_OfStatesAndRotatedStates_IsZero_FastMatchesReference()
    {
        var x = LinearTrajectories(Stable(5, 9, 0.9), 6, 30, 0.05, 10);
        var rotated = Map(x, 180, Orthogonal(5, 11, -1) * 2);
        var other = LinearTrajectories(Stable(5, 12, 0.9), 6, 30, 0.05, 13);
        var set = Set(6, 30, (x, 5), (rotated, 5), (other, 5));
        var options = new DsaOptions { Delays = 2, Rank = 4, Iterations = 800 };
        var fast = Dsa.Compute(TestBackends.CpuThreads(2), set, options);
        var reference = Dsa.Compute(TestBackends.Reference, set, options);
        Assert.That(fast.Angular[0, 1], Is.LessThan(5e-3));
        Assert.That(reference.Angular[0, 1], Is.LessThan(5e-3));
        for (int k = 0; k < 9; k++)
        {
            Assert.That(fast.Angular.Values[k], Is.EqualTo(reference.Angular.Values[k]).Within(3e-3), $"angular {k}");
            Assert.That(fast.Euclidean.Values[k], Is.EqualTo(reference.Euclidean.Values[k]).Within(3e-3), $"euclidean {k}");
            Assert.That(fast.Wasserstein.Values[k], Is.EqualTo(reference.Wasserstein.Values[k]).Within(1e-6), $"wasserstein {k}");
        }

        Assert.That(fast.Angular[0, 1], Is.EqualTo(fast.Angular[1, 0]));
        Assert.That(fast.Angular[2, 2], Is.Zero);
    }

    [Test]
    public void Dsa_BadInput_IsAClearError()
    {
        var x = LinearTrajectories(Stable(3, 1), 1, 6, 0.1, 2);
        var set = Set(1, 6, (x, 3), (x, 3));
        Assert.That(() => Dsa.Compute(TestBackends.Cpu, set, new DsaOptions { Delays = 1, Rank = 4 }), Throws.ArgumentException.With.Message.Contains("exceeds the delay-embedding width"));
        Assert.That(() => Dsa.Compute(TestBackends.Cpu, set, new DsaOptions { Delays = 2, Rank = 6 }), Throws.ArgumentException.With.Message.Contains("Fewer samples than the rank"));
        Assert.That(() => Dsa.Compute(TestBackends.Cpu, set, new DsaOptions { Delays = 8, Rank = 2 }), Throws.ArgumentException.With.Message.Contains("too short"));
        var flat = Set(1, 6, (new float[18], 3), (x, 3));
        Assert.That(() => Dsa.Compute(TestBackends.Cpu, flat, new DsaOptions { Delays = 1, Rank = 2 }), Throws.ArgumentException.With.Message.Contains("rank"));
    }
}
