using Engine.FixedPointRnn;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.FixedPointRnn;

/// <summary>The fixed-point RNN's known answers: the converged iterate is the dense recurrence, one iteration is the diagonal RNN, gradients match float64 finite differences, float32 matches float64.</summary>
public sealed class FpRnnCoreTests
{
    private static (FpRnnSpec Spec, double[] P, int[] Tokens, int[] Targets) Problem(int hidden = 7, int reflections = 2, int vocab = 3, int classes = 4, int trials = 3, int length = 9, double betaLogit = -1.5, long seed = 5)
    {
        var spec = new FpRnnSpec { Hidden = hidden, Reflections = reflections, Vocab = vocab, Classes = classes }.Validate();
        var f = new float[spec.Stride];
        FpRnnEnsemble.Initialize(spec, seed, f);
        var p = f.Select(x => (double)x).ToArray();
        var rng = new Rng((ulong)seed + 100);
        for (int i = 0; i < vocab * reflections; i++)
        {
            p[spec.BetaOffset + i] = betaLogit + rng.Uniform(-0.3, 0.3);
        }

        for (int i = 0; i < classes; i++)
        {
            p[spec.ReadoutBiasOffset + i] = rng.Uniform(-0.5, 0.5);
        }

        for (int i = 0; i < vocab * hidden; i++)
        {
            p[spec.LambdaOffset + i] = rng.Uniform(-1, 1.4); // λ ∈ (0.27, 0.8): states of order one over the test's lengths
        }

        var tokens = Enumerable.Range(0, trials * length).Select(_ => rng.NextInt(vocab)).ToArray();
        var targets = Enumerable.Range(0, trials * length).Select(i => i % 4 == 1 ? -1 : rng.NextInt(classes)).ToArray();
        return (spec, p, tokens, targets);
    }

    private static readonly FpIteration Converge = new FpIteration { MaxIterations = 2000, Tolerance = 1e-14 }.Validate();

    [Test]
    public void Converged_EqualsTheDenseRecurrence_To1e6()
    {
        foreach (int r in new[] { 1, 2, 3 })
        {
            var (spec, p, tokens, _) = Problem(hidden: 8, reflections: r, trials: 4, length: 20);
            var core = new FpRnnCore<double>(spec);
            core.Forward(p, tokens, 4, 20, Converge, keepIterates: false);
            Assert.That(core.Status, Is.EqualTo(FpStatus.Converged), $"r={r}: the iteration converges for β < 1");
            var fixedPoint = core.States.ToArray();
            core.DenseForward(p, tokens, 4, 20);
            var dense = core.States.ToArray();
            double worst = fixedPoint.Zip(dense, (a, b) => Math.Abs(a - b)).Max();
            Assert.That(worst, Is.LessThan(1e-6), $"r={r}: max |h_fp − h_dense|");
            Assert.That(dense.Select(Math.Abs).Max(), Is.GreaterThan(1e-2), "a non-trivial state");
        }
    }

    [Test]
    public void OneIteration_IsTheDiagonalRnn_Exactly()
    {
        var (spec, p, tokens, _) = Problem(hidden: 6, reflections: 2, trials: 2, length: 7, betaLogit: 1.0);
        var core = new FpRnnCore<double>(spec);
        core.Forward(p, tokens, 2, 7, new FpIteration { Iterations = 1 }, keepIterates: true);
        var got = core.States.ToArray();
        int n = spec.Hidden;
        for (int b = 0; b < 2; b++)
        {
            var h = new double[n];
            for (int t = 0; t < 7; t++)
            {
                int v = tokens[b * 7 + t];
                // Q b with Q = H_0 H_1 written as explicit matrices.
                var q = Matrix(spec, p, v);
                for (int i = 0; i < n; i++)
                {
                    double qb = 0;
                    for (int j = 0; j < n; j++)
                    {
                        qb += q[i, j] * p[spec.EmbedOffset + v * n + j];
                    }

                    double lambda = 1 / (1 + Math.Exp(-p[spec.LambdaOffset + v * n + i]));
                    h[i] = lambda * h[i] + qb;
                }

                for (int i = 0; i < n; i++)
                {
                    Assert.That(got[(b * 7 + t) * n + i], Is.EqualTo(h[i]).Within(1e-12), $"b={b} t={t} i={i}");
                }
            }
        }
    }

    [Test]
    public void Mixer_MatchesTheClosedFormInverse()
    {
        // (I − βuuᵀ)⁻¹ = I + β/(1−β) uuᵀ: the dense recurrence's one-step map equals Q⁻¹Λ built by matrix inversion.
        var (spec, p, _, _) = Problem(hidden: 5, reflections: 2, vocab: 1, betaLogit: 0.8);
        var q = Matrix(spec, p, 0);
        var core = new FpRnnCore<double>(spec);
        // Two steps with token 0: h_1 = b, h_2 = Q⁻¹Λ b + b.
        core.DenseForward(p, [0, 0], 1, 2);
        var h = core.States.ToArray();
        int n = spec.Hidden;
        var rhs = new double[n];
        for (int i = 0; i < n; i++)
        {
            rhs[i] = 1 / (1 + Math.Exp(-p[spec.LambdaOffset + i])) * h[i];
        }

        // Solve Q x = Λ b by Gaussian elimination and compare x + b with h_2.
        var x = Solve(q, rhs);
        for (int i = 0; i < n; i++)
        {
            Assert.That(h[n + i], Is.EqualTo(x[i] + p[spec.EmbedOffset + i]).Within(1e-10));
        }
    }

    [TestCase(1)]
    [TestCase(3)]
    public void Gradient_FixedIterations_MatchesFiniteDifferences(int iterations)
    {
        var (spec, p, tokens, targets) = Problem(betaLogit: 0.5);
        var it = new FpIteration { Iterations = iterations }.Validate();
        CheckGradient(spec, p, tokens, targets, it);
    }

    [TestCase(1)]
    [TestCase(2)]
    public void Gradient_AtTheFixedPoint_MatchesFiniteDifferences(int reflections)
    {
        var (spec, p, tokens, targets) = Problem(reflections: reflections);
        CheckGradient(spec, p, tokens, targets, Converge);
    }

    [Test]
    public void Float32_MatchesFloat64_LossAndGradient()
    {
        foreach (var it in new[] { new FpIteration { Iterations = 4 }, new FpIteration { MaxIterations = 500, Tolerance = 1e-6 } })
        {
            var (spec, p, tokens, targets) = Problem(hidden: 33, reflections: 3, vocab: 5, classes: 7, trials: 5, length: 13);
            var pf = p.Select(x => (float)x).ToArray();
            var p32 = pf.Select(x => (double)x).ToArray();
            var c64 = new FpRnnCore<double>(spec);
            var c32 = new FpRnnCore<float>(spec);
            var g64 = new double[spec.Stride];
            var g32 = new float[spec.Stride];
            c64.Forward(p32, tokens, 5, 13, it, keepIterates: true);
            var l64 = c64.Loss(p32, targets, g64);
            c64.Backward(p32, tokens, it, g64);
            c32.Forward(pf, tokens, 5, 13, it, keepIterates: true);
            var l32 = c32.Loss(pf, targets, g32);
            c32.Backward(pf, tokens, it, g32);
            Assert.That(l32.Loss, Is.EqualTo(l64.Loss).Within(1e-4 * Math.Abs(l64.Loss) + 1e-5), it.Label);
            double scale = g64.Select(Math.Abs).Max();
            for (int i = 0; i < spec.Stride; i++)
            {
                Assert.That(g32[i], Is.EqualTo(g64[i]).Within(1e-3 * scale), $"{it.Label}: parameter {i}");
            }
        }
    }

    private static void CheckGradient(FpRnnSpec spec, double[] p, int[] tokens, int[] targets, FpIteration it)
    {
        int trials = 3, length = tokens.Length / 3;
        var core = new FpRnnCore<double>(spec);
        var grad = new double[spec.Stride];
        core.Forward(p, tokens, trials, length, it, keepIterates: true);
        Assert.That(core.Status, Is.EqualTo(FpStatus.Converged));
        core.Loss(p, targets, grad);
        core.Backward(p, tokens, it, grad);
        double Loss(double[] q)
        {
            core.Forward(q, tokens, trials, length, it, keepIterates: false);
            return core.Loss(q, targets, Span<double>.Empty).Loss;
        }

        double worst = 0, scale = grad.Select(Math.Abs).Max();
        const double h = 1e-6;
        for (int i = 0; i < spec.Stride; i++)
        {
            var q = (double[])p.Clone();
            q[i] = p[i] + h;
            double up = Loss(q);
            q[i] = p[i] - h;
            double down = Loss(q);
            double fd = (up - down) / (2 * h);
            worst = Math.Max(worst, Math.Abs(fd - grad[i]) / (Math.Abs(fd) + 1e-3 * scale));
        }

        Assert.That(worst, Is.LessThan(1e-5), $"{it.Label}: worst relative error of the gradient over {spec.Stride} parameters");
        Assert.That(grad.Skip(spec.ReflectOffset).Take(spec.Vocab * spec.Reflections * spec.Hidden).Select(Math.Abs).Max(), Is.GreaterThan(1e-6), "the mixer gets a gradient");
    }

    /// <summary>Q_v = H_0 ⋯ H_{r−1} as an explicit matrix.</summary>
    private static double[,] Matrix(FpRnnSpec spec, double[] p, int v)
    {
        int n = spec.Hidden;
        var q = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            q[i, i] = 1;
        }

        for (int k = 0; k < spec.Reflections; k++)
        {
            var raw = p.Skip(spec.ReflectOffset + (v * spec.Reflections + k) * n).Take(n).ToArray();
            double norm = Math.Sqrt(raw.Sum(x => x * x)) + 1e-12;
            var u = raw.Select(x => x / norm).ToArray();
            double beta = 2 / (1 + Math.Exp(-p[spec.BetaOffset + v * spec.Reflections + k]));
            var next = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int m = 0; m < n; m++)
                    {
                        s += q[i, m] * ((m == j ? 1 : 0) - beta * u[m] * u[j]);
                    }

                    next[i, j] = s;
                }
            }

            q = next;
        }

        return q;
    }

    private static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        var m = (double[,])a.Clone();
        var x = (double[])b.Clone();
        for (int c = 0; c < n; c++)
        {
            int piv = Enumerable.Range(c, n - c).MaxBy(r => Math.Abs(m[r, c]));
            for (int j = 0; j < n; j++)
            {
                (m[c, j], m[piv, j]) = (m[piv, j], m[c, j]);
            }

            (x[c], x[piv]) = (x[piv], x[c]);
            for (int r = c + 1; r < n; r++)
            {
                double f = m[r, c] / m[c, c];
                for (int j = c; j < n; j++)
                {
                    m[r, j] -= f * m[c, j];
                }

                x[r] -= f * x[c];
            }
        }

        for (int c = n - 1; c >= 0; c--)
        {
            for (int j = c + 1; j < n; j++)
            {
                x[c] -= m[c, j] * x[j];
            }

            x[c] /= m[c, c];
        }

        return x;
    }
}
