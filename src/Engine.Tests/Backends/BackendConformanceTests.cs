using Engine.Backends;
using Engine.Backends.Reference;
using Engine.Kernels;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>Every backend against the float64 reference: forward, loss, BPTT gradient, Adam.</summary>
[TestFixtureSource(typeof(BackendCases), nameof(BackendCases.All))]
public sealed class BackendConformanceTests(string backendName)
{
    private IEnsembleBackend _backend = null!;
    private readonly ReferenceBackend _reference = new();

    private double Tol => _backend.ApproximateMath ? 5e-3 : 2e-4;

    [OneTimeSetUp]
    public void Setup() => _backend = BackendCases.CreateOrIgnore(backendName);

    [OneTimeTearDown]
    public void TearDown() => _backend?.Dispose();

    public static IEnumerable<TestCaseData> Shapes()
    {
        int k = 0;
        foreach (var spec in TestData.OddSpecs())
        {
            yield return new TestCaseData(spec, 1, 3, 7).SetArgDisplayNames($"spec{k}_shared_B3_T7");
            yield return new TestCaseData(spec, spec.Networks, 7, 3).SetArgDisplayNames($"spec{k}_perNet_B7_T3");
            k++;
        }

        yield return new TestCaseData(new EnsembleSpec { Networks = 2, Hidden = 33, Inputs = 3, Outputs = 3 }, 2, 33, 7).SetArgDisplayNames("N33_B33_T7");
    }

    /// <summary>
    /// Rate (µP) cells and non-zero activity strengths λ [E] (null: none set), on odd shapes: tanh, relu and identity,
    /// noise, learned h₀, α &lt; 1 and α = 1, shared and per-network trials, and λ on every cell type.
    /// </summary>
    public static IEnumerable<TestCaseData> RateAndActivityShapes()
    {
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 1, Inputs = 1, Outputs = 1, Cell = CellType.Rate, Alpha = 0.5f }, 1, 3, 7, null)
            .SetArgDisplayNames("rate_tanh_N1_shared_B3_T7");
        yield return new TestCaseData(new EnsembleSpec { Networks = 3, Hidden = 7, Inputs = 3, Outputs = 2, Cell = CellType.Rate, Alpha = 0.1f }, 1, 3, 7, null)
            .SetArgDisplayNames("rate_tanh_N7_shared_B3_T7");
        yield return new TestCaseData(new EnsembleSpec
        {
            Networks = 2, Hidden = 33, Inputs = 1, Outputs = 3, Cell = CellType.Rate, Alpha = 0.3f, Activation = ActivationKind.Relu,
            NoiseStd = 0.1f, InitialState = InitialStateKind.Learned,
        }, 2, 5, 4, null).SetArgDisplayNames("rate_relu_noise_h0_N33_perNet_B5_T4");
        yield return new TestCaseData(new EnsembleSpec
        {
            Networks = 3, Hidden = 7, Inputs = 7, Outputs = 7, Cell = CellType.Rate, Alpha = 1f, NoiseStd = 0.05f, InitialState = InitialStateKind.Learned,
        }, 3, 7, 3, null).SetArgDisplayNames("rate_tanh_alpha1_noise_h0_perNet_B7_T3");
        yield return new TestCaseData(new EnsembleSpec
        {
            Networks = 3, Hidden = 17, Inputs = 2, Outputs = 2, Cell = CellType.Rate, Alpha = 0.2f, NoiseStd = 0.1f, InitialState = InitialStateKind.Learned,
        }, 3, 4, 6, new[] { 2.5f, 0f, 7f }).SetArgDisplayNames("rate_tanh_noise_h0_activity_perNet_B4_T6");
        yield return new TestCaseData(new EnsembleSpec
        {
            Networks = 2, Hidden = 9, Inputs = 3, Outputs = 1, Cell = CellType.Rate, Alpha = 0.4f, Activation = ActivationKind.Relu, InitialState = InitialStateKind.Learned,
        }, 1, 5, 5, new[] { 4f, 1.5f }).SetArgDisplayNames("rate_relu_h0_activity_shared_B5_T5");
        yield return new TestCaseData(new EnsembleSpec { Networks = 3, Hidden = 7, Inputs = 3, Outputs = 1, Activation = ActivationKind.Relu }, 1, 3, 7, new[] { 3f, 0.5f, 0f })
            .SetArgDisplayNames("discrete_relu_activity_shared_B3_T7");
        yield return new TestCaseData(new EnsembleSpec
        {
            Networks = 2, Hidden = 33, Inputs = 1, Outputs = 3, Cell = CellType.Leaky, Alpha = 0.2f, NoiseStd = 0.1f, InitialState = InitialStateKind.Learned,
        }, 2, 3, 7, new[] { 1f, 6f }).SetArgDisplayNames("leaky_tanh_noise_h0_activity_perNet_B3_T7");
        yield return new TestCaseData(new EnsembleSpec
        {
            Networks = 2, Hidden = 5, Inputs = 2, Outputs = 2, Cell = CellType.Rate, Alpha = 0.25f, Activation = ActivationKind.Identity,
        }, 2, 3, 5, new[] { 0.5f, 2f }).SetArgDisplayNames("rate_identity_activity_perNet_B3_T5");
    }

    [TestCaseSource(nameof(Shapes))]
    public void Forward_MatchesReference_OddShapes(EnsembleSpec spec, int sets, int trials, int steps)
    {
        var p = TestData.Parameters(spec, 11);
        var batch = TestData.Batch(spec, sets, trials, steps, 12);
        long rows = (long)spec.Networks * trials * steps;
        var (yRef, hRef) = (new float[rows * spec.Outputs], new float[rows * spec.Hidden]);
        using (var r = _reference.CreateRunner(spec))
        {
            r.SetParameters(p);
            r.Forward(batch, yRef, hRef);
        }

        var y = TestData.Poisoned(rows * spec.Outputs);
        var h = TestData.Poisoned(rows * spec.Hidden);
        using var runner = _backend.CreateRunner(spec);
        runner.SetParameters(p);
        runner.Forward(batch, y, h);
        TestData.AssertClose(h, hRef, Tol, Tol * 0.1, "states");
        TestData.AssertClose(y, yRef, Tol, Tol * 0.1, "outputs");

        var yOnly = TestData.Poisoned(rows * spec.Outputs);
        runner.Forward(batch, yOnly, Span<float>.Empty);
        TestData.AssertClose(yOnly, yRef, Tol, Tol * 0.1, "outputs without states");
    }

    [TestCaseSource(nameof(Shapes))]
    public void Gradients_MatchReference_OddShapes(EnsembleSpec spec, int sets, int trials, int steps)
    {
        var p = TestData.Parameters(spec, 21);
        var batch = TestData.Batch(spec, sets, trials, steps, 22);
        var active = new byte[spec.Networks];
        Array.Fill(active, (byte)1);
        if (spec.Networks > 2)
        {
            active[1] = 0;
        }

        var (lossRef, normRef, gRef) = Gradients(_reference, spec, p, batch, active);
        var (loss, norm, g) = Gradients(_backend, spec, p, batch, active);
        TestData.AssertClose(loss, lossRef, Tol * 5, 1e-6, "loss");
        TestData.AssertClose(g, gRef, Tol * 10, Tol, "gradient");
        TestData.AssertClose(norm, normRef, Tol * 20, 1e-5, "gradient norm²");
    }

    [TestCaseSource(nameof(RateAndActivityShapes))]
    public void Forward_MatchesReference_RateAndActivity(EnsembleSpec spec, int sets, int trials, int steps, float[]? activity)
    {
        var p = TestData.Parameters(spec, 61);
        var batch = TestData.Batch(spec, sets, trials, steps, 62);
        long rows = (long)spec.Networks * trials * steps;
        var (yRef, hRef) = (new float[rows * spec.Outputs], new float[rows * spec.Hidden]);
        using (var r = _reference.CreateRunner(spec))
        {
            r.SetParameters(p);
            if (activity is not null)
            {
                r.SetActivityRegularization(activity);
            }

            r.Forward(batch, yRef, hRef);
        }

        var y = TestData.Poisoned(rows * spec.Outputs);
        var h = TestData.Poisoned(rows * spec.Hidden);
        using var runner = CreateOrIgnoreUnsupported(spec, activity);
        runner.SetParameters(p);
        runner.Forward(batch, y, h);
        TestData.AssertClose(h, hRef, Tol, Tol * 0.1, "states");
        TestData.AssertClose(y, yRef, Tol, Tol * 0.1, "outputs");

        var yOnly = TestData.Poisoned(rows * spec.Outputs);
        runner.Forward(batch, yOnly, Span<float>.Empty);
        TestData.AssertClose(yOnly, yRef, Tol, Tol * 0.1, "outputs without states");
    }

    [TestCaseSource(nameof(RateAndActivityShapes))]
    public void Gradients_MatchReference_RateAndActivity(EnsembleSpec spec, int sets, int trials, int steps, float[]? activity)
    {
        var p = TestData.Parameters(spec, 71);
        var batch = TestData.Batch(spec, sets, trials, steps, 72);
        var active = new byte[spec.Networks];
        Array.Fill(active, (byte)1);
        if (spec.Networks > 2)
        {
            active[1] = 0;
        }

        var (lossRef, normRef, gRef) = Gradients(_reference, spec, p, batch, active, activity);
        if (activity is not null)
        {
            // the case must be sensitive to λ: the activity term moves the gradient by more than the tolerance
            var (lossPlain, _, gPlain) = Gradients(_reference, spec, p, batch, active, null);
            Assert.That(lossRef, Is.EqualTo(lossPlain), "the reported loss must stay the masked MSE");
            double moved = 0;
            for (int k = 0; k < gRef.Length; k++)
            {
                moved = Math.Max(moved, Math.Abs(gRef[k] - gPlain[k]) - (Tol + Tol * 10 * Math.Abs(gRef[k])));
            }

            Assert.That(moved, Is.GreaterThan(0), "λ too small for this case to test the activity regulariser");
        }

        using var runner = CreateOrIgnoreUnsupported(spec, activity);
        var (loss, norm, g) = Gradients(runner, p, batch, active);
        TestData.AssertClose(loss, lossRef, Tol * 5, 1e-6, "loss");
        TestData.AssertClose(g, gRef, Tol * 10, Tol, "gradient");
        TestData.AssertClose(norm, normRef, Tol * 20, 1e-5, "gradient norm²");
    }

    [Test]
    public void SetActivityRegularization_RejectsNegativeOrNonFinite_AndAcceptsZeros()
    {
        var spec = new EnsembleSpec { Networks = 2, Hidden = 3, Inputs = 1, Outputs = 1 };
        using var runner = _backend.CreateRunner(spec);
        runner.SetActivityRegularization(new float[2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => runner.SetActivityRegularization([0f, -1f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => runner.SetActivityRegularization([float.NaN, 0f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => runner.SetActivityRegularization([float.PositiveInfinity, 0f]));
        Assert.Throws<ArgumentException>(() => runner.SetActivityRegularization(new float[3]));
    }

    [Test]
    public void AdamStep_MatchesFormula_PerNetworkCoefficients()
    {
        var spec = new EnsembleSpec { Networks = 3, Hidden = 7, Inputs = 3, Outputs = 1 };
        var p = TestData.Parameters(spec, 31);
        var batch = TestData.Batch(spec, 1, 3, 5, 32);
        using var runner = _backend.CreateRunner(spec);
        runner.SetParameters(p);
        var rng = new Random(33);
        var m = new float[p.Length];
        var v = new float[p.Length];
        TestData.Fill(m, rng, 0.1f);
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)rng.NextDouble() * 0.01f;
        }

        runner.SetOptimizerState(m, v);
        runner.ComputeGradients(batch, new byte[] { 1, 1, 1 }, new float[3], new float[3]);
        var g = new float[p.Length];
        runner.GetGradients(g);
        var coeffs = new[]
        {
            AdamMath.Coefficients(1e-2f, 1, 1f),
            AdamMath.Coefficients(0f, 5, 1f),
            AdamMath.Coefficients(3e-3f, 7, 0.5f),
        };
        runner.AdamStep(coeffs);

        var (pe, me, ve) = ((float[])p.Clone(), (float[])m.Clone(), (float[])v.Clone());
        double[] lr = [1e-2, 0, 3e-3];
        int[] step = [1, 5, 7];
        double[] scale = [1, 1, 0.5];
        int stride = spec.Layout.Stride;
        for (int e = 0; e < 3; e++)
        {
            if (lr[e] == 0)
            {
                continue;
            }

            for (int k = e * stride; k < (e + 1) * stride; k++)
            {
                double gs = g[k] * scale[e];
                double mn = 0.9 * m[k] + 0.1 * gs;
                double vn = 0.999 * v[k] + 0.001 * gs * gs;
                double mh = mn / (1 - Math.Pow(0.9, step[e]));
                double vh = vn / (1 - Math.Pow(0.999, step[e]));
                me[k] = (float)mn;
                ve[k] = (float)vn;
                pe[k] = (float)(p[k] - lr[e] * mh / (Math.Sqrt(vh) + 1e-8));
            }
        }

        var (pa, ma, va) = (new float[p.Length], new float[p.Length], new float[p.Length]);
        runner.GetParameters(pa);
        runner.GetOptimizerState(ma, va);
        TestData.AssertClose(ma, me, 1e-5, 1e-7, "m");
        TestData.AssertClose(va, ve, 1e-5, 1e-9, "v");
        TestData.AssertClose(pa, pe, 1e-5, 1e-6, "parameters");
        Assert.That(pa.AsSpan(stride, stride).SequenceEqual(p.AsSpan(stride, stride)), "a frozen network (lr 0) must not move");
    }

    [Test]
    public void AdamStep_PerBlockCoefficients_MatchFormula_AndFreezeZeroBlocks()
    {
        var spec = new EnsembleSpec { Networks = 2, Hidden = 7, Inputs = 3, Outputs = 2, InitialState = InitialStateKind.Learned };
        var layout = spec.Layout;
        var p = TestData.Parameters(spec, 51);
        var batch = TestData.Batch(spec, 1, 3, 4, 52);
        using var runner = _backend.CreateRunner(spec);
        runner.SetParameters(p);
        runner.ComputeGradients(batch, new byte[] { 1, 1 }, new float[2], new float[2]);
        var g = new float[p.Length];
        runner.GetGradients(g);
        int blocks = layout.BlockCount;
        var coeffs = new AdamCoefficients[2 * blocks];
        for (int i = 0; i < coeffs.Length; i++)
        {
            coeffs[i] = i % 4 == 1 ? AdamMath.Coefficients(0f, 1, 1f) : AdamMath.Coefficients(1e-3f * (1 + i), 1 + i % 3, 1f, 1e-8f * (1 + i));
        }

        runner.AdamStep(coeffs);
        var pa = new float[p.Length];
        runner.GetParameters(pa);
        for (int e = 0; e < 2; e++)
        {
            for (int blk = 0; blk < blocks; blk++)
            {
                var c = coeffs[e * blocks + blk];
                for (int k = layout.BlockStart(blk); k < layout.BlockEnd(blk); k++)
                {
                    int i = e * layout.Stride + k;
                    float pe = p[i], m = 0, v = 0;
                    AdamMath.Update(ref pe, ref m, ref v, g[i], c);
                    Assert.That(pa[i], Is.EqualTo(pe).Within(1e-6f + 1e-5f * Math.Abs(pe)), $"network {e} block {blk} element {k}");
                }
            }
        }
    }

    [Test]
    public void Gradients_OfOneNetwork_DoNotDependOnItsNeighbours()
    {
        var spec = new EnsembleSpec { Networks = 4, Hidden = 7, Inputs = 3, Outputs = 3 };
        var p = TestData.Parameters(spec, 41);
        var batch = TestData.Batch(spec, spec.Networks, 5, 6, 42);
        var (_, _, g1) = Gradients(_backend, spec, p, batch, [1, 1, 1, 1]);
        var p2 = (float[])p.Clone();
        int stride = spec.Layout.Stride;
        TestData.Fill(p2, new Random(43), 3f);
        p.AsSpan(2 * stride, stride).CopyTo(p2.AsSpan(2 * stride, stride));
        var (_, _, g2) = Gradients(_backend, spec, p2, batch, [1, 1, 1, 1]);
        Assert.That(g2.AsSpan(2 * stride, stride).SequenceEqual(g1.AsSpan(2 * stride, stride)), "network 2's gradient changed when only its neighbours did");
    }

    /// <summary>
    /// A runner of the backend under test with the activity strengths set (if any); a backend that does not support the
    /// rate cell or the activity regulariser yet (<see cref="NotSupportedException"/>) marks the test ignored, except
    /// cpu, which supports both, so there the exception fails the test.
    /// </summary>
    private IEnsembleRunner CreateOrIgnoreUnsupported(EnsembleSpec spec, float[]? activity)
    {
        IEnsembleRunner? runner = null;
        try
        {
            runner = _backend.CreateRunner(spec);
            if (activity is not null)
            {
                runner.SetActivityRegularization(activity);
            }

            return runner;
        }
        catch (NotSupportedException e) when (BackendCases.Optional.Contains(backendName))
        {
            runner?.Dispose();
            Assert.Ignore($"backend '{backendName}' does not support this case yet: {e.Message}");
            throw;
        }
    }

    private static (float[] Loss, float[] Norm, float[] Gradient) Gradients(
        IEnsembleBackend backend, EnsembleSpec spec, float[] p, TrialBatch batch, byte[] active, float[]? activity = null)
    {
        using var runner = backend.CreateRunner(spec);
        if (activity is not null)
        {
            runner.SetActivityRegularization(activity);
        }

        return Gradients(runner, p, batch, active);
    }

    private static (float[] Loss, float[] Norm, float[] Gradient) Gradients(IEnsembleRunner runner, float[] p, TrialBatch batch, byte[] active)
    {
        var spec = runner.Spec;
        runner.SetParameters(p);
        var loss = TestData.Poisoned(spec.Networks);
        var norm = TestData.Poisoned(spec.Networks);
        runner.ComputeGradients(batch, active, loss, norm);
        var g = TestData.Poisoned(p.Length);
        runner.GetGradients(g);
        return (loss, norm, g);
    }
}
