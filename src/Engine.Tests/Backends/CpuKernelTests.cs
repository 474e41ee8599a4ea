using Engine.Backends.Cpu;
using Engine.Backends.Reference;
using Engine.Kernels;
using Engine.Model;
using Engine.Numerics;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>The fast CPU backend's parts: every micro-tile width and both vector widths against the reference, vector activations, Adam.</summary>
public sealed class CpuKernelTests
{
    private static IEnumerable<TestCaseData> Specs()
    {
        // N = 100 pads to 112 floats: 4 + 3 vectors of 16 (and 4 + 4 + 4 + 2 of 8), covering every tile width.
        yield return new TestCaseData(new EnsembleSpec { Networks = 2, Hidden = 100, Inputs = 3, Outputs = 3 }, null).SetArgDisplayNames("tanh_N100");
        yield return new TestCaseData(new EnsembleSpec
        {
            Networks = 3, Hidden = 70, Inputs = 2, Outputs = 5, Cell = CellType.Leaky, Alpha = 0.4f, NoiseStd = 0.1f,
            Activation = ActivationKind.Relu, InitialState = InitialStateKind.Learned,
        }, null).SetArgDisplayNames("leaky_relu_noise_h0_N70");
        yield return new TestCaseData(new EnsembleSpec { Networks = 3, Hidden = 20, Inputs = 3, Outputs = 3, Activation = ActivationKind.Identity }, null).SetArgDisplayNames("linear_N20");
        yield return new TestCaseData(new EnsembleSpec
        {
            Networks = 2, Hidden = 100, Inputs = 3, Outputs = 3, Cell = CellType.Rate, Alpha = 0.3f, NoiseStd = 0.1f,
            InitialState = InitialStateKind.Learned,
        }, new[] { 3f, 0f }).SetArgDisplayNames("rate_tanh_noise_h0_activity_N100");
        yield return new TestCaseData(new EnsembleSpec
        {
            Networks = 3, Hidden = 70, Inputs = 2, Outputs = 5, Cell = CellType.Rate, Alpha = 1f, Activation = ActivationKind.Relu,
            InitialState = InitialStateKind.Learned,
        }, null).SetArgDisplayNames("rate_relu_alpha1_h0_N70");
        yield return new TestCaseData(new EnsembleSpec { Networks = 3, Hidden = 20, Inputs = 3, Outputs = 3, Activation = ActivationKind.Identity }, new[] { 0f, 1f, 5f })
            .SetArgDisplayNames("linear_activity_N20");
    }

    [TestCaseSource(nameof(Specs))]
    public void WideAndNarrowVectors_MatchReference_AllTileWidths(EnsembleSpec spec, float[]? activity)
    {
        var p = TestData.Parameters(spec, 5, 0.2f);
        var batch = TestData.Batch(spec, 1, 7, 6, 6);
        var active = Enumerable.Repeat((byte)1, spec.Networks).ToArray();
        var reference = CpuDeterminismTests.Run(new ReferenceBackend(), spec, p, batch, active, activity);
        foreach (bool wide in new[] { true, false })
        {
            var r = CpuDeterminismTests.Run(new CpuBackend(2, useVector512: wide), spec, p, batch, active, activity);
            string what = wide ? "Vector512" : "Vector256";
            TestData.AssertClose(r.States, reference.States, 2e-4, 2e-5, $"{what} states");
            TestData.AssertClose(r.Outputs, reference.Outputs, 2e-4, 2e-5, $"{what} outputs");
            TestData.AssertClose(r.Loss, reference.Loss, 1e-3, 1e-6, $"{what} loss");
            TestData.AssertClose(r.Gradient, reference.Gradient, 2e-3, 2e-4, $"{what} gradient");
            TestData.AssertClose(r.Norm, reference.Norm, 4e-3, 1e-5, $"{what} gradient norm²");
        }
    }

    [TestCase(CellType.Leaky, 0f)]
    [TestCase(CellType.Rate, 0f)]
    [TestCase(CellType.Rate, 2f)]
    public void TrainingStep_AllocatesNothing_OnceWarm(CellType cell, float activity)
    {
        var spec = new EnsembleSpec
        {
            Networks = 2, Hidden = 40, Inputs = 3, Outputs = 2, Cell = cell, Alpha = 0.5f, NoiseStd = 0.1f, InitialState = InitialStateKind.Learned,
        };
        var batch = TestData.Batch(spec, 1, 9, 8, 10);
        using var runner = new CpuBackend(1).CreateRunner(spec);
        runner.SetParameters(TestData.Parameters(spec, 11));
        runner.SetActivityRegularization([activity, activity / 2]);
        byte[] active = [1, 1];
        var (loss, norm) = (new float[2], new float[2]);
        var coefficients = new[] { AdamMath.Coefficients(1e-3f, 1, 1f), AdamMath.Coefficients(1e-3f, 1, 1f) };
        var outputs = new float[2 * 9 * 8 * 2];
        var states = new float[2 * 9 * 8 * 40];
        for (int i = 0; i < 3; i++)
        {
            runner.ComputeGradients(batch, active, loss, norm);
            runner.AdamStep(coefficients);
            runner.Forward(batch, outputs, states);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            runner.ComputeGradients(batch, active, loss, norm);
            runner.AdamStep(coefficients);
            runner.Forward(batch, outputs, states);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "bytes allocated by 5 warm training steps and forward passes on one thread");
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
        z[4] = float.NaN;
        z[5] = float.PositiveInfinity;
        z[6] = float.NegativeInfinity;
        z[7] = 40f;
        foreach (var kind in new[] { ActivationKind.Tanh, ActivationKind.Relu, ActivationKind.Identity })
        {
            var y = new float[z.Length];
            var d = new float[z.Length];
            VectorActivationProbe.Apply((int)kind, z, y, d);
            for (int i = 0; i < z.Length; i++)
            {
                float ys = ActivationCode.Apply((int)kind, z[i]);
                if (float.IsNaN(ys) || float.IsInfinity(ys))
                {
                    Assert.That(y[i], Is.EqualTo(ys), $"{kind}({z[i]})");
                    continue;
                }

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

}
