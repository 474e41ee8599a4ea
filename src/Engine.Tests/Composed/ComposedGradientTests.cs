using Engine.Composed;
using Engine.Tasks.Cognitive;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Composed;

/// <summary>The composed and plain RNN's BPTT gradient against float64 central differences, and the float32 path against float64.</summary>
public sealed class ComposedGradientTests
{
    private static (ComposedSpec Spec, ComposedBatch Batch, double[] P) Problem(CellKind cell, bool softContext)
    {
        var task = new CognitiveTask("delaygo", new CognitiveOptions { Dt = 100, Tau = 200, Ring = 4, TimeScale = 0.4 });
        var spec = new ComposedSpec { Cell = cell, Hidden = 7, Inputs = task.Inputs, Outputs = task.Outputs, Components = 3, Rank = 2, Alpha = 0.5, NoiseStd = 0.05 }.Validate();
        var trials = task.Draw(new Rng(3), 2);
        int k = spec.ContextCount;
        var context = new float[trials.Trials * trials.Steps * k];
        var rng = new Rng(5);
        for (int i = 0; i < trials.Trials * trials.Steps && k > 0; i++)
        {
            if (softContext)
            {
                // A soft context with one component switched off at some steps (exact zeros are skipped).
                for (int c = 0; c < k; c++)
                {
                    context[i * k + c] = c == 2 && i % 3 == 0 ? 0f : (float)rng.Uniform(0.1, 1);
                }
            }
            else
            {
                context[i * k + trials.Roles[i] % k] = 1f;
            }
        }

        var noise = new float[trials.Trials * trials.Steps * spec.Hidden];
        rng.FillGaussian(noise);
        var p32 = ContinualLearner.Initialize(spec, new Rng(7));
        // Shift biases so that some units sit near the ReLU kink only by chance, not systematically.
        var p = p32.Select(v => (double)v).ToArray();
        for (int i = 0; i < spec.Hidden; i++)
        {
            p[spec.BiasOffset + i] = 0.3;
        }

        return (spec, new ComposedBatch(trials.Trials, trials.Steps, trials.Inputs, trials.Targets, trials.Mask, context, noise), p);
    }

    [TestCase(CellKind.Composed, false)]
    [TestCase(CellKind.Composed, true)]
    [TestCase(CellKind.Plain, false)]
    public void Gradient_MatchesCentralDifferences_Float64(CellKind cell, bool soft)
    {
        var (spec, batch, p) = Problem(cell, soft);
        var ws = new ComposedWorkspace<double>();
        var grad = new double[p.Length];
        ComposedRnn.Gradient<double>(spec, p, batch, ws, grad);
        double Loss(double[] q)
        {
            ComposedRnn.Forward<double>(spec, q, batch, ws);
            return ComposedRnn.Loss(spec, batch, ws);
        }

        const double h = 1e-6;
        double worst = 0;
        int checkedCount = 0;
        for (int i = 0; i < p.Length; i += Math.Max(1, p.Length / 150))
        {
            double keep = p[i];
            p[i] = keep + h;
            double up = Loss(p);
            p[i] = keep - h;
            double down = Loss(p);
            p[i] = keep;
            double fd = (up - down) / (2 * h);
            double err = Math.Abs(fd - grad[i]) / (Math.Abs(fd) + Math.Abs(grad[i]) + 1e-6);
            worst = Math.Max(worst, err);
            checkedCount++;
        }

        Assert.That(checkedCount, Is.GreaterThan(100));
        Assert.That(worst, Is.LessThan(1e-4), "worst relative error of the analytic gradient");
    }

    [TestCase(CellKind.Composed)]
    [TestCase(CellKind.Plain)]
    public void Float32_MatchesFloat64Reference(CellKind cell)
    {
        var (spec, batch, p) = Problem(cell, softContext: true);
        var g64 = new double[p.Length];
        var g32 = new float[p.Length];
        var ws64 = new ComposedWorkspace<double>();
        var ws32 = new ComposedWorkspace<float>();
        var p32 = p.Select(v => (float)v).ToArray();
        double l64 = ComposedRnn.Gradient<double>(spec, p32.Select(v => (double)v).ToArray(), batch, ws64, g64);
        double l32 = ComposedRnn.Gradient<float>(spec, p32, batch, ws32, g32);
        Assert.That(l32, Is.EqualTo(l64).Within(1e-5 * Math.Max(1, l64)));
        double scale = g64.Max(Math.Abs);
        for (int i = 0; i < p.Length; i++)
        {
            Assert.That(g32[i], Is.EqualTo(g64[i]).Within(1e-4 * scale + 1e-4 * Math.Abs(g64[i])), $"gradient element {i}");
        }

        for (int i = 0; i < batch.Trials * batch.Steps * spec.Outputs; i++)
        {
            Assert.That(ws32.Y[i], Is.EqualTo(ws64.Y[i]).Within(1e-4), $"output {i}");
        }
    }
}
