using Engine.Kernels;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

public sealed partial class TrainerRuleTests
{
    /// <summary>A fixed, uneven gradient [E][P]: entries of W ten times those of the other blocks, so leaving W in or out of a norm shows.</summary>
    private static float[] FixedGradient(int networks, int hidden)
    {
        var layout = Spec(networks, hidden).Layout;
        var g = new float[networks * layout.Stride];
        for (int k = 0; k < g.Length; k++)
        {
            int local = k % layout.Stride;
            g[k] = (float)((((k * 7) + 3) % 11 - 5) / (local < layout.WInOffset ? 5.0 : 50.0));
        }

        return g;
    }

    /// <summary>W = (1/N) M Nfᵀ, with M then Nf (each N×R, row-major) in <paramref name="f"/>.</summary>
    private static double[] Compose(ReadOnlySpan<double> f, int n, int rank)
    {
        var w = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int r = 0; r < rank; r++)
                {
                    s += f[i * rank + r] * f[n * rank + j * rank + r];
                }

                w[i * n + j] = s / n;
            }
        }

        return w;
    }

    /// <summary>The factors' gradient from dW: dM = (1/N) dW Nf, dNf = (1/N) dWᵀ M.</summary>
    private static double[] FactorGradient(ReadOnlySpan<double> f, ReadOnlySpan<float> dw, int n, int rank)
    {
        var d = new double[2 * n * rank];
        for (int i = 0; i < n; i++)
        {
            for (int r = 0; r < rank; r++)
            {
                for (int j = 0; j < n; j++)
                {
                    d[i * rank + r] += dw[i * n + j] * f[n * rank + j * rank + r] / n;
                    d[n * rank + i * rank + r] += dw[j * n + i] * f[j * rank + r] / n;
                }
            }
        }

        return d;
    }

    /// <summary>Adam step t on p with gradient g·scale: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), p ← p − lr m̂/(√v̂ + ε).</summary>
    private static void AdamStep(Span<double> p, Span<double> m, Span<double> v, ReadOnlySpan<double> g, double lr, int t, double scale)
    {
        double b1 = AdamMath.Beta1, b2 = AdamMath.Beta2;
        for (int k = 0; k < p.Length; k++)
        {
            double gs = g[k] * scale;
            m[k] = b1 * m[k] + (1 - b1) * gs;
            v[k] = b2 * v[k] + (1 - b2) * gs * gs;
            p[k] -= lr * (m[k] / (1 - Math.Pow(b1, t))) / (Math.Sqrt(v[k] / (1 - Math.Pow(b2, t))) + 1e-8);
        }
    }

    [Test]
    public void LowRank_FreezesW_MovesTheFactorsByAdam_ClipsOnTheirNorm_AndComposesWFromThem()
    {
        // Two networks of N = 3 at rank 1 for two epochs, clipped. Each epoch the runner must hold W = (1/N) M Nfᵀ of the
        // factors so far, take no step on W, and the factors move by Adam on the pullback of dW, with the clip norm taken
        // over the factors' gradient and every block but W. The script's own norm (10⁶) is ignored on this host path.
        const int n = 3, rank = 1, networks = 2;
        const double lr = 0.01, clip = 0.05;
        var spec = Spec(networks, n);
        var layout = spec.Layout;
        int stride = layout.Stride, blocks = layout.BlockCount, fs = 2 * n * rank, nn = n * n;
        var state = NewState(spec, new TrainingOptions { Rank = rank, LearningRate = lr, ClipNorm = clip, MaxEpochs = 2, Patience = 0 });
        var initial = (float[])state.Ensemble.Parameters.Clone();
        var gradient = FixedGradient(networks, n);
        var factors = Array.ConvertAll(state.Factors, f => (double)f);
        var m = new double[factors.Length];
        var v = new double[factors.Length];
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1e6f)) { Gradient = gradient };

        Trainer.Train(backend, Task, state);

        Assert.That(backend.ParametersSeen, Has.Count.EqualTo(2));
        for (int t = 1; t <= 2; t++)
        {
            var seen = backend.ParametersSeen[t - 1];
            for (int e = 0; e < networks; e++)
            {
                string at = $"network {e}, epoch {t}";
                var f = factors.AsSpan(e * fs, fs);
                Assert.That(seen.AsSpan(e * stride, nn).ToArray(), Is.EqualTo(Compose(f, n, rank)).Within(1e-6), $"W the runner computed with, {at}");
                if (t == 1)
                {
                    Assert.That(seen.AsSpan(e * stride + nn, stride - nn).ToArray(), Is.EqualTo(initial.AsSpan(e * stride + nn, stride - nn).ToArray()), $"other blocks, {at}");
                }

                var g = gradient.AsSpan(e * stride, stride);
                var df = FactorGradient(f, g[..nn], n, rank);
                double normSquared = df.Sum(x => x * x);
                for (int k = nn; k < stride; k++)
                {
                    normSquared += (double)g[k] * g[k];
                }

                double scale = Math.Min(1, clip / Math.Sqrt(normSquared));
                Assert.That(scale, Is.LessThan(1), "the setup clips");
                var step = backend.Steps[t - 1].AsSpan(e * blocks, blocks).ToArray();
                Assert.That(step[0].StepSize, Is.Zero, $"W frozen, {at}");
                double rate = lr / (1 - Math.Pow(AdamMath.Beta1, t));
                Assert.That(step.Skip(1).Select(c => (double)c.StepSize), Has.All.EqualTo(rate).Within(1e-6 * rate), $"other blocks at lr, {at}");
                Assert.That(step.Select(c => (double)c.GradScale), Has.All.EqualTo(scale).Within(1e-6 * scale), $"clip scale, {at}");
                AdamStep(f, m.AsSpan(e * fs, fs), v.AsSpan(e * fs, fs), df, lr, t, scale);
            }
        }

        Assert.That(state.Factors, Is.EqualTo(factors).Within(1e-5), "factors after two Adam steps");
        for (int e = 0; e < networks; e++)
        {
            Assert.That(layout.WRec(state.Ensemble.Parameters, e).ToArray(), Is.EqualTo(Compose(factors.AsSpan(e * fs, fs), n, rank)).Within(1e-5),
                $"the state's W of network {e} is composed from the final factors");
        }

        Assert.That(backend.GradientsSet, Is.Empty, "no weight regulariser, so the runner's gradient is left alone");
    }

    [Test]
    public void WeightRegularizer_WritesGradientPlusTwoLambdaW_BackToTheRunner_AndClipsOnThatNorm()
    {
        // ℓ2 on network 1 only: the runner must get back dW + 2λW for it (W at initialisation), the plain gradient for
        // network 0, and each network's clip norm is that of the gradient written back, over every block.
        const int n = 3, networks = 2;
        const double lambda = 0.25, clip = 0.05;
        var spec = Spec(networks, n);
        var layout = spec.Layout;
        int stride = layout.Stride, blocks = layout.BlockCount, nn = n * n;
        var lambdas = new[] { 0, lambda };
        var state = NewState(spec, new TrainingOptions { L2PerNetwork = lambdas, ClipNorm = clip, MaxEpochs = 1, Patience = 0 });
        var w0 = (float[])state.Ensemble.Parameters.Clone();
        var gradient = FixedGradient(networks, n);
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1e6f)) { Gradient = gradient };

        Trainer.Train(backend, Task, state);

        Assert.That(backend.GradientsSet, Has.Count.EqualTo(1));
        var written = backend.GradientsSet[0];
        for (int e = 0; e < networks; e++)
        {
            var expected = new double[stride];
            for (int k = 0; k < stride; k++)
            {
                int at = e * stride + k;
                expected[k] = gradient[at] + (k < nn ? 2 * lambdas[e] * w0[at] : 0);
            }

            Assert.That(written.AsSpan(e * stride, stride).ToArray(), Is.EqualTo(expected).Within(1e-6), $"gradient written back, network {e}");
            double scale = Math.Min(1, clip / Math.Sqrt(expected.Sum(x => x * x)));
            Assert.That(backend.Steps[0].AsSpan(e * blocks, blocks).ToArray().Select(c => (double)c.GradScale), Has.All.EqualTo(scale).Within(1e-6 * scale),
                $"clip scale, network {e}");
            Assert.That(backend.Steps[0][e * blocks].StepSize, Is.GreaterThan(0), "full rank: W trains");
        }
    }

    [TestCase(new[] { 0.0, 0.5 }, true)]
    [TestCase(new[] { 0.0, 0.0 }, false)]
    public void ActivityRegularization_ReachesTheRunner_OnlyWhenSomeStrengthIsPositive(double[] strengths, bool passed)
    {
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1f));
        Trainer.Train(backend, Task, NewState(Spec(2), new TrainingOptions { ActivityPerNetwork = strengths, MaxEpochs = 1 }));
        if (passed)
        {
            Assert.That(backend.ActivityStrengths, Is.EqualTo(strengths.Select(x => (float)x).ToArray()));
        }
        else
        {
            Assert.That(backend.ActivityStrengths, Is.Null, "all strengths 0: the runner is not asked to regularise");
        }
    }
}
