using Engine.Backends;
using Engine.ClosedLoop;
using Engine.Tasks.Control;
using NUnit.Framework;

namespace Engine.Tests.ClosedLoop;

/// <summary>The closed-loop ensemble's update step against SGD and Adam written out here from their formulas, with global-norm
/// clipping over the trained weights only and the untrained block left alone, on the reference and the cpu path.</summary>
/// <remarks>The two paths share one update routine, so agreeing with each other says nothing about it; this test does.</remarks>
public sealed class ClosedLoopUpdateFormulaTests
{
    [TestCase("reference", ClosedLoopOptimizer.Sgd, 0.0)]
    [TestCase("reference", ClosedLoopOptimizer.Sgd, 0.05)]
    [TestCase("reference", ClosedLoopOptimizer.Adam, 0.0)]
    [TestCase("cpu", ClosedLoopOptimizer.Adam, 0.05)]
    [TestCase("cpu", ClosedLoopOptimizer.Sgd, 0.05)]
    public void Step_FollowsTheFormula_WithClippingOverTrainedWeights(string backendName, ClosedLoopOptimizer optimizer, double clip)
    {
        var plant = Plant.DoubleIntegrator();
        var options = new ClosedLoopOptions { Hidden = 6, Optimizer = optimizer, Clip = clip, Train = TrainedWeights.W | TrainedWeights.Z };
        // Unclipped SGD needs a small rate: the regulation loss's first gradients are large.
        double[] lrs = optimizer == ClosedLoopOptimizer.Adam ? [3e-3, 1e-2] : clip > 0 ? [2e-3, 5e-3] : [1e-6, 3e-6];
        var agents = new[] { new AgentSetup(5, 12, lrs[0]), new AgentSetup(6, 12, lrs[1]) };
        using var backend = BackendFactory.Create(backendName, 1);
        using var ensemble = new ClosedLoopEnsemble(plant, ControlTask.Regulate(plant), options, agents, backend);
        var layout = ensemble.Layout;
        var trained = new bool[layout.Length];
        for (int k = 0; k < layout.Hidden * layout.Hidden; k++)
        {
            trained[layout.WOffset + k] = true;
        }

        for (int k = 0; k < layout.Hidden * layout.Controls; k++)
        {
            trained[layout.ZOffset + k] = true;
        }

        var m = agents.Select(_ => new double[layout.Length]).ToArray();
        var v = agents.Select(_ => new double[layout.Length]).ToArray();
        bool clipped = false;
        for (int t = 1; t <= 6; t++)
        {
            var expected = new double[agents.Length][];
            for (int e = 0; e < agents.Length; e++)
            {
                var g = new double[layout.Length];
                ensemble.LossAndGradient(e, g);
                double norm = Math.Sqrt(Enumerable.Range(0, g.Length).Where(k => trained[k]).Sum(k => g[k] * g[k]));
                double s = clip > 0 && norm > clip ? clip / norm : 1;
                clipped |= s < 1;
                var p = (double[])ensemble.Parameters[e].Clone();
                for (int k = 0; k < p.Length; k++)
                {
                    if (!trained[k])
                    {
                        continue;
                    }

                    double gk = s * g[k];
                    if (optimizer == ClosedLoopOptimizer.Sgd)
                    {
                        p[k] -= lrs[e] * gk;
                    }
                    else
                    {
                        m[e][k] = 0.9 * m[e][k] + 0.1 * gk;
                        v[e][k] = 0.999 * v[e][k] + 0.001 * gk * gk;
                        p[k] -= lrs[e] * (m[e][k] / (1 - Math.Pow(0.9, t))) / (Math.Sqrt(v[e][k] / (1 - Math.Pow(0.999, t))) + 1e-8);
                    }
                }

                expected[e] = p;
            }

            ensemble.Step();
            for (int e = 0; e < agents.Length; e++)
            {
                for (int k = 0; k < layout.Length; k++)
                {
                    Assert.That(ensemble.Parameters[e][k], Is.EqualTo(expected[e][k]).Within(1e-12 + 1e-10 * Math.Abs(expected[e][k])), $"step {t} agent {e} parameter {k}");
                }
            }
        }

        Assert.That(clipped, Is.EqualTo(clip > 0), "clipping must be exercised exactly when a clip is set");
    }
}
