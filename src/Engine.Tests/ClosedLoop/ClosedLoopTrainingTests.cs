using Engine.ClosedLoop;
using Engine.Model;
using Engine.Tasks.Control;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.ClosedLoop;

/// <summary>Ensemble training: fast path against the reference, thread-count independence, per-agent divergence, bad input.</summary>
public sealed class ClosedLoopTrainingTests
{
    private static readonly Plant Di = Plant.DoubleIntegrator();

    private static AgentSetup[] Agents(int e, int horizon = 20, double lr = 0.02)
        => Enumerable.Range(0, e).Select(i => new AgentSetup(100 + i, horizon + 3 * i, lr * (1 + 0.1 * i))).ToArray();

    [TestCase(ClosedLoopOptimizer.Sgd, false)]
    [TestCase(ClosedLoopOptimizer.Adam, false)]
    [TestCase(ClosedLoopOptimizer.Sgd, true)]
    public void CpuTraining_MatchesReference_ThreeAgentsOddN(ClosedLoopOptimizer optimizer, bool rankOne)
    {
        var opt = new ClosedLoopOptions { Hidden = 33, Optimizer = optimizer, Clip = 1, RankOne = rankOne, Train = rankOne ? TrainedWeights.Factors : TrainedWeights.W | TrainedWeights.Z };
        var task = ControlTask.Regulate(Di);
        var reference = new ClosedLoopEnsemble(Di, task, opt, Agents(3, lr: optimizer == ClosedLoopOptimizer.Adam ? 1e-3 : 0.02), TestBackends.Reference);
        var fast = new ClosedLoopEnsemble(Di, task, opt, Agents(3, lr: optimizer == ClosedLoopOptimizer.Adam ? 1e-3 : 0.02), TestBackends.CpuThreads(2));
        for (int s = 0; s < 15; s++)
        {
            var lr = reference.Step();
            var lf = fast.Step();
            for (int e = 0; e < 3; e++)
            {
                Assert.That(lf[e], Is.EqualTo(lr[e]).Within(1e-9 * Math.Abs(lr[e])), $"step {s} agent {e}");
            }
        }

        for (int e = 0; e < 3; e++)
        {
            for (int k = 0; k < reference.Parameters[e].Length; k++)
            {
                Assert.That(fast.Parameters[e][k], Is.EqualTo(reference.Parameters[e][k]).Within(1e-9), $"agent {e} parameter {k}");
            }
        }
    }

    [Test]
    public void CpuTraining_IsIndependentOfThreadCount_Bitwise()
    {
        var opt = new ClosedLoopOptions { Hidden = 40, Clip = 1, Activation = ActivationKind.Tanh };
        var task = ControlTask.Regulate(Di);
        var one = new ClosedLoopEnsemble(Di, task, opt, Agents(5), TestBackends.CpuThreads(1));
        var many = new ClosedLoopEnsemble(Di, task, opt, Agents(5), TestBackends.CpuThreads(4));
        for (int s = 0; s < 10; s++)
        {
            one.Step();
            many.Step();
        }

        for (int e = 0; e < 5; e++)
        {
            Assert.That(many.Parameters[e], Is.EqualTo(one.Parameters[e]), $"agent {e}");
        }
    }

    [Test]
    public void SameSeed_GivesSameAgent_WhateverTheEnsembleAroundIt()
    {
        var opt = new ClosedLoopOptions { Hidden = 20, Clip = 1 };
        var task = ControlTask.Regulate(Di);
        var a = Agents(4);
        var alone = new ClosedLoopEnsemble(Di, task, opt, [a[2]]);
        var group = new ClosedLoopEnsemble(Di, task, opt, a);
        for (int s = 0; s < 5; s++)
        {
            alone.Step();
            group.Step();
        }

        Assert.That(group.Parameters[2], Is.EqualTo(alone.Parameters[0]));
    }

    [Test]
    public void OverflowingHorizon_MarksOnlyThatAgentDiverged()
    {
        // an unstable initial loop over a long horizon overflows double precision; a short-horizon agent trains on
        var opt = new ClosedLoopOptions { Hidden = 30, InitGain = 3 };
        var task = ControlTask.Regulate(Di);
        var ens = new ClosedLoopEnsemble(Di, task, opt, [new AgentSetup(1, 20_000, 0.01), new AgentSetup(2, 10, 0.001)]);
        ens.Step();
        ens.Step();
        Assert.That(ens.Status[0], Is.EqualTo(AgentStatus.Diverged));
        Assert.That(ens.DivergedReason[0], Does.Contain("horizon T = 20000").And.Contain("overflowed"));
        Assert.That(ens.Status[1], Is.EqualTo(AgentStatus.Training));
        Assert.That(double.IsFinite(ens.LastLoss[1]), Is.True);
        Assert.That(ens.Parameters[0].All(double.IsFinite), Is.True, "a diverged agent keeps its last finite parameters");
    }

    [Test]
    public void NaNDuringTraining_MarksThatAgentDiverged_OthersGoOn()
    {
        var opt = new ClosedLoopOptions { Hidden = 16, Clip = 1 };
        var ens = new ClosedLoopEnsemble(Di, ControlTask.Regulate(Di), opt, Agents(3));
        ens.Step();
        ens.Parameters[1][5] = double.NaN;
        var before = (double[])ens.Parameters[2].Clone();
        ens.Step();
        Assert.That(ens.Status, Is.EqualTo(new[] { AgentStatus.Training, AgentStatus.Diverged, AgentStatus.Training }));
        Assert.That(ens.LastLoss[1], Is.NaN);
        Assert.That(ens.Parameters[2], Is.Not.EqualTo(before));
        ens.Step();
        Assert.That(ens.Status[1], Is.EqualTo(AgentStatus.Diverged));
    }

    [TestCase(0)]
    [TestCase(-3)]
    [TestCase(2_000_000)]
    public void BadHorizon_IsAClearError(int horizon)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ClosedLoopEnsemble(Di, ControlTask.Regulate(Di), new ClosedLoopOptions(), [new AgentSetup(0, horizon, 0.01)]));
        Assert.That(ex!.Message, Does.Contain("horizon T"));
    }

    [Test]
    public void HorizonTooLargeForMemory_IsAClearError()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ClosedLoopEnsemble(Di, ControlTask.Regulate(Di), new ClosedLoopOptions { Hidden = 1000 }, [new AgentSetup(0, 900_000, 0.01)]));
        Assert.That(ex!.Message, Does.Contain("MiB of trajectory buffers"));
    }

    [Test]
    public void TaskOfAnotherPlant_IsAClearError()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new ClosedLoopEnsemble(Plant.PointMass2D(), ControlTask.Regulate(Di), new ClosedLoopOptions(), [new AgentSetup(0, 10, 0.01)]));
        Assert.That(ex!.Message, Does.Contain("state dimension 2").And.Contain("n = 4"));
    }

    [Test]
    public void RankOneWithWTrained_IsAClearError()
        => Assert.Throws<ArgumentException>(() => new ClosedLoopOptions { RankOne = true, Train = TrainedWeights.W }.Validate());
}
