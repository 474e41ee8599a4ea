using Engine.Backends;
using Engine.FixedPoints;
using Engine.Kernels;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>Every network optimiser of the engine against Adam written out from its formula here (Kingma &amp; Ba; PyTorch's ε placement).</summary>
/// <remarks>
/// With g̃ = s·g (s: the clip scale): m ← β₁ m + (1 − β₁) g̃, v ← β₂ v + (1 − β₂) g̃², p ← p − η (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).
/// </remarks>
[TestFixtureSource(typeof(BackendCases), nameof(BackendCases.WithReference))]
public sealed class AdamFormulaTests(string backendName)
{
    private static void Formula(double[] p, double[] m, double[] v, double[] g, double lr, double scale, int t, double eps = 1e-8)
    {
        const double b1 = 0.9, b2 = 0.999;
        for (int k = 0; k < p.Length; k++)
        {
            double gs = scale * g[k];
            m[k] = b1 * m[k] + (1 - b1) * gs;
            v[k] = b2 * v[k] + (1 - b2) * gs * gs;
            double mhat = m[k] / (1 - Math.Pow(b1, t)), vhat = v[k] / (1 - Math.Pow(b2, t));
            p[k] -= lr * mhat / (Math.Sqrt(vhat) + eps);
        }
    }

    [Test]
    public void AdamMathUpdate_FollowsTheFormula_OverSteps()
    {
        var rng = new Random(3);
        double p = 0.4, m = 0, v = 0;
        float pf = 0.4f, mf = 0, vf = 0;
        for (int t = 1; t <= 20; t++)
        {
            double g = rng.NextDouble() - 0.5, scale = t % 3 == 0 ? 0.25 : 1;
            double[] pa = [p], ma = [m], va = [v];
            Formula(pa, ma, va, [g], 1e-2, scale, t);
            (p, m, v) = (pa[0], ma[0], va[0]);
            AdamMath.Update(ref pf, ref mf, ref vf, (float)g, AdamMath.Coefficients(1e-2f, t, (float)scale));
            Assert.That(pf, Is.EqualTo(p).Within(1e-6), $"step {t}");
        }
    }

    [Test]
    public void RunnerAdamStep_FollowsTheFormula_PerNetworkAndPerBlock()
    {
        using var backend = BackendCases.CreateOrIgnore(backendName);
        var spec = new EnsembleSpec { Networks = 3, Hidden = 5, Inputs = 2, Outputs = 2 };
        int size = spec.Networks * spec.Layout.Stride, blocks = spec.Layout.BlockCount;
        var rng = new Random(9);
        var p0 = Enumerable.Range(0, size).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        using var runner = backend.CreateRunner(spec);
        runner.SetParameters(p0);
        runner.SetOptimizerState(new float[size], new float[size]);
        var p = p0.Select(x => (double)x).ToArray();
        var m = new double[size];
        var v = new double[size];
        var lrs = new[] { 1e-2, 3e-3, 0.05 };
        for (int t = 1; t <= 4; t++)
        {
            var g = Enumerable.Range(0, size).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
            runner.SetGradients(g);
            var coefficients = new AdamCoefficients[spec.Networks * blocks];
            for (int e = 0; e < spec.Networks; e++)
            {
                float scale = e == 1 ? 0.5f : 1f;
                for (int blk = 0; blk < blocks; blk++)
                {
                    // Block 0 (W) frozen for network 2: its parameters and moments must not move.
                    float lr = e == 2 && blk == 0 ? 0f : (float)(lrs[e] * (blk + 1));
                    coefficients[e * blocks + blk] = AdamMath.Coefficients(lr, t, scale);
                    int from = e * spec.Layout.Stride + spec.Layout.BlockStart(blk), to = e * spec.Layout.Stride + spec.Layout.BlockEnd(blk);
                    if (lr > 0)
                    {
                        var (pp, mm, vv, gg) = (p[from..to], m[from..to], v[from..to], g[from..to].Select(x => (double)x).ToArray());
                        Formula(pp, mm, vv, gg, lr, scale, t);
                        pp.CopyTo(p, from);
                        mm.CopyTo(m, from);
                        vv.CopyTo(v, from);
                    }
                }
            }

            runner.AdamStep(coefficients);
        }

        var got = new float[size];
        runner.GetParameters(got);
        for (int k = 0; k < size; k++)
        {
            Assert.That(got[k], Is.EqualTo(p[k]).Within(2e-6 + 1e-5 * Math.Abs(p[k])), $"parameter {k}");
        }

        Assert.That(got.AsSpan(2 * spec.Layout.Stride, spec.Layout.BlockEnd(0)).ToArray(), Is.EqualTo(p0.AsSpan(2 * spec.Layout.Stride, spec.Layout.BlockEnd(0)).ToArray()), "a frozen block does not move");
    }

    /// <summary>The fixed-point search's Adam on each seed's state, against Adam written out here on q(h) = ½‖α(tanh(W h + U u + b) − h)‖²
    /// with a central-difference gradient (leaky cell α 0.5, ε 0.01 as the search's default, three updates before any schedule check).</summary>
    [Test]
    public void FixedPointSearchAdam_FollowsTheFormula()
    {
        using var backend = BackendCases.CreateOrIgnore(backendName);
        var spec = new EnsembleSpec { Networks = 2, Hidden = 4, Inputs = 1, Outputs = 1, Cell = CellType.Leaky, Alpha = 0.5f };
        var rng = new Random(21);
        var parameters = Enumerable.Range(0, spec.Networks * spec.Layout.Stride).Select(_ => (float)(1.5 * (rng.NextDouble() - 0.5))).ToArray();
        const int seeds = 3, iterations = 3;
        var starts = Enumerable.Range(0, spec.Networks * seeds * spec.Hidden).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        float[] u = [0.7f];
        var problem = new FixedPointProblem(spec, parameters, FixedPointProblem.SharedInput(spec, u), seeds, starts);
        var options = new AdamSearchOptions { LearningRate = 0.05, Tolerance = 0, MaxIterations = iterations };
        using var search = backend.CreateFixedPointSearch();
        var results = new[] { (search.Name, search.Search(problem, options).States) };

        int n = spec.Hidden;
        for (int e = 0; e < spec.Networks; e++)
        {
            var w = spec.Layout.WRec(parameters, e).ToArray();
            var wIn = spec.Layout.WIn(parameters, e).ToArray();
            var b = spec.Layout.Bias(parameters, e).ToArray();
            double Q(double[] h)
            {
                double q = 0;
                for (int i = 0; i < n; i++)
                {
                    double z = b[i] + wIn[i] * u[0];
                    for (int j = 0; j < n; j++)
                    {
                        z += w[i * n + j] * h[j];
                    }

                    double r = 0.5 * (Math.Tanh(z) - h[i]);
                    q += 0.5 * r * r;
                }

                return q;
            }

            for (int s = 0; s < seeds; s++)
            {
                int at = (e * seeds + s) * n;
                var h = starts.AsSpan(at, n).ToArray().Select(x => (double)x).ToArray();
                var m = new double[n];
                var v = new double[n];
                for (int t = 1; t <= iterations; t++)
                {
                    var g = new double[n];
                    for (int j = 0; j < n; j++)
                    {
                        var (up, down) = ((double[])h.Clone(), (double[])h.Clone());
                        up[j] += 1e-6;
                        down[j] -= 1e-6;
                        g[j] = (Q(up) - Q(down)) / 2e-6;
                    }

                    for (int j = 0; j < n; j++)
                    {
                        m[j] = 0.9 * m[j] + 0.1 * g[j];
                        v[j] = 0.999 * v[j] + 0.001 * g[j] * g[j];
                        h[j] -= 0.05 * (m[j] / (1 - Math.Pow(0.9, t))) / (Math.Sqrt(v[j] / (1 - Math.Pow(0.999, t))) + 0.01);
                    }
                }

                for (int j = 0; j < n; j++)
                {
                    Assert.That(Math.Abs(h[j] - starts[at + j]), Is.GreaterThan(1e-3), "the search moved the state");
                    foreach (var (name, got) in results)
                    {
                        Assert.That(got[at + j], Is.EqualTo(h[j]).Within(2e-5), $"{name} search: network {e} seed {s} unit {j}");
                    }
                }
            }
        }
    }
}
