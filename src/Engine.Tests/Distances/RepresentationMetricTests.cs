using Engine.Backends;
using Engine.Distances;
using Engine.Tests.Support;
using NUnit.Framework;
using static Engine.Tests.Distances.DistanceTestData;

namespace Engine.Tests.Distances;

/// <summary>Linear CKA and the shape metric: invariances, metric axioms, known values, fast path vs the float64 reference.</summary>
public sealed class RepresentationMetricTests
{
    private const int S = 129;

    private static PairwiseMatrix Run(string metric, StateSet set, bool fast) => metric switch
    {
        "cka" => fast ? Cka.Compute(TestBackends.CpuThreads(2), set, null, CkaMethod.Features) : Cka.Compute(TestBackends.Reference, set),
        "cka-samples" => fast ? Cka.Compute(TestBackends.CpuThreads(2), set, null, CkaMethod.Samples) : Cka.Compute(TestBackends.Reference, set),
        "shape1" => fast ? ShapeMetric.Compute(TestBackends.CpuThreads(2), set, 1) : ShapeMetric.Compute(TestBackends.Reference, set, 1),
        "shape0.5" => fast ? ShapeMetric.Compute(TestBackends.CpuThreads(2), set, 0.5) : ShapeMetric.Compute(TestBackends.Reference, set, 0.5),
        "shape0" => fast ? ShapeMetric.Compute(TestBackends.CpuThreads(2), set, 0) : ShapeMetric.Compute(TestBackends.Reference, set, 0),
        _ => throw new ArgumentException(metric),
    };

    [TestCase("cka")]
    [TestCase("cka-samples")]
    [TestCase("shape1")]
    public void Distance_UnchangedByOrthogonalTransformAndScaling(string metric)
    {
        var x = States(S, 7, 1);
        var q = Orthogonal(7, 2, det: -1) * 3.5;
        var other = States(S, 7, 3);
        var set = Set(1, S, (x, 7), (Map(x, S, q), 7), (other, 7));
        foreach (bool fast in new[] { false, true })
        {
            var m = Run(metric, set, fast);
            Assert.That(m[0, 1], Is.LessThan(fast ? 2e-3 : 1e-6), $"fast={fast}");
            Assert.That(m[0, 2], Is.EqualTo(m[1, 2]).Within(fast ? 1e-4 : 1e-6), $"fast={fast}");
            Assert.That(m[0, 2], Is.GreaterThan(0.05));
        }
    }

    [Test]
    public void ShapeAlpha0_UnchangedByInvertibleLinearMap()
    {
        var x = States(S, 6, 11);
        var map = RandomMatrix(6, 6, 12) + MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseIdentity(6) * 3;
        var other = States(S, 6, 13);
        var set = Set(1, S, (x, 6), (Map(x, S, map), 6), (other, 6));
        var reference = ShapeMetric.Compute(TestBackends.Reference, set, 0);
        var fast = ShapeMetric.Compute(TestBackends.CpuThreads(2), set, 0);
        Assert.That(reference[0, 1], Is.LessThan(1e-5));
        Assert.That(fast[0, 1], Is.LessThan(3e-3));
        Assert.That(reference[0, 2], Is.EqualTo(reference[1, 2]).Within(1e-7));
        // α = 1 is not invariant to a general linear map.
        Assert.That(ShapeMetric.Compute(TestBackends.Reference, set, 1)[0, 1], Is.GreaterThan(0.01));
    }

    [TestCase("cka")]
    [TestCase("cka-samples")]
    [TestCase("shape1")]
    [TestCase("shape0.5")]
    [TestCase("shape0")]
    public void Fast_MatchesReference_OddWidths(string metric)
    {
        var set = Set(3, 43, (States(S, 7, 21), 7), (States(S, 33, 22), 33), (States(S, 17, 23), 17), (States(S, 1, 24), 1));
        var reference = Run(metric, set, false);
        var fast = Run(metric, set, true);
        for (int k = 0; k < reference.Values.Length; k++)
        {
            Assert.That(fast.Values[k], Is.EqualTo(reference.Values[k]).Within(5e-4), $"entry {k}");
        }
    }

    [TestCase("cka")]
    [TestCase("shape1")]
    [TestCase("shape0.5")]
    [TestCase("shape0")]
    public void Matrix_IsAMetricOnRandomSamples(string metric)
    {
        var nets = Enumerable.Range(0, 6).Select(e => (States(60, 5, (ulong)(100 + e)), 5)).ToArray();
        var m = Run(metric, Set(2, 30, nets), true);
        for (int i = 0; i < 6; i++)
        {
            Assert.That(m[i, i], Is.Zero);
            for (int j = 0; j < 6; j++)
            {
                Assert.That(m[i, j], Is.EqualTo(m[j, i]));
                Assert.That(m[i, j], Is.GreaterThanOrEqualTo(0));
                for (int k = 0; k < 6; k++)
                {
                    Assert.That(m[i, k], Is.LessThanOrEqualTo(m[i, j] + m[j, k] + 1e-6), $"triangle {i},{j},{k}");
                }
            }
        }
    }

    [Test]
    public void Cka_KnownValues()
    {
        // x ⟂ y (both centred): CKA 0, distance π/2; [x, y] vs x: 16 / (4 · 4√2) = 1/√2, distance π/4.
        float[] x = [1, -1, 1, -1], y = [1, 1, -1, -1];
        float[] xy = [1, 1, -1, 1, 1, -1, -1, -1];
        var set = Set(1, 4, (x, 1), (y, 1), (xy, 2));
        foreach (var m in new[] { Cka.Compute(TestBackends.Reference, set), Cka.Compute(TestBackends.CpuThreads(1), set, null, CkaMethod.Features), Cka.Compute(TestBackends.CpuThreads(1), set, null, CkaMethod.Samples) })
        {
            Assert.That(m[0, 1], Is.EqualTo(Math.PI / 2).Within(1e-6));
            Assert.That(m[0, 2], Is.EqualTo(Math.PI / 4).Within(1e-6));
        }
    }

    [Test]
    public void Shape_KnownValues()
    {
        // α = 1: x vs −x is 0 (Q = −1); x vs x + y: |x·(x + y)| / (‖x‖ ‖x + y‖) = 4 / (2 · 2√2), distance π/4; x ⟂ y: π/2.
        float[] x = [1, -1, 1, -1], y = [1, 1, -1, -1];
        var neg = x.Select(v => -v).ToArray();
        var sum = x.Zip(y, (a, b) => a + b).ToArray();
        var set = Set(1, 4, (x, 1), (neg, 1), (sum, 1), (y, 1));
        foreach (var m in new[] { ShapeMetric.Compute(TestBackends.Reference, set, 1), ShapeMetric.Compute(TestBackends.CpuThreads(1), set, 1) })
        {
            Assert.That(m[0, 1], Is.EqualTo(0).Within(1e-6));
            Assert.That(m[0, 2], Is.EqualTo(Math.PI / 4).Within(1e-6));
            Assert.That(m[0, 3], Is.EqualTo(Math.PI / 2).Within(1e-6));
        }
    }

    [Test]
    public void StateSet_BadInput_IsAClearError()
    {
        Assert.That(() => new StateSet([], 1, 4, []), Throws.ArgumentException.With.Message.Contains("empty"));
        Assert.That(() => new StateSet([new float[8], new float[6]], 1, 4, [2, 2]), Throws.ArgumentException.With.Message.Contains("needs 4 samples"));
        var nan = new float[8];
        nan[5] = float.NaN;
        Assert.That(() => new StateSet([new float[8], nan], 1, 4, [2, 2]), Throws.ArgumentException.With.Message.Contains("non-finite"));
        var constant = Set(1, 4, (new float[8], 2), (States(4, 2, 1), 2));
        Assert.That(() => Cka.Compute(TestBackends.Cpu, constant), Throws.ArgumentException.With.Message.Contains("constant states"));
        Assert.That(() => ShapeMetric.Compute(TestBackends.Cpu, Set(1, 4, (States(4, 2, 1), 2)), 1.5), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Clustering_GroupsBlocks()
    {
        var m = new PairwiseMatrix([0, 1, 2, 3], "t");
        // {0, 2} close, {1, 3} close, far across.
        m.Set(0, 2, 0.1);
        m.Set(1, 3, 0.2);
        m.Set(0, 1, 1);
        m.Set(0, 3, 1.1);
        m.Set(2, 1, 0.9);
        m.Set(2, 3, 1);
        var order = Clustering.LeafOrder(m);
        int a = Array.IndexOf(order, 0), b = Array.IndexOf(order, 2);
        Assert.That(Math.Abs(a - b), Is.EqualTo(1), string.Join(",", order));
        Assert.That(Math.Abs(Array.IndexOf(order, 1) - Array.IndexOf(order, 3)), Is.EqualTo(1));
    }
}
