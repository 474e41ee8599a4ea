using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.Backends.Ilgpu;
using Engine.Backends.Reference;
using Engine.FixedPoints;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.FixedPoints;

/// <summary>The fast CPU search and the ILGPU kernels against the float64 reference search.</summary>
[TestFixtureSource(typeof(BackendCases), nameof(BackendCases.All))]
public sealed class FixedPointSearchTests(string backendName)
{
    private IEnsembleBackend? _backend;

    private double Tol => _backend!.ApproximateMath ? 5e-3 : 5e-4;

    [OneTimeSetUp]
    public void Setup() => _backend = BackendCases.CreateOrIgnore(backendName);

    [OneTimeTearDown]
    public void TearDown() => _backend?.Dispose();

    private IFixedPointSearch Create() => _backend!.CreateFixedPointSearch();

    public static IEnumerable<TestCaseData> Shapes()
    {
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 1, Inputs = 1, Outputs = 1 }, 1).SetArgDisplayNames("E1_N1_S1");
        yield return new TestCaseData(new EnsembleSpec { Networks = 3, Hidden = 7, Inputs = 3, Outputs = 1, Activation = ActivationKind.Relu }, 5).SetArgDisplayNames("E3_N7_S5_relu");
        yield return new TestCaseData(new EnsembleSpec { Networks = 2, Hidden = 33, Inputs = 2, Outputs = 3, Cell = CellType.Leaky, Alpha = 0.2f }, 7).SetArgDisplayNames("E2_N33_S7_leaky");
        yield return new TestCaseData(new EnsembleSpec { Networks = 3, Hidden = 7, Inputs = 7, Outputs = 7, Cell = CellType.Leaky, Alpha = 0.5f, Activation = ActivationKind.Identity }, 3).SetArgDisplayNames("E3_N7_S3_linear");
        yield return new TestCaseData(new EnsembleSpec { Networks = 2, Hidden = 17, Inputs = 3, Outputs = 3 }, 9).SetArgDisplayNames("E2_N17_S9_tanh");
        yield return new TestCaseData(new EnsembleSpec { Networks = 2, Hidden = 33, Inputs = 2, Outputs = 1, Cell = CellType.Rate, Alpha = 0.1f }, 5).SetArgDisplayNames("E2_N33_S5_rate_tanh");
        yield return new TestCaseData(new EnsembleSpec { Networks = 3, Hidden = 7, Inputs = 3, Outputs = 2, Cell = CellType.Rate, Alpha = 0.3f, Activation = ActivationKind.Relu }, 3).SetArgDisplayNames("E3_N7_S3_rate_relu");
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 1, Inputs = 1, Outputs = 1, Cell = CellType.Rate, Alpha = 1f }, 2).SetArgDisplayNames("E1_N1_S2_rate_alpha1");
    }

    internal static FixedPointProblem RandomProblem(EnsembleSpec spec, int seeds, int seed)
    {
        var p = TestData.Parameters(spec, seed, 0.3f);
        var rng = new Random(seed + 1);
        var u = new float[spec.Networks * spec.Inputs];
        TestData.Fill(u, rng, 1f);
        var h = new float[spec.Networks * seeds * spec.Hidden];
        TestData.Fill(h, rng, 1f);
        return new FixedPointProblem(spec, p, u, seeds, h);
    }

    [TestCaseSource(nameof(Shapes))]
    public void Search_MatchesReference_OddShapes(EnsembleSpec spec, int seeds)
    {
        var problem = RandomProblem(spec, seeds, 21);
        var options = new AdamSearchOptions { LearningRate = 0.01, MaxIterations = 25, CheckInterval = 1000, Tolerance = 0 };
        AdamSearchResult expected;
        using (var reference = new ReferenceFixedPointSearch())
        {
            expected = reference.Search(problem, options);
        }

        using var search = Create();
        var actual = search.Search(problem, options);
        TestData.AssertClose(actual.States, expected.States, Tol, Tol * 0.2, "states");
        for (int k = 0; k < expected.Q.Length; k++)
        {
            Assert.That(actual.Q[k], Is.EqualTo(expected.Q[k]).Within(Tol * Math.Abs(expected.Q[k]) + 1e-6), $"q[{k}]");
            Assert.That(actual.Status[k], Is.EqualTo(FixedPointStatus.MaxIterations), $"status[{k}]");
            Assert.That(actual.Iterations[k], Is.EqualTo(25), $"iterations[{k}]");
        }
    }

    public static IEnumerable<TestCaseData> Contracting()
    {
        yield return new TestCaseData(new EnsembleSpec { Networks = 2, Hidden = 9, Inputs = 2, Outputs = 1 }).SetArgDisplayNames("discrete_tanh");
        yield return new TestCaseData(new EnsembleSpec { Networks = 2, Hidden = 9, Inputs = 2, Outputs = 1, Cell = CellType.Rate, Alpha = 0.5f }).SetArgDisplayNames("rate_tanh");
    }

    [TestCaseSource(nameof(Contracting))]
    public void Search_WithSchedule_ConvergesOnContractingNetwork(EnsembleSpec spec)
    {
        var problem = RandomProblem(spec, 4, 5);
        using var search = Create();
        var result = search.Search(problem, new AdamSearchOptions { Tolerance = 1e-9, MaxIterations = 3000 });
        for (int k = 0; k < result.Q.Length; k++)
        {
            Assert.That(result.Status[k], Is.EqualTo(FixedPointStatus.Converged), $"seed {k}: q {result.Q[k]:E2}");
            Assert.That(result.Q[k], Is.LessThan(1e-9));
            Assert.That(result.Iterations[k], Is.GreaterThan(0).And.LessThan(3000));
        }
    }

    [Test]
    public void Search_NonFiniteSeed_IsFlaggedAndLeavesOthersAlone()
    {
        var spec = new EnsembleSpec { Networks = 2, Hidden = 7, Inputs = 1, Outputs = 1 };
        var problem = RandomProblem(spec, 3, 8);
        problem.Seeds[1 * 7 + 2] = float.NaN;
        problem.Seeds[(3 + 2) * 7] = float.PositiveInfinity;
        var options = new AdamSearchOptions { LearningRate = 0.01, MaxIterations = 10, CheckInterval = 1000, Tolerance = 0 };
        using var search = Create();
        var result = search.Search(problem, options);
        using var reference = new ReferenceFixedPointSearch();
        var expected = reference.Search(problem, options);
        for (int k = 0; k < 6; k++)
        {
            bool bad = k is 1 or 5;
            Assert.That(result.Status[k], Is.EqualTo(bad ? FixedPointStatus.NonFinite : FixedPointStatus.MaxIterations), $"seed {k}");
            Assert.That(result.Iterations[k], Is.EqualTo(bad ? 0 : 10), $"seed {k}");
            if (!bad)
            {
                TestData.AssertClose(result.States.AsSpan(k * 7, 7), expected.States.AsSpan(k * 7, 7), Tol, Tol * 0.2, $"seed {k}");
            }
        }
    }
}

/// <summary>The fast CPU search's 256-bit fallback (taken where 512-bit vectors are not accelerated) against the reference.</summary>
public sealed class CpuFixedPointSearchWidthTests
{
    [TestCaseSource(typeof(FixedPointSearchTests), nameof(FixedPointSearchTests.Shapes))]
    public void Search_On256BitVectors_MatchesReference_OddShapes(EnsembleSpec spec, int seeds)
    {
        const double tol = 5e-4;
        var problem = FixedPointSearchTests.RandomProblem(spec, seeds, 22);
        var options = new AdamSearchOptions { LearningRate = 0.01, MaxIterations = 25, CheckInterval = 1000, Tolerance = 0 };
        using var reference = new ReferenceFixedPointSearch();
        var expected = reference.Search(problem, options);
        using var search = new CpuFixedPointSearch(2, wide: false);
        var actual = search.Search(problem, options);
        TestData.AssertClose(actual.States, expected.States, tol, tol * 0.2, "states");
    }
}
