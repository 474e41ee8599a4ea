using Engine.Backends;
using Engine.Backends.Ilgpu;
using Engine.Distances;
using Engine.Kernels.Distances;
using Engine.Tests.Support;
using NUnit.Framework;
using static Engine.Tests.Distances.DistanceTestData;

namespace Engine.Tests.Distances;

/// <summary>Every backend's distance kernels against the float64 reference backend, written once (tiny shapes: the ILGPU CPU accelerator is a simulator).</summary>
[TestFixtureSource(typeof(BackendCases), nameof(BackendCases.All))]
public sealed class DistanceKernelTests(string backendName)
{
    private IEnsembleBackend _backend = null!;

    [OneTimeSetUp]
    public void Setup() => _backend = BackendCases.CreateOrIgnore(backendName);

    [OneTimeTearDown]
    public void TearDown() => _backend?.Dispose();

    [Test]
    public void Cka_MatchesReference_OddShapes()
    {
        var set = Set(1, 23, (States(23, 5, 1), 5), (States(23, 5, 2), 5), (States(23, 5, 3), 5));
        var reference = Cka.Compute(TestBackends.Reference, set);
        int before = IlgpuDistanceKernels.PairsPerLaunch;
        IlgpuDistanceKernels.PairsPerLaunch = 4; // several launches on an ILGPU device
        try
        {
            var got = Cka.Compute(_backend, set);
            for (int k = 0; k < 9; k++)
            {
                Assert.That(got.Values[k], Is.EqualTo(reference.Values[k]).Within(1e-4), $"entry {k}");
            }
        }
        finally
        {
            IlgpuDistanceKernels.PairsPerLaunch = before;
        }
    }

    [TestCase(1.0)]
    [TestCase(0.5)]
    public void ShapeMetric_MatchesReference_OddShapes(double alpha)
    {
        var set = Set(1, 29, (States(29, 6, 4), 6), (States(29, 6, 5), 6), (States(29, 6, 6), 6));
        var reference = ShapeMetric.Compute(TestBackends.Reference, set, alpha);
        var got = ShapeMetric.Compute(_backend, set, alpha);
        Assert.That(got.Values, Is.EqualTo(reference.Values).Within(2e-4));
    }

    [Test]
    public void DsaAlign_MatchesReference_SmallRank()
    {
        const int r = 3;
        var ops = new[] { Flat(Stable(r, 1)), Flat(Stable(r, 2)), Flat(Orthogonal(r, 4, -1) * Stable(r, 1) * Orthogonal(r, 4, -1).Transpose()) };
        var options = new DsaOptions { Rank = r, Iterations = 150, Optimizer = DsaOptimizer.Published };
        var got = Dsa.FromOperators(_backend, ops, [0, 1, 2], options);
        foreach (var (i, j) in PairwiseMatrix.Pairs(3))
        {
            var (eu, ang) = DistanceTestData.ReferencePair(ops[i], ops[j], r, 150, 5e-3);
            Assert.That(got.Euclidean[i, j], Is.EqualTo(eu).Within(2e-3), $"euclidean {i},{j}");
            Assert.That(got.Angular[i, j], Is.EqualTo(ang).Within(2e-3), $"angular {i},{j}");
        }
    }

    /// <summary>A network against its rotated, scaled copy (and, for α = 0, any invertible linear map of it) reads 0 to 1e-6 rad on every path.</summary>
    [Test]
    public void NearZero_CkaAndShape_OfAMappedCopy_ReadZero()
    {
        const int s = 400, n = 16;
        var x = States(s, n, 31);
        var rotated = Map(x, s, 3 * Orthogonal(n, 32));
        var mixed = Map(x, s, RandomMatrix(n, n, 33) + 4 * MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseIdentity(n));
        var set = Set(1, s, (x, n), (rotated, n), (mixed, n), (States(s, n, 34), n));
        var cka = Cka.Compute(_backend, set);
        var procrustes = ShapeMetric.Compute(_backend, set, 1);
        var cca = ShapeMetric.Compute(_backend, set, 0);
        Assert.Multiple(() =>
        {
            Assert.That(cka[0, 1], Is.LessThan(1e-6), "CKA(X, 3 X Q)");
            Assert.That(procrustes[0, 1], Is.LessThan(1e-6), "shape α = 1 (X, 3 X Q)");
            Assert.That(cca[0, 1], Is.LessThan(1e-6), "shape α = 0 (X, 3 X Q)");
            Assert.That(cca[0, 2], Is.LessThan(1e-6), "shape α = 0 (X, X M)");
            Assert.That(cka[0, 3], Is.GreaterThan(0.1), "different states stay apart");
            Assert.That(cka[0, 2], Is.EqualTo(Cka.Compute(TestBackends.Reference, set)[0, 2]).Within(1e-4), "pairs above the threshold keep the fast path's values");
        });
    }

    /// <summary>DSA between an operator and itself is 0 to 1e-6 with either optimiser, and the optimal one also reads 0 for a rotated copy.</summary>
    [Test]
    public void NearZero_Dsa_OfAnOperatorWithItself_ReadsZero()
    {
        const int r = 5;
        var a = Stable(r, 41);
        var o = Orthogonal(r, 42, -1);
        var ops = new[] { Flat(a), Flat(a), Flat(o * a * o.Transpose()) };
        foreach (var optimizer in new[] { DsaOptimizer.Published, DsaOptimizer.Optimal })
        {
            var d = Dsa.FromOperators(_backend, ops, [0, 1, 2], new DsaOptions { Rank = r, Iterations = 100, Optimizer = optimizer });
            Assert.That(d.Angular[0, 1], Is.LessThan(1e-6), $"{optimizer}: A with itself");
            Assert.That(d.Euclidean[0, 1], Is.LessThan(1e-6), $"{optimizer}: A with itself, euclidean");
            Assert.That(d.Optimizer, Is.EqualTo(optimizer == DsaOptimizer.Published ? "published" : "optimal"));
            if (optimizer == DsaOptimizer.Optimal)
            {
                Assert.That(d.Angular[0, 2], Is.LessThan(1e-6), "optimal: A with O A Oᵀ, det O = −1");
            }
        }
    }

    [Test]
    public void DsaOperatorFit_MatchesReference_UpToSigns()
    {
        var x = LinearTrajectories(Stable(3, 7), 4, 30, 0.05, 8);
        var options = new DsaOptions { Rank = 3, Delays = 2 };
        var reference = TestBackends.Reference.Distances.FitDsaOperator(x, 4, 30, 3, options);
        var got = _backend.Distances.FitDsaOperator(x, 4, 30, 3, options);
        Assert.That(got, Is.EqualTo(reference).Within(1e-4), "both fix each coordinate's sign the same way (the fast fit's Gram is float32)");
    }

    [Test]
    public void PifMatrix_EqualsCpu()
    {
        var w = new[] { (5, 21UL), (5, 22UL), (3, 23UL), (5, 24UL) }.Select(x => RandomMatrix(x.Item1, x.Item1, x.Item2).ToRowMajorArray().Select(v => (float)v).ToArray()).ToArray();
        int[] widths = [5, 5, 3, 5];
        var permsCpu = new int[6][];
        var permsGot = new int[6][];
        var cpu = WeightDistance.Matrix(TestBackends.CpuThreads(1), w, widths, [0, 1, 2, 3], permsCpu);
        var got = WeightDistance.Matrix(_backend, w, widths, [0, 1, 2, 3], permsGot);
        Assert.That(got.Values, Is.EqualTo(cpu.Values).Within(1e-12));
        Assert.That(permsGot, Is.EqualTo(permsCpu));
    }
}

/// <summary>The ILGPU distance kernel that has no counterpart in the contract: the batched Frank–Wolfe gradients, on every ILGPU device present.</summary>
[TestFixtureSource(typeof(BackendCases), nameof(BackendCases.IlgpuDevices))]
public sealed class IlgpuFaqGradientTests(IlgpuDevice device)
{
    [TestCase(1)]
    [TestCase(5)]
    [TestCase(9)]
    public void FaqGradients_MatchCpu_OddWidths(int n)
    {
        if (!IlgpuBackend.IsAvailable(device))
        {
            Assert.Ignore($"{device} not present here");
        }

        using var backend = IlgpuBackend.Create(device);
        var w = Enumerable.Range(0, 3).Select(k => RandomMatrix(n, n, (ulong)(10 + k)).ToRowMajorArray()).ToArray();
        (int I, int J)[] pairs = [(0, 1), (2, 0), (1, 2), (1, 1)];
        var plans = pairs.Select((_, k) =>
        {
            // A doubly-stochastic plan away from the barycentre: a mix of J/n and a shifted permutation.
            var p = new double[n * n];
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    p[r * n + c] = 0.5 / n + ((r + k) % n == c ? 0.5 : 0.0);
                }
            }

            return p;
        }).ToArray();
        var got = new IlgpuDistanceKernels(backend).FaqGradients(w, n, pairs, plans);
        for (int k = 0; k < pairs.Length; k++)
        {
            var want = WeightDistance.FaqGradient(w[pairs[k].I], w[pairs[k].J], plans[k], n);
            Assert.That(got[k], Is.EqualTo(want).Within(1e-12), $"pair {k}");
        }
    }
}
