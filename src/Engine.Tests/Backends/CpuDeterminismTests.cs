using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>
/// The fast CPU backend's promises beyond conformance: bit-identical results whatever the thread count or ensemble,
/// for every cell (the rate cell included) with and without the activity regulariser.
/// </summary>
public sealed class CpuDeterminismTests
{
    private static readonly EnsembleSpec Leaky = new()
    {
        Networks = 8, Hidden = 33, Inputs = 3, Outputs = 2, Cell = CellType.Leaky, Alpha = 0.3f,
        NoiseStd = 0.1f, InitialState = InitialStateKind.Learned,
    };

    private static readonly EnsembleSpec Discrete = new() { Networks = 3, Hidden = 20, Inputs = 3, Outputs = 3 };

    private static readonly EnsembleSpec Rate = new()
    {
        Networks = 8, Hidden = 33, Inputs = 3, Outputs = 2, Cell = CellType.Rate, Alpha = 0.3f,
        NoiseStd = 0.1f, InitialState = InitialStateKind.Learned,
    };

    /// <summary>Activity strengths λ_e for E = 8: zero for some networks, so both branches run side by side.</summary>
    private static readonly float[] Activity8 = [2f, 0f, 0.5f, 4f, 0f, 1f, 3f, 0.25f];

    private static IEnumerable<TestCaseData> Specs()
    {
        yield return new TestCaseData(Leaky, null).SetArgDisplayNames("leaky_noise_h0_E8");
        yield return new TestCaseData(Discrete, null).SetArgDisplayNames("tanh_E3");
        yield return new TestCaseData(Rate, null).SetArgDisplayNames("rate_noise_h0_E8");
        yield return new TestCaseData(Rate, Activity8).SetArgDisplayNames("rate_noise_h0_activity_E8");
        yield return new TestCaseData(Leaky, Activity8).SetArgDisplayNames("leaky_noise_h0_activity_E8");
        yield return new TestCaseData(
            Discrete with { Cell = CellType.Rate, Activation = ActivationKind.Relu }, new[] { 1f, 2f, 0f })
            .SetArgDisplayNames("rate_relu_alpha1_activity_E3");
    }

    [TestCaseSource(nameof(Specs))]
    public void Results_AreBitIdentical_ForOneTwoAndThreeThreads(EnsembleSpec spec, float[]? activity)
    {
        var p = TestData.Parameters(spec, 1);
        var batch = TestData.Batch(spec, spec.Networks, 13, 9, 2);
        var active = Enumerable.Repeat((byte)1, spec.Networks).ToArray();
        active[1] = 0;
        var baseline = Run(new CpuBackend(1), spec, p, batch, active, activity);
        foreach (int threads in new[] { 2, 3 })
        {
            var other = Run(new CpuBackend(threads), spec, p, batch, active, activity);
            AssertBitIdentical(other, baseline, $"{threads} threads vs 1");
        }
    }

    private static IEnumerable<TestCaseData> EnsembleSpecs()
    {
        yield return new TestCaseData(Leaky, null).SetArgDisplayNames("leaky_noise_h0");
        yield return new TestCaseData(Rate, Activity8).SetArgDisplayNames("rate_noise_h0_activity");
        yield return new TestCaseData(Leaky, Activity8).SetArgDisplayNames("leaky_noise_h0_activity");
    }

    [TestCaseSource(nameof(EnsembleSpecs))]
    public void Network_IsBitIdentical_AloneOrInsideAnEnsembleOfEight(EnsembleSpec spec, float[]? activity)
    {
        int b = 6, t = 11, stride = spec.Layout.Stride;
        var p = TestData.Parameters(spec, 3);
        var batch = TestData.Batch(spec, spec.Networks, b, t, 4);
        var all = Enumerable.Repeat((byte)1, spec.Networks).ToArray();
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var ensemble = Run(new CpuBackend(threads), spec, p, batch, all, activity);
            foreach (int e in new[] { 0, 1, 5, 7 })
            {
                var one = spec.WithNetworks(1);
                var single = TrialBatch.For(one, 1, b, t);
                Slice(batch.Inputs, e, single.Inputs);
                Slice(batch.Targets, e, single.Targets);
                Slice(batch.Mask, e, single.Mask);
                Slice(batch.Noise, e, single.Noise);
                float[]? own = activity is null ? null : [activity[e]];
                var alone = Run(new CpuBackend(threads), one, p.AsSpan(e * stride, stride).ToArray(), single, [1], own);
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

    [Test]
    public void ZeroActivity_IsBitIdenticalToNone_AndActivityMovesTheGradientButNotTheLoss()
    {
        foreach (var spec in new[] { Leaky, Rate })
        {
            var p = TestData.Parameters(spec, 5);
            var batch = TestData.Batch(spec, spec.Networks, 7, 6, 6);
            var all = Enumerable.Repeat((byte)1, spec.Networks).ToArray();
            var none = Run(new CpuBackend(2), spec, p, batch, all);
            var zero = Run(new CpuBackend(2), spec, p, batch, all, new float[spec.Networks]);
            AssertBitIdentical(zero, none, $"{spec.Cell}: λ = 0 vs never set");
            var some = Run(new CpuBackend(2), spec, p, batch, all, Activity8);
            Assert.That(some.Loss, Is.EqualTo(none.Loss).AsCollection, $"{spec.Cell}: the reported loss stays the masked MSE");
            Assert.That(some.Outputs, Is.EqualTo(none.Outputs).AsCollection, $"{spec.Cell}: outputs");
            int stride = spec.Layout.Stride;
            for (int e = 0; e < spec.Networks; e++)
            {
                bool same = some.Gradient.AsSpan(e * stride, stride).SequenceEqual(none.Gradient.AsSpan(e * stride, stride));
                Assert.That(same, Is.EqualTo(Activity8[e] == 0f), $"{spec.Cell}: network {e} gradient with λ = {Activity8[e]}");
            }
        }
    }

    internal static Result Run(IEnsembleBackend backend, EnsembleSpec spec, float[] p, TrialBatch batch, byte[] active, float[]? activity = null)
    {
        using (backend)
        using (var runner = backend.CreateRunner(spec))
        {
            runner.SetParameters(p);
            if (activity is not null)
            {
                runner.SetActivityRegularization(activity);
            }

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
