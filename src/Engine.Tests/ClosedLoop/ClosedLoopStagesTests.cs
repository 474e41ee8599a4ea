using System.Numerics;
using Engine.Backends.Reference;
using Engine.ClosedLoop;
using Engine.Model;
using Engine.Tasks.Control;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.ClosedLoop;

/// <summary>The published three-stage phenomenology on a real run of the <c>ger-barak</c> preset, and its building blocks.</summary>
public sealed class ClosedLoopStagesTests
{
    private static readonly Plant Di = Plant.DoubleIntegrator();

    [Test]
    public void GerBarakPreset_ClosedLoop_GoesThroughTheThreeStagesInOrder_OpenLoopTakesAnotherRoute()
    {
        // N = 100, T = 50, seed 1, 1100 steps (≈ 6 s). Measured on this run: ρ = 1 at the start, > 1.001 from step 10,
        // peak 1.015; plateau from step 20 to the entry at step 590 (conflict ≈ 161°, every consecutive update pair
        // anti-parallel); |λ₃| 0.03 at the entry, 0.83 at the end; loss 430 → 20 (stage 1) → 8.6 (plateau) → 0.25.
        var pr = ClosedLoopPreset.GerBarak;
        var task = ControlTask.Regulate(Di);
        var agent = new AgentSetup(1, pr.Horizon, pr.LearningRate);
        var closed = new ClosedLoopEnsemble(Di, task, pr.Options, [agent]);
        var init = (double[])closed.Parameters[0].Clone();
        var rec = ClosedLoopRecorder.Train(closed, 1100, pr.RecordEvery, pr.ConflictShortHorizon);
        var st = StageDetector.Detect(rec);
        var stats = StageDetector.Statistics(rec, st);
        int Step(int i) => rec[i].Step;

        // the instability is learned: the initial agent sends no feedback and P has the open plant's ρ = 1
        Assert.That(rec[0].Rho, Is.EqualTo(1).Within(1e-3), "initial ρ(P)");
        Assert.That(st.UnstableFrom, Is.GreaterThan(0), "stage 1 starts after step 0");
        Assert.That(Step(st.UnstableFrom), Is.LessThanOrEqualTo(50));
        Assert.That(stats.MaxRho, Is.GreaterThan(1.01), "the learned policy is clearly unstable");
        Assert.That(rec[st.UnstableFrom].K1, Is.GreaterThan(0), "stage 1 is negative position feedback (k1 > 0)");

        // stages in order, with the boundaries of this run
        Assert.That(st.PlateauStart, Is.GreaterThan(st.UnstableFrom), "plateau after stage 1");
        Assert.That(st.EnterUnitCircle, Is.GreaterThan(st.PlateauStart), "the plateau ends when ρ(P) enters the unit circle");
        Assert.That(st.ThirdEigenvalueGrowth, Is.GreaterThan(st.EnterUnitCircle), "|λ3| grows after the entry");
        Assert.That(Step(st.PlateauStart), Is.InRange(10, 60));
        Assert.That(Step(st.EnterUnitCircle), Is.InRange(400, 800));
        Assert.That(rec.Skip(st.UnstableFrom).Take(st.EnterUnitCircle - st.UnstableFrom).All(r => r.Rho > 1), Is.True, "ρ(P) > 1 throughout stages 1–2");

        // stage 1 is a fast fall, the plateau a slow one, refinement fast again
        double l0 = rec[0].Loss, lp = rec[st.PlateauStart].Loss, le = rec[st.EnterUnitCircle].Loss, lf = rec[^1].Loss;
        Assert.That(lp, Is.LessThan(0.1 * l0), "stage 1 removes most of the loss");
        Assert.That(le, Is.GreaterThan(0.3 * lp), "the plateau: the loss barely moves over hundreds of steps");
        Assert.That(lf, Is.LessThan(0.05 * le), "refinement: two orders of magnitude after the entry");

        // the plateau's signature: short- and long-horizon gradients conflict, the updates zig-zag
        Assert.That(stats.PlateauConflictDegrees, Is.GreaterThan(120));
        Assert.That(stats.RefinementConflictDegrees, Is.LessThan(60));
        Assert.That(stats.PlateauZigZag, Is.GreaterThan(0.9));

        // refinement: the third (memory) eigenvalue grows, the policy ends as a stabilising PD law
        Assert.That(stats.ThirdEigenvalueAtEntry, Is.LessThan(0.1));
        Assert.That(stats.ThirdEigenvalueFinal, Is.GreaterThan(0.7));
        Assert.That(rec[^1].K1, Is.GreaterThan(0));
        Assert.That(rec[^1].K2, Is.GreaterThan(0));

        // open loop: the same initial agent imitating the trained one reaches the same solution by another route —
        // its ρ(P) enters the unit circle early and |λ3| grows while the closed-loop agent is still on its plateau
        var open = new ClosedLoopEnsemble(Di, task, pr.Options, [agent with { LearningRate = pr.OpenLoopLearningRate }]);
        init.CopyTo(open.Parameters[0], 0);
        open.UseOpenLoop(closed.Parameters, OpenLoopInputs.TeacherDriven);
        var orec = ClosedLoopRecorder.Train(open, 400, pr.RecordEvery, 0);
        var ost = StageDetector.Detect(orec.Select(r => r.ControlLoss).ToArray(), orec.Select(r => r.Rho).ToArray(), orec.Select(r => r.ThirdEigenvalue).ToArray());
        Assert.That(orec[^1].ControlLoss, Is.EqualTo(rec[^1].Loss).Within(0.05 * rec[^1].Loss), "open loop converges to the teacher's solution");
        Assert.That(ost.EnterUnitCircle, Is.GreaterThan(0));
        Assert.That(orec[ost.EnterUnitCircle].Step, Is.LessThan(Step(st.EnterUnitCircle) / 2), "open loop is stable long before closed loop");
        int mid = (st.PlateauStart + st.EnterUnitCircle) / 2;
        var openAtMid = orec.Last(r => r.Step <= Math.Min(Step(mid), orec[^1].Step));
        Assert.That(openAtMid.ThirdEigenvalue, Is.GreaterThan(0.5), "open loop grows λ3 early");
        Assert.That(rec[mid].ThirdEigenvalue, Is.LessThan(0.1), "closed loop has not yet");
    }

    [Test]
    public void Tracking_FrequenciesAreAcquiredFromLowToHigh_OnARealRun()
    {
        // x ← x + u tracking 0.05, 0.2, 0.5 rad/step from the error; N = 50, T = 60, B = 8; W = 0, z ⊥ m (scale 0.1),
        // W and z trained by SGD, lr 3e-4, clip 1, 400 steps (≈ 2 s). Measured: half-way acquisition at steps 15, 35, 55;
        // per-frequency loss relative to its start at step 400 ≈ 0.002, 0.03, 0.2. (The total loss falls smoothly, not in steps.)
        var plant = Plant.Integrator(1);
        var tt = new TrackingTask(plant, [0.05, 0.2, 0.5], trials: 8, seed: 1);
        var opt = new ClosedLoopOptions { Hidden = 50, Train = TrainedWeights.W | TrainedWeights.Z, InitGain = 0, ZInitScale = 0.1, ZOrthogonalToM = true, Clip = 1 };
        const int T = 60, steps = 400, every = 5;
        var ens = new ClosedLoopEnsemble(plant, tt, opt, [new AgentSetup(1, T, 3e-4)]);
        var only = Enumerable.Range(0, 3).Select(tt.Only).ToArray();
        var curves = Enumerable.Range(0, 3).Select(_ => new double[steps / every + 1]).ToArray();
        for (int s = 0; s <= steps; s++)
        {
            if (s % every == 0)
            {
                for (int k = 0; k < 3; k++)
                {
                    curves[k][s / every] = ClosedLoopReference.ClosedLoopLoss(plant, only[k], opt.Activation, 0, ens.Layout, ens.Parameters[0], T, null);
                }
            }

            if (s < steps)
            {
                ens.Step();
            }
        }

        var (acquired, order) = FrequencyAcquisition.Analyze(curves);
        Assert.That(order, Is.EqualTo(new[] { 0, 1, 2 }), $"acquired at records {string.Join(", ", acquired)}");
        var relative = curves.Select(c => c[^1] / c[0]).ToArray();
        Assert.That(relative[0], Is.LessThan(0.1 * relative[1]), "the lowest frequency is learned far better than the middle one");
        Assert.That(relative[1], Is.LessThan(0.5 * relative[2]), "and the middle one better than the highest");
        int Tenth(double[] c) => Array.FindIndex(c, x => x < 0.1 * c[0]);
        Assert.That(Tenth(curves[0]), Is.GreaterThan(0).And.LessThan(Tenth(curves[1])), "90% of the low frequency's loss goes first");
    }

    [Test]
    public void Tracking_GerBarakPreset_LossFallsInSteps_FrequenciesLearnedLowToHigh()
    {
        // the published tracking setting (point mass, 0.1–0.4 Hz, agent sees position and reference, leak 0.1, Adam);
        // B = 8, η = 5e-4, clip 1 (see the preset). Seed 0, measured: plateaus near 8.2, 6.0, 3.7, 1.5 with falls
        // around 550, 1100, 2000; frequencies acquired in the order 0.1, 0.2, 0.3, 0.4 Hz. ≈ 35 s on one core.
        var pr = ClosedLoopPreset.GerBarakTracking;
        var plant = pr.CreatePlant();
        var tt = (TrackingTask)pr.CreateTask(plant);
        var ens = new ClosedLoopEnsemble(plant, tt, pr.Options, [new AgentSetup(0, pr.Horizon, pr.LearningRate)], TestBackends.CpuThreads(1));
        using var probe = new TrackingProbe(ens.Backend, plant, tt, pr.Options, pr.Horizon);
        const int every = 20;
        int steps = pr.Options.Steps;
        var recSteps = new List<int>();
        var total = new List<double>();
        var perFrequency = new List<double[]>();
        for (int s = 0; s <= steps; s++)
        {
            if (s % every == 0)
            {
                recSteps.Add(s);
                total.Add(ens.LossAndGradient(0, null));
                perFrequency.Add(probe.Losses(ens.Parameters[0]));
            }

            if (s < steps)
            {
                ens.Step();
            }
        }

        Assert.That(ens.Status[0], Is.EqualTo(AgentStatus.Training));
        var drops = LossSteps.Detect(recSteps, total);
        string seen = string.Join("; ", drops.Select(d => $"{d.StartStep}–{d.EndStep}: {d.LossBefore:G3} → {d.LossAfter:G3}"));
        Assert.That(drops.Count, Is.GreaterThanOrEqualTo(4), $"the initial fall and three steps; falls: {seen}");
        foreach (var d in drops.Skip(1))
        {
            Assert.That(d.Fraction, Is.GreaterThan(0.2), $"each step removes a sizeable part of the loss; falls: {seen}");
        }

        // plateaus: between consecutive steps the loss moves by less than 10%
        for (int i = 1; i + 1 < drops.Count; i++)
        {
            int a = recSteps.IndexOf(drops[i].EndStep), b = recSteps.IndexOf(drops[i + 1].StartStep);
            Assert.That(b - a, Is.GreaterThan(5), $"a plateau of more than 100 steps between falls {i} and {i + 1}; falls: {seen}");
            Assert.That(total[b] / total[a + 5], Is.GreaterThan(0.9), $"the loss is flat on plateau {i}; falls: {seen}");
        }

        Assert.That(total[^1], Is.LessThan(0.25 * total[recSteps.IndexOf(drops[1].StartStep)]), "the steps together cut the loss by 4×");
        var curves = Enumerable.Range(0, tt.Frequencies.Length).Select(k => perFrequency.Select(p => p[k]).ToArray()).ToArray();
        var (acquired, order) = FrequencyAcquisition.Analyze(curves);
        Assert.That(order, Is.EqualTo(new[] { 0, 1, 2, 3 }), $"low to high; acquired at records {string.Join(", ", acquired)}");
    }

    [Test]
    public void ZOrthogonalToM_WithZeroW_StartsAtTheOpenPlant()
    {
        var opt = ClosedLoopPreset.GerBarak.Options with { Hidden = 30 };
        var layout = ParameterLayout.Agent(30, 1, 1);
        var theta = AgentInit.Create(layout, opt, 5);
        double zm = 0, zz = 0;
        for (int i = 0; i < 30; i++)
        {
            zm += theta[layout.ZOffset + i] * theta[layout.MOffset + i];
            zz += theta[layout.ZOffset + i] * theta[layout.ZOffset + i];
        }

        Assert.That(zm, Is.EqualTo(0).Within(1e-15));
        Assert.That(Math.Sqrt(zz), Is.EqualTo(0.3 / Math.Sqrt(30)).Within(0.5 * 0.3 / Math.Sqrt(30)), "|z| ≈ s_z/√N");
        Assert.That(layout.W(theta).ToArray().All(w => w == 0), Is.True);
        var ev = ClosedLoopTheory.JointEigenvalues(Di, layout, theta);
        Assert.That(ev[0].Magnitude, Is.EqualTo(1).Within(1e-6));
        Assert.That(ev[2].Magnitude, Is.LessThan(1e-6));
    }

    [Test]
    public void ThirdEigenvalue_SkipsTheLeadingComplexPair()
    {
        var pair = new Complex(0.6, 0.3);
        Assert.That(ClosedLoopTheory.ThirdEigenvalue(ClosedLoopTheory.SortByModulus([pair, Complex.Conjugate(pair), 0.8, 0.1])), Is.EqualTo(0.8).Within(1e-12));
        Assert.That(ClosedLoopTheory.ThirdEigenvalue(ClosedLoopTheory.SortByModulus([new Complex(1, 0.03), new Complex(1, -0.03), -0.04, 0])), Is.EqualTo(0.04).Within(1e-12));
        Assert.That(ClosedLoopTheory.ThirdEigenvalue([1.0, 0.9, 0.5]), Is.EqualTo(0.5));
    }

    [Test]
    public void ZigZag_IsMeasured_AndIsAFraction()
    {
        var opt = ClosedLoopPreset.GerBarak.Options with { Hidden = 20 };
        var ens = new ClosedLoopEnsemble(Di, ControlTask.Regulate(Di), opt, [new AgentSetup(1, 20, 1e-3)]);
        var rec = ClosedLoopRecorder.Train(ens, 30, 10);
        Assert.That(rec[0].ZigZag, Is.NaN, "nothing to compare at the first record");
        Assert.That(rec.Skip(1).Select(r => r.ZigZag), Is.All.InRange(0.0, 1.0));
    }
}
