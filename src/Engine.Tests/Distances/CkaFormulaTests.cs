using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.Distances;
using Engine.Tests.Support;
using NUnit.Framework;
using static Engine.Tests.Distances.DistanceTestData;

namespace Engine.Tests.Distances;

/// <summary>Linear CKA against the formula written out here, per method forced explicitly; which method Auto runs (seen
/// through the progress reports, the only place the two methods differ); the FLOP counts; the argument checks.</summary>
public sealed class CkaFormulaTests
{
    private static readonly int[] OddWidths = [1, 7, 16, 33, 40];

    private static StateSet OddSet(int samples, int networks) =>
        Set(1, samples, Enumerable.Range(0, networks).Select(e => (States(samples, OddWidths[e % 5], (ulong)(300 + e)), OddWidths[e % 5])).ToArray());

    private static void AssertMatchesFormula(StateSet set, PairwiseMatrix m, double tolerance)
    {
        // arccos of linear CKA (Kornblith et al. 2019) of the centred X_i, X_j: ‖X_jᵀ X_i‖²_F / (‖X_iᵀ X_i‖_F ‖X_jᵀ X_j‖_F).
        var x = Enumerable.Range(0, set.Networks).Select(e => CenteredMatrix(set.States[e], set.Samples, set.Widths[e])).ToArray();
        var self = x.Select(v => v.TransposeThisAndMultiply(v).FrobeniusNorm()).ToArray();
        foreach (var (i, j) in PairwiseMatrix.Pairs(set.Networks))
        {
            double cross = x[j].TransposeThisAndMultiply(x[i]).FrobeniusNorm();
            double expected = Math.Acos(Math.Clamp(cross * cross / (self[i] * self[j]), -1, 1));
            Assert.That(m[i, j], Is.EqualTo(expected).Within(tolerance), $"pair ({i}, {j})");
        }
    }

    private static List<(int Done, int Total)> Progress(StateSet set, CkaMethod method, out PairwiseMatrix m)
    {
        var calls = new List<(int, int)>();
        m = Cka.Compute(TestBackends.CpuThreads(1), set, (done, total) => calls.Add((done, total)), method);
        return calls;
    }

    /// <summary>One worker: the feature-space method reports each finished pair product 1, 2, …, E(E+1)/2 (and the total again at the end).</summary>
    private static void AssertReportsEveryPair(List<(int Done, int Total)> calls, int networks)
    {
        int products = networks * (networks + 1) / 2;
        Assert.That(calls.Select(c => c.Total), Is.All.EqualTo(products));
        Assert.That(calls.Select(c => c.Done).Distinct(), Is.EqualTo(Enumerable.Range(1, products)));
        Assert.That(calls[^1].Done, Is.EqualTo(products));
    }

    /// <summary>The sample-space method has no per-pair products: it reports E(E+1)/2 of E(E+1)/2 once, when done.</summary>
    private static void AssertReportsOnceWhenDone(List<(int Done, int Total)> calls, int networks)
    {
        int products = networks * (networks + 1) / 2;
        Assert.That(calls, Is.EqualTo(new[] { (products, products) }));
    }

    // E = 5 (not a multiple of the 4-row tile) and 17 (one past the 16-network group of the sample space), widths 1, 7, 16, 33, 40 (16 fills its padding
    // exactly), samples below the widest width (10), above it (129, not a multiple of the 64-sample block).
    [TestCase(CkaMethod.Features, 10, 5)]
    [TestCase(CkaMethod.Features, 129, 5)]
    [TestCase(CkaMethod.Samples, 10, 5)]
    [TestCase(CkaMethod.Samples, 129, 5)]
    [TestCase(CkaMethod.Samples, 70, 17)]
    [TestCase(CkaMethod.Auto, 10, 5)]
    [TestCase(CkaMethod.Auto, 129, 5)]
    public void EachMethod_MatchesLinearCkaWrittenOut_OddShapes(CkaMethod method, int samples, int networks)
    {
        var set = OddSet(samples, networks);
        AssertMatchesFormula(set, Cka.Compute(TestBackends.CpuThreads(2), set, null, method), 5e-4);
    }

    [Test]
    public void Reference_MatchesLinearCkaWrittenOut_OddShapes()
    {
        var set = OddSet(10, 5);
        AssertMatchesFormula(set, Cka.Compute(TestBackends.Reference, set), 1e-9);
    }

    // E = 3, widths 16, 64, 16, 50 samples: the sample space is cheaper, so forcing Features must still run Features.
    [Test]
    public void Features_Forced_ReportsEveryPair_EvenWhereSamplesIsCheaper()
    {
        var set = Set(1, 50, (States(50, 16, 401), 16), (States(50, 64, 402), 64), (States(50, 16, 403), 16));
        AssertReportsEveryPair(Progress(set, CkaMethod.Features, out var m), 3);
        AssertMatchesFormula(set, m, 5e-4);
    }

    // 320 samples: the feature space is cheaper, so forcing Samples must still run Samples.
    [Test]
    public void Samples_Forced_ReportsOnceWhenDone_EvenWhereFeaturesIsCheaper()
    {
        var set = Set(1, 320, (States(320, 16, 411), 16), (States(320, 64, 412), 64), (States(320, 16, 413), 16));
        AssertReportsOnceWhenDone(Progress(set, CkaMethod.Samples, out var m), 3);
        AssertMatchesFormula(set, m, 5e-4);
    }

    // E = 3, widths 16, 64, 16 (no padding), N = 64 the widest. Feature space: E(E+1)/2 products of 2·S·N² FLOP; sample
    // space: Sp²/2 · (E² + 2·E·N) with Sp = S rounded up to the 64-sample block. At 64 samples the sample space wins
    // (it would not if N were the narrowest width, 16); at 320 the feature space wins (the sample space would with N = 16).
    [TestCase(64, CkaMethod.Samples)]
    [TestCase(320, CkaMethod.Features)]
    public void Auto_RunsTheMethodWithFewerFlop(int samples, CkaMethod cheaper)
    {
        const int e = 3, n = 64;
        double sp = Math.Ceiling(samples / 64.0) * 64;
        double feature = e * (e + 1) / 2 * 2.0 * samples * n * n, sample = sp * sp / 2 * (e * e + 2.0 * e * n);
        Assert.That(sample < feature ? CkaMethod.Samples : CkaMethod.Features, Is.EqualTo(cheaper), "the case is what it says");
        var set = Set(1, samples, (States(samples, 16, 421), 16), (States(samples, 64, 422), 64), (States(samples, 16, 423), 16));
        var calls = Progress(set, CkaMethod.Auto, out var m);
        if (cheaper == CkaMethod.Features)
        {
            AssertReportsEveryPair(calls, e);
        }
        else
        {
            AssertReportsOnceWhenDone(calls, e);
        }

        AssertMatchesFormula(set, m, 5e-4);
    }

    [Test]
    public void FlopCounts_AreTheDocumentedFormulas()
    {
        // Feature space: E(E+1)/2 = 15 products of 2·S·N²; sample space: Sp²/2 · (E² + 2·E·N) with S = 129 rounded up to 192.
        Assert.That(CkaFlops.FeatureSpace(5, 129, 48), Is.EqualTo(15 * 2.0 * 129 * 48 * 48));
        Assert.That(CkaFlops.SampleSpace(5, 129, 48), Is.EqualTo(192.0 * 192 / 2 * (5 * 5 + 2 * 5 * 48)));
    }

    [Test]
    public void NullStates_IsAnArgumentNullException()
    {
        Assert.That(() => Cka.Compute(TestBackends.Cpu, null!), Throws.ArgumentNullException);
        Assert.That(() => Cka.Compute(TestBackends.Reference, null!), Throws.ArgumentNullException);
    }

    [Test]
    public void ConstantNetwork_IsAnErrorNamingIt_InEveryMethod()
    {
        // Network id 7 is constant (1.5 everywhere: its mean is exact, so its centred states are exactly zero).
        var set = new StateSet([States(8, 2, 431), Enumerable.Repeat(1.5f, 16).ToArray(), States(8, 2, 432)], 2, 4, [2, 2, 2], [4, 7, 9]);
        var runs = new (string Name, Func<PairwiseMatrix> Run)[]
        {
            ("reference", () => Cka.Compute(TestBackends.Reference, set)),
            ("features", () => Cka.Compute(TestBackends.CpuThreads(1), set, null, CkaMethod.Features)),
            ("samples", () => Cka.Compute(TestBackends.CpuThreads(1), set, null, CkaMethod.Samples)),
            ("auto", () => Cka.Compute(TestBackends.CpuThreads(1), set)),
        };
        foreach (var (name, run) in runs)
        {
            Assert.That(() => run(), Throws.ArgumentException.With.Property("ParamName").EqualTo("states").And.Message.Contains("Network 7 has constant states"), name);
        }
    }
}
