using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>The fast CPU backend's promises beyond conformance: bit-identical results whatever the thread count or ensemble.</summary>
public sealed class CpuDeterminismTests
{
    private static readonly EnsembleSpec Leaky = new()
    {
        Networks = 8, Hidden = 33, Inputs = 3, Outputs = 2, Cell = CellType.Leaky, Alpha = 0.3f,
        NoiseStd = 0.1f, InitialState = InitialStateKind.Learned,
    };

    private static readonly EnsembleSpec Discrete = new() { Networks = 3, Hidden = 20, Inputs = 3, Outputs = 3 };

    private static IEnumerable<TestCaseData> Specs()
    {
        yield return new TestCaseData(Leaky).SetArgDisplayNames("leaky_noise_h0_E8");
        yield return new TestCaseData(Discrete).SetArgDisplayNames("tanh_E3");
    }

    [TestCaseSource(nameof(Specs))]
    public void Results_AreBitIdentical_ForOneTwoAndThreeThreads(EnsembleSpec spec)
    {
        var p = TestData.Parameters(spec, 1);
        var batch = TestData.Batch(spec, spec.Networks, 13, 9, 2);
        var active = Enumerable.Repeat((byte)1, spec.Networks).ToArray();
        active[1] = 0;
        var baseline = Run(new CpuBackend(1), spec, p, batch, active);
        foreach (int threads in new[] { 2, 3 })
        {
            var other = Run(new CpuBackend(threads), spec, p, batch, active);
            AssertBitIdentical(other, baseline, $"{threads} threads vs 1");
        }
    }

    [Test]
    public void Network_IsBitIdentical_AloneOrInsideAnEnsembleOfEight()
    {
        var spec = Leaky;
        int b = 6, t = 11, stride = spec.Layout.Stride;
        var p = TestData.Parameters(spec, 3);
        var batch = TestData.Batch(spec, spec.Networks, b, t, 4);
        var all = Enumerable.Repeat((byte)1, spec.Networks).ToArray();
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var ensemble = Run(new CpuBackend(threads), spec, p, batch, all);
            foreach (int e in new[] { 0, 5, 7 })
            {
                var one = spec.WithNetworks(1);
                var single = TrialBatch.For(one, 1, b, t);
                Slice(batch.Inputs, e, single.Inputs);
                Slice(batch.Targets, e, single.Targets);
                Slice(batch.Mask, e, single.Mask);
                Slice(batch.Noise, e, single.Noise);
                var alone = Run(new CpuBackend(threads), one, p.AsSpan(e * stride, stride).ToArray(), single, [1]);
                AssertBitIdentical(alone, ensemble.Network(e, spec, b * t), $"network {e} alone vs in E=8, {threads} threads");
            }
        }
    }

    private static void Slice(float[] source, int e, float[] destination)
        => source.AsSpan(e * destination.Length, destination.Length).CopyTo(destination);

    [Test]
    public void Results_DoNotDependOnEarlierBatchShapes()
    {
        var spec = Leaky with { Networks = 3 };
        var p = TestData.Parameters(spec, 12);
        var small = TestData.Batch(spec, 1, 5, 4, 13);
        var active = new byte[] { 1, 1, 1 };
        var fresh = Run(new CpuBackend(2), spec, p, small, active);
        using var backend = new CpuBackend(2);
        using var runner = backend.CreateRunner(spec);
        runner.SetParameters(p);
        foreach (var (b, t) in new[] { (11, 9), (6, 3) })
        {
            runner.ComputeGradients(TestData.Batch(spec, 1, b, t, 14), active, new float[3], new float[3]);
        }

        long rows = 3L * 5 * 4;
        var reused = new Result(new float[rows * spec.Outputs], new float[rows * spec.Hidden], new float[3], new float[3], new float[p.Length]);
        runner.Forward(small, reused.Outputs, reused.States);
        runner.ComputeGradients(small, active, reused.Loss, reused.Norm);
        runner.GetGradients(reused.Gradient);
        AssertBitIdentical(reused, fresh, "after larger and other batch shapes");
    }

    internal static Result Run(IEnsembleBackend backend, EnsembleSpec spec, float[] p, TrialBatch batch, byte[] active)
    {
        using (backend)
        using (var runner = backend.CreateRunner(spec))
        {
            runner.SetParameters(p);
            long rows = (long)spec.Networks * batch.Trials * batch.Steps;
            var r = new Result(new float[rows * spec.Outputs], new float[rows * spec.Hidden], new float[spec.Networks], new float[spec.Networks], new float[p.Length]);
            runner.Forward(batch, r.Outputs, r.States);
            runner.ComputeGradients(batch, active, r.Loss, r.Norm);
            runner.GetGradients(r.Gradient);
            return r;
        }
    }

    private static void AssertBitIdentical(Result actual, Result expected, string what)
    {
        Assert.That(actual.Outputs, Is.EqualTo(expected.Outputs).AsCollection, $"{what}: outputs");
        Assert.That(actual.States, Is.EqualTo(expected.States).AsCollection, $"{what}: states");
        Assert.That(actual.Loss, Is.EqualTo(expected.Loss).AsCollection, $"{what}: loss");
        Assert.That(actual.Norm, Is.EqualTo(expected.Norm).AsCollection, $"{what}: gradient norm²");
        Assert.That(actual.Gradient, Is.EqualTo(expected.Gradient).AsCollection, $"{what}: gradient");
    }

    internal sealed record Result(float[] Outputs, float[] States, float[] Loss, float[] Norm, float[] Gradient)
    {
        public Result Network(int e, EnsembleSpec spec, int rows) => new(
            Outputs.AsSpan(e * rows * spec.Outputs, rows * spec.Outputs).ToArray(),
            States.AsSpan(e * rows * spec.Hidden, rows * spec.Hidden).ToArray(),
            [Loss[e]],
            [Norm[e]],
            Gradient.AsSpan(e * spec.Layout.Stride, spec.Layout.Stride).ToArray());
    }
}
