using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.Backends.Reference;
using Engine.Kernels;
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

    [TestCaseSource(nameof(Specs))]
    public void Vector256Path_MatchesReference(EnsembleSpec spec)
    {
        var p = TestData.Parameters(spec, 5);
        var batch = TestData.Batch(spec, 1, 7, 6, 6);
        var active = Enumerable.Repeat((byte)1, spec.Networks).ToArray();
        var narrow = Run(new CpuBackend(2, useVector512: false), spec, p, batch, active);
        var reference = Run(new ReferenceBackend(), spec, p, batch, active);
        TestData.AssertClose(narrow.States, reference.States, 2e-4, 2e-5, "states");
        TestData.AssertClose(narrow.Outputs, reference.Outputs, 2e-4, 2e-5, "outputs");
        TestData.AssertClose(narrow.Loss, reference.Loss, 1e-3, 1e-6, "loss");
        TestData.AssertClose(narrow.Gradient, reference.Gradient, 2e-3, 2e-4, "gradient");
    }

    [Test]
    public void VectorActivations_MatchTheScalarOnes()
    {
        var z = new float[4096];
        for (int i = 0; i < z.Length; i++)
        {
            z[i] = (i - z.Length / 2) / 200f;
        }

        z[0] = 1e-6f;
        z[1] = -3e-4f;
        z[2] = 0.1249f;
        z[3] = 0.1251f;
        foreach (var kind in new[] { ActivationKind.Tanh, ActivationKind.Relu, ActivationKind.Identity })
        {
            var y = new float[z.Length];
            var d = new float[z.Length];
            VectorActivationProbe.Apply(kind, z, y, d);
            for (int i = 0; i < z.Length; i++)
            {
                float ys = ActivationCode.Apply((int)kind, z[i]);
                Assert.That(y[i], Is.EqualTo(ys).Within(2e-7f + 2e-6f * Math.Abs(ys)), $"{kind}({z[i]})");
                Assert.That(d[i], Is.EqualTo(ActivationCode.DerivativeFromOutput((int)kind, y[i])).Within(1e-7f), $"{kind}′ at {z[i]}");
            }
        }
    }

    [Test]
    public void AdamStep_IsBitIdenticalToTheScalarFormula()
    {
        var spec = new EnsembleSpec { Networks = 2, Hidden = 9, Inputs = 2, Outputs = 1 };
        var p = TestData.Parameters(spec, 7);
        var batch = TestData.Batch(spec, 1, 4, 5, 8);
        using var runner = new CpuBackend(2).CreateRunner(spec);
        runner.SetParameters(p);
        var m = new float[p.Length];
        var v = new float[p.Length];
        TestData.Fill(m, new Random(9), 0.1f);
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = i * 1e-4f;
        }

        runner.SetOptimizerState(m, v);
        runner.ComputeGradients(batch, [1, 1], new float[2], new float[2]);
        var g = new float[p.Length];
        runner.GetGradients(g);
        var c = new[] { AdamMath.Coefficients(1e-2f, 3, 0.7f), AdamMath.Coefficients(1e-3f, 1, 1f) };
        runner.AdamStep(c);
        int stride = spec.Layout.Stride;
        for (int k = 0; k < p.Length; k++)
        {
            AdamMath.Update(ref p[k], ref m[k], ref v[k], g[k], c[k / stride]);
        }

        var (pa, ma, va) = (new float[p.Length], new float[p.Length], new float[p.Length]);
        runner.GetParameters(pa);
        runner.GetOptimizerState(ma, va);
        Assert.That(pa, Is.EqualTo(p).AsCollection, "parameters");
        Assert.That(ma, Is.EqualTo(m).AsCollection, "m");
        Assert.That(va, Is.EqualTo(v).AsCollection, "v");
    }

    private static void Slice(float[] source, int e, float[] destination)
        => source.AsSpan(e * destination.Length, destination.Length).CopyTo(destination);

    private static Result Run(IEnsembleBackend backend, EnsembleSpec spec, float[] p, TrialBatch batch, byte[] active)
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

    private sealed record Result(float[] Outputs, float[] States, float[] Loss, float[] Norm, float[] Gradient)
    {
        public Result Network(int e, EnsembleSpec spec, int rows) => new(
            Outputs.AsSpan(e * rows * spec.Outputs, rows * spec.Outputs).ToArray(),
            States.AsSpan(e * rows * spec.Hidden, rows * spec.Hidden).ToArray(),
            [Loss[e]],
            [Norm[e]],
            Gradient.AsSpan(e * spec.Layout.Stride, spec.Layout.Stride).ToArray());
    }
}
