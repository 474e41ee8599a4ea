using Engine.Backends;
using Engine.Backends.Reference;
using Engine.Model;
using Engine.Tests.Support;
using Engine.Training.Representation;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>The guidance (CKA) and diversity (ridge predictability) terms: their gradients, and their way into BPTT on every backend.</summary>
[TestFixture]
public class RepresentationalLossTests
{
    private static double[] Random(int length, int seed, double scale = 1.0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => scale * (2 * rng.NextDouble() - 1)).ToArray();
    }

    private static double Cka(double[] x, double[] y, int rows, int colsX, int colsY)
        => LinearCka.FromGrams(LinearCka.CenteredGram(x, rows, colsX), LinearCka.CenteredGram(y, rows, colsY));

    private static double MeanRho(double[] z, int n, int width, IReadOnlyList<double[]> targets, int[] widths, out double[] gradient)
    {
        var zc = z.ToArray();
        LinearCka.CenterColumns(zc, n, width);
        var grams = targets.Select((a, j) => LinearCka.CenteredGram(a, n, widths[j])).ToArray();
        gradient = new double[z.Length];
        return RidgePredictivity.Gradient(zc, n, width, grams, gradient);
    }

    private static void AssertGradientMatchesCentralDifferences(double[] x, double[] analytic, Func<double[], double> f, string what)
    {
        const double h = 1e-5;
        double worst = 0, scale = analytic.Max(Math.Abs);
        for (int i = 0; i < x.Length; i++)
        {
            var up = x.ToArray();
            var down = x.ToArray();
            up[i] += h;
            down[i] -= h;
            double numeric = (f(up) - f(down)) / (2 * h);
            worst = Math.Max(worst, Math.Abs(numeric - analytic[i]) / scale);
        }

        Assert.That(worst, Is.LessThan(1e-6), $"{what}: worst |numeric − analytic| / max|analytic|");
    }

    [Test]
    public void CkaGradient_MatchesCentralDifferences_AndItsIdentities()
    {
        int n = 7, p = 11, q = 5;
        var x = Random(n * p, 1);
        var y = Random(n * q, 2);
        var xc = x.ToArray();
        LinearCka.CenterColumns(xc, n, p);
        var grad = new double[x.Length];
        double cka = LinearCka.Gradient(xc, LinearCka.CenteredGram(x, n, p), LinearCka.CenteredGram(y, n, q), n, p, grad);
        Assert.That(cka, Is.EqualTo(Cka(x, y, n, p, q)).Within(1e-14));
        AssertGradientMatchesCentralDifferences(x, grad, v => Cka(v, y, n, p, q), "∇_X CKA");

        // Scale invariance ⟨∇, X_c⟩ = 0 and centring: every column of ∇ sums to 0.
        Assert.That(grad.Zip(xc, (a, b) => a * b).Sum(), Is.EqualTo(0).Within(1e-12));
        for (int c = 0; c < p; c++)
        {
            Assert.That(Enumerable.Range(0, n).Sum(r => grad[r * p + c]), Is.EqualTo(0).Within(1e-12), $"column {c} of the gradient");
        }
    }

    [Test]
    public void Cka_OfAnOrthogonalScaledShiftedCopy_IsOneWithZeroGradient()
    {
        int n = 6, q = 3, p = 4;
        var y = Random(n * q, 3);
        var (qr, _) = (Random(p * p, 4), 0);

        // X = 2.5 Y Qᵀ[:q] + 1 μᵀ with Q orthogonal (Gram–Schmidt on random rows).
        var basis = new double[q][];
        for (int i = 0; i < q; i++)
        {
            var v = qr.Skip(i * p).Take(p).ToArray();
            for (int j = 0; j < i; j++)
            {
                double d = v.Zip(basis[j], (a, b) => a * b).Sum();
                for (int k = 0; k < p; k++)
                {
                    v[k] -= d * basis[j][k];
                }
            }

            double norm = Math.Sqrt(v.Sum(a => a * a));
            basis[i] = v.Select(a => a / norm).ToArray();
        }

        var x = new double[n * p];
        for (int r = 0; r < n; r++)
        {
            for (int k = 0; k < p; k++)
            {
                x[r * p + k] = 0.7 * k + 2.5 * Enumerable.Range(0, q).Sum(i => y[r * q + i] * basis[i][k]);
            }
        }

        var xc = x.ToArray();
        LinearCka.CenterColumns(xc, n, p);
        var grad = new double[x.Length];
        double cka = LinearCka.Gradient(xc, LinearCka.CenteredGram(x, n, p), LinearCka.CenteredGram(y, n, q), n, p, grad);
        Assert.That(cka, Is.EqualTo(1).Within(1e-12));
        Assert.That(grad.Max(Math.Abs), Is.LessThan(1e-12));
    }

    [Test]
    public void RidgeGradient_MatchesCentralDifferences()
    {
        int n = 9, width = 5;
        var z = Random(n * width, 5);
        var targets = new[] { Random(n * 4, 6), Random(n * 6, 7) };
        int[] widths = [4, 6];
        double rho = MeanRho(z, n, width, targets, widths, out var grad);
        Assert.That(rho, Is.InRange(0.0, 1.0));
        AssertGradientMatchesCentralDifferences(z, grad, v => MeanRho(v, n, width, targets, widths, out _), "∇_Z ρ̄ (λ's own dependence on Z included)");
    }

    [Test]
    public void Ridge_KnownAnswers_InvertibleMapNearOne_OrthogonalSubspacesZero_DualEqualsPrimal()
    {
        int n = 12, width = 4;
        var a = Random(n * width, 8);

        // Z = A M with M invertible: ρ → 1 as λ → 0 (λ = 1e-3 tr(ZᵀZ)/N here, so within a few 1e-3).
        var m = Random(width * width, 9);
        for (int i = 0; i < width; i++)
        {
            m[i * width + i] += 3;
        }

        var z = new double[n * width];
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < width; c++)
            {
                z[r * width + c] = Enumerable.Range(0, width).Sum(k => a[r * width + k] * m[k * width + c]);
            }
        }

        Assert.That(MeanRho(z, n, width, [a], [width], out _), Is.GreaterThan(0.99));

        // Columns of Z and A in orthogonal, zero-mean subspaces (Walsh functions of length 8): ZᵀA = 0 gives W* = 0 and ρ = 0 exactly.
        int[][] walsh = [[1, 1, 1, 1, -1, -1, -1, -1], [1, 1, -1, -1, 1, 1, -1, -1], [1, -1, 1, -1, 1, -1, 1, -1], [1, 1, -1, -1, -1, -1, 1, 1]];
        var zo = new double[8 * 2];
        var ao = new double[8 * 2];
        for (int r = 0; r < 8; r++)
        {
            zo[r * 2] = walsh[0][r];
            zo[r * 2 + 1] = 0.5 * walsh[1][r];
            ao[r * 2] = 2 * walsh[2][r];
            ao[r * 2 + 1] = walsh[3][r] - walsh[2][r];
        }

        Assert.That(MeanRho(zo, 8, 2, [ao], [2], out _), Is.EqualTo(0).Within(1e-12));

        // The sample-space value equals the primal ridge fit ‖A − ZW*‖² + λ‖W*‖².
        var zr = Random(n * width, 10);
        var ar = Random(n * 3, 11);
        double dual = MeanRho(zr, n, width, [ar], [3], out _);
        var zrc = zr.ToArray();
        var arc = ar.ToArray();
        LinearCka.CenterColumns(zrc, n, width);
        LinearCka.CenterColumns(arc, n, 3);
        double lambda = RidgePredictivity.RelativeRidge * zrc.Sum(v => v * v) / width;
        var zz = new double[width * width];
        var za = new double[width * 3];
        for (int i = 0; i < width; i++)
        {
            for (int j = 0; j < width; j++)
            {
                zz[i * width + j] = Enumerable.Range(0, n).Sum(r => zrc[r * width + i] * zrc[r * width + j]) + (i == j ? lambda : 0);
            }

            for (int j = 0; j < 3; j++)
            {
                za[i * 3 + j] = Enumerable.Range(0, n).Sum(r => zrc[r * width + i] * arc[r * 3 + j]);
            }
        }

        Engine.Numerics.Cholesky.Invert(zz, width);
        var w = new double[width * 3];
        for (int i = 0; i < width; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                w[i * 3 + j] = Enumerable.Range(0, width).Sum(k => zz[i * width + k] * za[k * 3 + j]);
            }
        }

        double f = lambda * w.Sum(v => v * v);
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < 3; j++)
            {
                double d = arc[r * 3 + j] - Enumerable.Range(0, width).Sum(k => zrc[r * width + k] * w[k * 3 + j]);
                f += d * d;
            }
        }

        Assert.That(dual, Is.EqualTo(1 - f / arc.Sum(v => v * v)).Within(1e-12));
    }

    [TestCase(false, 67, 130, 45)]
    [TestCase(true, 67, 130, 45)]
    [TestCase(false, 3, 700, 130)]
    public void SmallGemm_Float32Kernel_MatchesFloat64Loops(bool transposeA, int m, int k, int n)
    {
        Assume.That((long)m * k * n, Is.GreaterThanOrEqualTo(Engine.Numerics.SmallGemm.KernelThreshold), "a size on the kernel path");
        var a = Random(m * k, 51);
        var b = Random(k * n, 52);
        var c = Engine.Numerics.SmallGemm.Multiply(a, transposeA, m, k, b, n);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double exact = 0, scale = 0;
                for (int q = 0; q < k; q++)
                {
                    double x = transposeA ? a[q * m + i] : a[i * k + q];
                    exact += x * b[q * n + j];
                    scale += Math.Abs(x * b[q * n + j]);
                }

                Assert.That(c[i * n + j], Is.EqualTo(exact).Within(1e-6 * scale), $"C[{i},{j}]");
            }
        }
    }

    [TestCase(CellType.Discrete)]
    [TestCase(CellType.Leaky)]
    [TestCase(CellType.Rate)]
    public void GuidanceInBptt_MatchesCentralDifferencesOfTheWholeLoss_Float64(CellType cell)
    {
        var spec = new EnsembleSpec { Networks = 1, Hidden = 5, Inputs = 2, Outputs = 2, Cell = cell, Alpha = 0.5f };
        int b = 4, t = 3, probe = 3, n = spec.Hidden;
        var p = TestData.Parameters(spec, 21, 0.6f).Select(v => (double)v).ToArray();
        var batch = TestData.Batch(spec, 1, b, t, 22);
        double[] x = batch.Inputs.Select(v => (double)v).ToArray(), y = batch.Targets.Select(v => (double)v).ToArray(), m = batch.Mask.Select(v => (double)v).ToArray();
        var guide = Random(probe * t * 4, 23);
        var guideGram = LinearCka.CenteredGram(guide, probe, t * 4);
        const double lambda = 0.7;

        double Total(double[] theta, out double[] stateGradient)
        {
            var hs = new double[b * t * n];
            ReferenceRnn.Forward(spec, theta, b, t, x, [], hs, default);
            var xc = hs.AsSpan(0, probe * t * n).ToArray();
            LinearCka.CenterColumns(xc, probe, t * n);
            var k = new double[probe * probe];
            LinearCka.Gram(xc, probe, t * n, k);
            var g = new double[xc.Length];
            double cka = LinearCka.Gradient(xc, k, guideGram, probe, t * n, g);
            stateGradient = g.Select(v => -lambda * v).ToArray();
            var unused = new double[theta.Length];
            return ReferenceRnn.LossAndGradient(spec, theta, b, t, x, y, m, [], unused) + lambda * (1 - cka);
        }

        Total(p, out var sg);
        var grad = new double[p.Length];
        ReferenceRnn.LossAndGradient(spec, p, b, t, x, y, m, [], grad, 0, sg);
        AssertGradientMatchesCentralDifferences(p, grad, v => Total(v, out _), $"{cell}: d(MSE + λ(1 − CKA))/dθ");
    }

    /// <summary>A guide and diversity on every backend: the first step has only guidance (no earlier states yet), the second both.</summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.All))]
    public void EveryBackend_MatchesTheReference_WithGuidanceAndDiversity(string name)
    {
        using var backend = BackendCases.CreateOrIgnore(name);
        foreach (var cell in new[] { CellType.Discrete, CellType.Rate })
        {
            var spec = new EnsembleSpec { Networks = 3, Hidden = 9, Inputs = 3, Outputs = 2, Cell = cell, Alpha = 0.5f, NoiseStd = 0.05f };
            int b = 6, t = 5, probe = 4;
            var parameters = TestData.Parameters(spec, 31, 0.5f);
            var batch = TestData.Batch(spec, 1, b, t, 32);
            var guide = new GuideStates(Random(2 * probe * t * 7, 33).Select(v => (float)v).ToArray(), 2, probe, t, 7, "test guide");
            RepresentationalLoss Loss() => new(spec.Networks, probe, t, spec.Hidden, guide, -1, [0.5, 0.0, 2.0], 0, 0, [0.0, 1.5, 3.0], 2, null, cell == CellType.Rate ? GuideRows.Trials : GuideRows.Samples);
            var (refGrad, refAlign) = TwoSteps(new ReferenceBackend(), spec, parameters, batch, Loss());
            var (grad, align) = TwoSteps(backend, spec, parameters, batch, Loss());
            TestData.AssertClose(grad, refGrad, 3e-3, 3e-4, $"{name} {cell}: gradient with guidance and diversity");
            TestData.AssertClose(align.Select(v => (float)v).ToArray(), refAlign.Select(v => (float)v).ToArray(), 1e-4, 1e-5, $"{name} {cell}: alignment and predictability");
        }
    }

    private static (float[] Gradient, double[] Measures) TwoSteps(IEnsembleBackend backend, EnsembleSpec spec, float[] parameters, TrialBatch batch, RepresentationalLoss loss)
    {
        using var runner = backend.CreateRunner(spec);
        runner.SetParameters(parameters);
        runner.SetStateLoss(loss);
        var active = Enumerable.Repeat((byte)1, spec.Networks).ToArray();
        var (l, g2) = (new float[spec.Networks], new float[spec.Networks]);
        runner.ComputeGradients(batch, active, l, g2);
        loss.Advance();
        runner.ComputeGradients(batch, active, l, g2);
        var grad = new float[parameters.Length];
        runner.GetGradients(grad);
        Assert.That(loss.Predictability[0], Is.NaN, "network 0 has no earlier network");
        Assert.That(loss.Predictability[1], Is.InRange(0.0, 1.0));
        return (grad, loss.Alignment.Concat(loss.Predictability.Skip(1)).ToArray());
    }

    [Test]
    public void TermsOff_ForAllNetworks_ChangeNothing()
    {
        var spec = new EnsembleSpec { Networks = 2, Hidden = 8, Inputs = 3, Outputs = 2 };
        var parameters = TestData.Parameters(spec, 41, 0.5f);
        var batch = TestData.Batch(spec, 1, 6, 5, 42);
        var guide = new GuideStates(Random(4 * 5 * 8, 43).Select(v => (float)v).ToArray(), 1, 4, 5, 8, "test guide");
        var plain = Gradient(TestBackends.Cpu, spec, parameters, batch, null);
        var off = Gradient(TestBackends.Cpu, spec, parameters, batch, new RepresentationalLoss(2, 4, 5, 8, guide, 0, [0.0, 0.0], 0, 0, [0.0, 0.0], 1));
        Assert.That(off, Is.EqualTo(plain), "a guide with λ = 0 measures the alignment but leaves the gradient bit-identical");
    }

    private static float[] Gradient(IEnsembleBackend backend, EnsembleSpec spec, float[] parameters, TrialBatch batch, IStateLoss? loss)
    {
        using var runner = backend.CreateRunner(spec);
        runner.SetParameters(parameters);
        runner.SetStateLoss(loss);
        var (l, g2) = (new float[spec.Networks], new float[spec.Networks]);
        runner.ComputeGradients(batch, Enumerable.Repeat((byte)1, spec.Networks).ToArray(), l, g2);
        var grad = new float[parameters.Length];
        runner.GetGradients(grad);
        return grad;
    }
}
