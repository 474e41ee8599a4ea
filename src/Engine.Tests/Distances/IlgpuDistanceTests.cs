using Engine.Backends;
using Engine.Distances;
using Engine.Kernels.Distances;
using Engine.Tests.Support;
using NUnit.Framework;
using static Engine.Tests.Distances.DistanceTestData;

namespace Engine.Tests.Distances;

/// <summary>The ILGPU distance kernels against the float64 references, on every ILGPU backend present (tiny shapes: the CPU accelerator is a simulator).</summary>
[TestFixtureSource(typeof(BackendCases), nameof(BackendCases.All))]
public sealed class IlgpuDistanceTests(string backendName)
{
    private IEnsembleBackend _backend = null!;

    [OneTimeSetUp]
    public void Setup()
    {
        if (backendName == "cpu")
        {
            Assert.Ignore("the cpu backend has no ILGPU accelerator; its distances are the fast CPU path tested elsewhere");
        }

        _backend = BackendCases.CreateOrIgnore(backendName);
    }

    [OneTimeTearDown]
    public void TearDown() => _backend?.Dispose();

    [Test]
    public void Cka_MatchesReference_OddShapes()
    {
        var set = Set(1, 23, (States(23, 5, 1), 5), (States(23, 5, 2), 5), (States(23, 5, 3), 5));
        var reference = Cka.Reference(set);
        var got = new IlgpuDistances(_backend).Cka(set, pairsPerLaunch: 4);
        for (int k = 0; k < 9; k++)
        {
            Assert.That(got.Values[k], Is.EqualTo(reference.Values[k]).Within(1e-4), $"entry {k}");
        }
    }

    [Test]
    public void DsaAlign_MatchesReference_SmallRank()
    {
        const int r = 3;
        var ops = new[] { Flat(Stable(r, 1)), Flat(Stable(r, 2)), Flat(Orthogonal(r, 4, -1) * Stable(r, 1) * Orthogonal(r, 4, -1).Transpose()) };
        var options = new DsaOptions { Rank = r, Iterations = 150 };
        var got = new IlgpuDistances(_backend).Dsa(ops, [0, 1, 2], options);
        foreach (var (i, j) in PairwiseMatrix.Pairs(3))
        {
            var (eu, ang) = DsaAlignment.Reference(ops[i], ops[j], r, 150, 5e-3);
            Assert.That(got.Euclidean[i, j], Is.EqualTo(eu).Within(2e-3), $"euclidean {i},{j}");
            Assert.That(got.Angular[i, j], Is.EqualTo(ang).Within(2e-3), $"angular {i},{j}");
        }
    }

    [TestCase(1)]
    [TestCase(5)]
    [TestCase(9)]
    public void FaqGradients_MatchCpu_OddWidths(int n)
    {
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
        var got = new IlgpuDistances(_backend).FaqGradients(w, n, pairs, plans);
        for (int k = 0; k < pairs.Length; k++)
        {
            var want = WeightDistance.FaqGradient(w[pairs[k].I], w[pairs[k].J], plans[k], n);
            Assert.That(got[k], Is.EqualTo(want).Within(1e-12), $"pair {k}");
        }
    }

    [Test]
    public void PifMatrix_WithKernel_EqualsCpu()
    {
        var w = new[] { (5, 21UL), (5, 22UL), (3, 23UL), (5, 24UL) }.Select(x => RandomMatrix(x.Item1, x.Item1, x.Item2).ToRowMajorArray().Select(v => (float)v).ToArray()).ToArray();
        int[] widths = [5, 5, 3, 5];
        var permsCpu = new int[6][];
        var permsGpu = new int[6][];
        var cpu = WeightDistance.Matrix(w, widths, [0, 1, 2, 3], permsCpu, 1);
        var gpu = WeightDistance.Matrix(w, widths, [0, 1, 2, 3], permsGpu, 1, backend: _backend);
        Assert.That(gpu.Values, Is.EqualTo(cpu.Values).Within(1e-12));
        Assert.That(permsGpu, Is.EqualTo(permsCpu));
    }
}
