using Engine.Backends.Cpu;
using Engine.Backends.Reference;
using Engine.ClosedLoop;
using Engine.Model;
using Engine.Tasks.Control;
using NUnit.Framework;

namespace Engine.Tests.ClosedLoop;

/// <summary>Gradients through the plant: the float64 oracle against central finite differences, then the fast path against the oracle.</summary>
public sealed class ClosedLoopGradientTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var plant in new[] { "double-integrator", "point-mass", "integrator" })
        {
            foreach (var act in new[] { ActivationKind.Identity, ActivationKind.Tanh })
            {
                foreach (bool rankOne in new[] { false, true })
                {
                    yield return new TestCaseData(plant, act, rankOne).SetArgDisplayNames(plant, act.ToString(), rankOne ? "rank1" : "full");
                }
            }
        }
    }

    private static (Plant Plant, ControlTask Task, ClosedLoopOptions Opt, ParameterLayout Layout, double[] Theta) Setup(string plantName, ActivationKind act, bool rankOne, int hidden)
    {
        var plant = Plant.Create(plantName, 3);
        var task = ControlTask.Regulate(plant);
        var opt = new ClosedLoopOptions { Hidden = hidden, Activation = act, RankOne = rankOne, Train = rankOne ? TrainedWeights.Factors : TrainedWeights.W, InitGain = 0.8, Beta = 0.1 };
        var layout = ParameterLayout.Agent(hidden, plant.Q, plant.P);
        var theta = AgentInit.Create(layout, opt, 11);
        return (plant, task, opt, layout, theta);
    }

    [TestCaseSource(nameof(Cases))]
    public void ClosedLoopGradient_MatchesCentralFiniteDifferences_Float64(string plantName, ActivationKind act, bool rankOne)
    {
        const int T = 6;
        var (plant, task, opt, layout, theta) = Setup(plantName, act, rankOne, 7);
        var grad = new double[layout.Length];
        ClosedLoopReference.ClosedLoopLoss(plant, task, act, opt.Beta, layout, theta, T, grad, rankOne);
        // with W = u vᵀ the W slot is derived; check m, z, u, v there and W, m, z otherwise
        int from = rankOne ? layout.MOffset : 0, to = rankOne ? layout.Length : layout.UOffset;
        for (int k = from; k < to; k++)
        {
            double fd = CentralDifference(theta, k, layout, rankOne,
                () => ClosedLoopReference.ClosedLoopLoss(plant, task, act, opt.Beta, layout, theta, T, null, rankOne));
            double err = Math.Abs(fd - grad[k]) / Math.Max(1e-3, Math.Abs(fd) + Math.Abs(grad[k]));
            Assert.That(err, Is.LessThan(1e-6), $"parameter {k}: analytic {grad[k]:R} vs finite difference {fd:R}");
        }
    }

    [Test]
    public void OpenLoopGradient_MatchesCentralFiniteDifferences_Float64([Values] ActivationKind act)
    {
        const int T = 5, trials = 3;
        var (_, _, _, layout, theta) = Setup("point-mass", act, false, 6);
        var rng = new Engine.Util.Rng(5);
        var ys = Enumerable.Range(0, trials * (T + 1) * layout.Observations).Select(_ => rng.NextGaussian()).ToArray();
        var us = Enumerable.Range(0, trials * T * layout.Controls).Select(_ => rng.NextGaussian()).ToArray();
        var grad = new double[layout.Length];
        ClosedLoopReference.OpenLoopLoss(act, layout, theta, trials, T, ys, us, grad);
        for (int k = 0; k < layout.UOffset; k++)
        {
            double fd = CentralDifference(theta, k, layout, false, () => ClosedLoopReference.OpenLoopLoss(act, layout, theta, trials, T, ys, us, null));
            double err = Math.Abs(fd - grad[k]) / Math.Max(1e-3, Math.Abs(fd) + Math.Abs(grad[k]));
            Assert.That(err, Is.LessThan(1e-6), $"parameter {k}: analytic {grad[k]:R} vs finite difference {fd:R}");
        }
    }

    [TestCase("double-integrator", 1)]
    [TestCase("double-integrator", 7)]
    [TestCase("point-mass", 33)]
    [TestCase("integrator", 100)]
    public void FastPath_MatchesReference_ClosedAndOpenLoop(string plantName, int hidden)
    {
        foreach (var act in new[] { ActivationKind.Identity, ActivationKind.Tanh })
        {
            foreach (bool rankOne in new[] { false, true })
            {
                const int T = 13;
                var (plant, task, opt, layout, theta) = Setup(plantName, act, rankOne, hidden);
                var g0 = new double[layout.Length];
                var g1 = Enumerable.Repeat(double.NaN, layout.Length).ToArray();   // poisoned
                double l0 = ClosedLoopReference.ClosedLoopLoss(plant, task, act, opt.Beta, layout, theta, T, g0, rankOne);
                var ws = new AgentWorkspace(plant, task, layout, act, opt.Beta, T);
                double l1 = ws.ClosedLoop(theta, g1, rankOne);
                AssertClose(l0, l1, g0, g1, $"closed {plantName} N={hidden} {act} rank1={rankOne}");

                var rng = new Engine.Util.Rng(9);
                var ys = Enumerable.Range(0, 4 * (T + 1) * layout.Observations).Select(_ => rng.NextGaussian()).ToArray();
                var us = Enumerable.Range(0, 4 * T * layout.Controls).Select(_ => rng.NextGaussian()).ToArray();
                l0 = ClosedLoopReference.OpenLoopLoss(act, layout, theta, 4, T, ys, us, g0, rankOne);
                Array.Fill(g1, double.NaN);
                l1 = ws.OpenLoop(theta, 4, ys, us, g1, rankOne);
                AssertClose(l0, l1, g0, g1, $"open {plantName} N={hidden} {act} rank1={rankOne}");
            }
        }
    }

    /// <summary>The leaky agent (α &lt; 1) on a tracking task that shows it the reference: oracle vs finite differences, fast path vs oracle.</summary>
    [Test]
    public void LeakyAgent_SeeingTheReference_GradientsMatchFiniteDifferences_AndTheFastPath(
        [Values("double-integrator", "point-mass")] string plantName, [Values] ActivationKind act)
    {
        const int T = 7, hidden = 6;
        const double leak = 0.3;
        var plant = plantName == "point-mass" ? Plant.PointMass2D(0.1) : Plant.Create(plantName);
        var channels = plant.Q == 2 ? new[] { 0, 1, 0 } : new[] { 0, 0, 0 };
        var task = new TrackingTask(plant, [0.2, 0.5, 0.9], trials: 3, amplitude: 1.3, seed: 2, channels: channels, rampSteps: 3, observeReference: true);
        var opt = new ClosedLoopOptions { Hidden = hidden, Activation = act, InitGain = 0.8, Beta = 0.1, Leak = leak, Train = TrainedWeights.W | TrainedWeights.M | TrainedWeights.Z };
        var layout = ParameterLayout.Agent(hidden, task.AgentInputs(plant), plant.P);
        Assert.That(layout.Observations, Is.EqualTo(2 * plant.Q));
        var theta = AgentInit.Create(layout, opt, 3);
        var grad = new double[layout.Length];
        double loss = ClosedLoopReference.ClosedLoopLoss(plant, task, act, opt.Beta, layout, theta, T, grad, leak: leak);
        for (int k = 0; k < layout.UOffset; k++)
        {
            double fd = CentralDifference(theta, k, layout, false,
                () => ClosedLoopReference.ClosedLoopLoss(plant, task, act, opt.Beta, layout, theta, T, null, leak: leak));
            double err = Math.Abs(fd - grad[k]) / Math.Max(1e-3, Math.Abs(fd) + Math.Abs(grad[k]));
            Assert.That(err, Is.LessThan(1e-6), $"closed loop, parameter {k}: analytic {grad[k]:R} vs finite difference {fd:R}");
        }

        var ws = new AgentWorkspace(plant, task, layout, act, opt.Beta, T, leak);
        var g1 = Enumerable.Repeat(double.NaN, layout.Length).ToArray();
        AssertClose(loss, ws.ClosedLoop(theta, g1, false), grad, g1, $"closed {plantName} {act} leak {leak}");

        var rng = new Engine.Util.Rng(7);
        var ys = Enumerable.Range(0, 2 * (T + 1) * layout.Observations).Select(_ => rng.NextGaussian()).ToArray();
        var us = Enumerable.Range(0, 2 * T * layout.Controls).Select(_ => rng.NextGaussian()).ToArray();
        loss = ClosedLoopReference.OpenLoopLoss(act, layout, theta, 2, T, ys, us, grad, leak: leak);
        for (int k = 0; k < layout.UOffset; k++)
        {
            double fd = CentralDifference(theta, k, layout, false, () => ClosedLoopReference.OpenLoopLoss(act, layout, theta, 2, T, ys, us, null, leak: leak));
            double err = Math.Abs(fd - grad[k]) / Math.Max(1e-3, Math.Abs(fd) + Math.Abs(grad[k]));
            Assert.That(err, Is.LessThan(1e-6), $"open loop, parameter {k}: analytic {grad[k]:R} vs finite difference {fd:R}");
        }

        Array.Fill(g1, double.NaN);
        AssertClose(loss, ws.OpenLoop(theta, 2, ys, us, g1, false), grad, g1, $"open {plantName} {act} leak {leak}");

        // the rollout's inputs are [C x; C x*]: the second block is the ramped reference
        var (_, yr, _) = AgentDynamics.Rollout(plant, task, act, layout, theta, T, leak);
        var targets = new double[task.Trials * (T + 1) * plant.N];
        task.FillTargets(T, targets);
        Assert.That(yr[plant.Q], Is.EqualTo(0), "reference at t = 0 under a ramp");
        Assert.That(yr[(T * layout.Observations) + plant.Q], Is.EqualTo(targets[T * plant.N]), "reference input at t = T");
    }

    private static void AssertClose(double l0, double l1, double[] g0, double[] g1, string what)
    {
        Assert.That(l1, Is.EqualTo(l0).Within(1e-11 * Math.Max(1, Math.Abs(l0))), $"{what}: loss");
        double scale = g0.Max(Math.Abs);
        for (int k = 0; k < g0.Length; k++)
        {
            Assert.That(Math.Abs(g1[k] - g0[k]), Is.LessThanOrEqualTo(1e-11 * Math.Max(1, scale) + 1e-10 * Math.Abs(g0[k])), $"{what}: gradient[{k}] {g1[k]:R} vs {g0[k]:R}");
        }
    }

    private static double CentralDifference(double[] theta, int k, ParameterLayout layout, bool rankOne, Func<double> loss)
    {
        const double h = 1e-5;
        double keep = theta[k];
        theta[k] = keep + h;
        if (rankOne)
        {
            layout.SyncRankOne(theta);
        }

        double lp = loss();
        theta[k] = keep - h;
        if (rankOne)
        {
            layout.SyncRankOne(theta);
        }

        double lm = loss();
        theta[k] = keep;
        if (rankOne)
        {
            layout.SyncRankOne(theta);
        }

        return (lp - lm) / (2 * h);
    }
}
