using System.Numerics;
using Engine.Backends.Reference;
using Engine.ClosedLoop;
using Engine.Model;
using Engine.Tasks.Control;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.ClosedLoop;

/// <summary>The theory with known answers: P propagates the joint state, the reduced model equals the full rank-one network, the published phenomenology.</summary>
public sealed class ClosedLoopTheoryTests
{
    private static readonly Plant Di = Plant.DoubleIntegrator();

    [Test]
    public void JointMatrix_PropagatesTheJointState_OfALinearRollout([Values("double-integrator", "point-mass")] string plantName, [Values(1.0, 0.3)] double leak)
    {
        var plant = Plant.Create(plantName);
        var task = ControlTask.Regulate(plant);
        var opt = new ClosedLoopOptions { Hidden = 9, InitGain = 0.7 };
        var layout = ParameterLayout.Agent(9, plant.Q, plant.P);
        var theta = AgentInit.Create(layout, opt, 4);
        const int T = 6;
        var (xs, ys, _) = AgentDynamics.Rollout(plant, task, ActivationKind.Identity, layout, theta, T, leak);
        var P = ClosedLoopTheory.JointMatrix(plant, layout, theta, leak);
        int n = plant.N, d = n + 9;
        // s_0 = (x_0, α m C x_0); iterate P and compare the plant part with the rollout
        var s = new double[d];
        Array.Copy(xs, 0, s, 0, n);
        for (int i = 0; i < 9; i++)
        {
            for (int k = 0; k < plant.Q; k++)
            {
                s[n + i] += leak * theta[layout.MOffset + i * plant.Q + k] * ys[k];
            }
        }

        for (int t = 1; t <= T; t++)
        {
            var next = new double[d];
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    next[i] += P[i * d + j] * s[j];
                }
            }

            s = next;
            for (int i = 0; i < n; i++)
            {
                Assert.That(s[i], Is.EqualTo(xs[t * n + i]).Within(1e-10), $"t={t} x[{i}]");
            }
        }
    }

    /// <summary>
    /// One step of the joint linear system written out from the model's definitions, on a plant whose C B ≠ 0 (so the agent
    /// block's α m C B zᵀ term matters): x' = A x + B zᵀ h, y' = C x', h' = (1 − α) h + α (W h + m y'). P s must equal (x', h')
    /// in every coordinate, the agent's as well as the plant's, from a random joint state.
    /// </summary>
    [TestCase(1.0)]
    [TestCase(0.3)]
    public void JointMatrix_EqualsTheHandWrittenJointStep_OnAPlantWithNonZeroCB(double leak)
    {
        const int nh = 6;
        var plant = new Plant("cb-plant", 2, 1, 1, [0.9, 0.2, -0.1, 0.8], [0.5, 1.0], [1.0, 0.3]);
        double cb = plant.C[0] * plant.B[0] + plant.C[1] * plant.B[1];
        Assert.That(Math.Abs(cb), Is.GreaterThan(0.5), "the plant has C B ≠ 0");
        var layout = ParameterLayout.Agent(nh, plant.Q, plant.P);
        var theta = AgentInit.Create(layout, new ClosedLoopOptions { Hidden = nh, InitGain = 0.7 }, 11);
        var rng = new Random(5);
        var x = new[] { rng.NextDouble() - 0.5, rng.NextDouble() - 0.5 };
        var h = Enumerable.Range(0, nh).Select(_ => rng.NextDouble() - 0.5).ToArray();

        double u = Enumerable.Range(0, nh).Sum(i => theta[layout.ZOffset + i] * h[i]);
        var x1 = new double[2];
        for (int i = 0; i < 2; i++)
        {
            x1[i] = plant.A[i * 2] * x[0] + plant.A[i * 2 + 1] * x[1] + plant.B[i] * u;
        }

        double y1 = plant.C[0] * x1[0] + plant.C[1] * x1[1];
        var h1 = new double[nh];
        for (int i = 0; i < nh; i++)
        {
            double wh = Enumerable.Range(0, nh).Sum(j => theta[layout.WOffset + i * nh + j] * h[j]);
            h1[i] = (1 - leak) * h[i] + leak * (wh + theta[layout.MOffset + i] * y1);
        }

        var P = ClosedLoopTheory.JointMatrix(plant, layout, theta, leak);
        int d = 2 + nh;
        var s = x.Concat(h).ToArray();
        var expected = x1.Concat(h1).ToArray();
        for (int i = 0; i < d; i++)
        {
            double ps = Enumerable.Range(0, d).Sum(j => P[i * d + j] * s[j]);
            Assert.That(ps, Is.EqualTo(expected[i]).Within(1e-12), i < 2 ? $"plant coordinate {i}" : $"agent coordinate {i - 2}");
        }
    }

    [Test]
    public void ReducedRankOneModel_MatchesFullN100RankOneNetwork_LossAndSpectrum()
    {
        // Tolerance: loss curves agree to 1e-6 relative (the unstable early loop amplifies rounding by ρ^T) over 300 SGD steps; the leading n+2 = 4 eigenvalues of the
        // full 102×102 P agree with the reduced 4×4 P̃ to 1e-7 (both are exact descriptions; the gap is rounding).
        const int T = 50, steps = 300;
        const double lr = 0.02, clip = 1;
        var task = ControlTask.Regulate(Di);
        var opt = new ClosedLoopOptions { Hidden = 100, RankOne = true, Train = TrainedWeights.Factors, InitGain = 0.2, Clip = clip };
        var full = new ClosedLoopEnsemble(Di, task, opt, [new AgentSetup(3, T, lr)]);
        var reduced = RankOneReducedModel.FromAgent(Di, task, full.Layout, full.Parameters[0]);
        double first = double.NaN, last = double.NaN;
        for (int s = 0; s < steps; s++)
        {
            if (s % 60 == 0)
            {
                var ef = ClosedLoopTheory.JointEigenvalues(Di, full.Layout, full.Parameters[0]);
                var er = reduced.Eigenvalues();
                AssertSameSpectrum(ef.Take(4).ToArray(), er, 1e-7, $"step {s}");
                var o = ClosedLoopTheory.RankOneOverlaps(full.Layout, full.Parameters[0]);
                var or = reduced.Overlaps;
                Assert.That(new[] { or.Zm, or.Zu, or.Vm, or.Vu }, Is.EqualTo(new[] { o.Zm, o.Zu, o.Vm, o.Vu }).Within(1e-9), $"overlaps at step {s}");
                Assert.That(ef.Skip(4).Max(c => c.Magnitude), Is.LessThan(1e-6), "the rest of P's spectrum is zero");
            }

            double lf = full.Step()[0];
            double lrd = reduced.Step(T, lr, clip);
            Assert.That(lrd, Is.EqualTo(lf).Within(1e-6 * Math.Abs(lf)), $"loss at step {s}");
            if (s == 0)
            {
                first = lf;
            }

            last = lf;
        }

        Assert.That(last, Is.LessThan(0.5 * first), "the comparison covers real learning, not a frozen network");
    }

    [Test]
    public void DoubleIntegrator_ClosedLoop_RhoAboveOneEarly_ThenInsideUnitCircle_OpenLoopDiffers()
    {
        const int T = 50, steps = 400;
        var task = ControlTask.Regulate(Di);
        var opt = new ClosedLoopOptions { Hidden = 100, Clip = 1, InitGain = 0.3 };
        var agent = new AgentSetup(1, T, 0.02);
        var closed = new ClosedLoopEnsemble(Di, task, opt, [agent]);
        var init = (double[])closed.Parameters[0].Clone();
        var rec = ClosedLoopRecorder.Train(closed, steps, 20);
        var rho = rec.Select(r => r.Rho).ToArray();
        Assert.That(rho[0], Is.GreaterThan(1), "stage 1: the initial closed loop is unstable");
        Assert.That(rho[^1], Is.LessThan(1), "the leading eigenvalue has entered the unit circle");
        Assert.That(rec[^1].Loss, Is.LessThan(0.02 * rec[0].Loss));
        var stages = StageDetector.Detect(rec);
        Assert.That(stages.UnstableFrom, Is.EqualTo(0));
        Assert.That(stages.EnterUnitCircle, Is.GreaterThan(0));
        Assert.That(rec[^1].K1, Is.GreaterThan(0), "negative position feedback");
        Assert.That(rec[^1].K2, Is.GreaterThan(0), "velocity damping");

        var open = new ClosedLoopEnsemble(Di, task, opt, [agent]);
        init.CopyTo(open.Parameters[0], 0);
        open.UseOpenLoop(closed.Parameters, OpenLoopInputs.TeacherDriven);
        var orec = ClosedLoopRecorder.Train(open, steps, 20);
        Assert.That(orec[^1].Loss, Is.LessThan(orec[0].Loss), "the student learns to imitate");
        double gap = rec.Zip(orec, (c, o) => Math.Abs(c.Rho - o.Rho)).Max();
        double gainGap = rec.Zip(orec, (c, o) => Math.Abs(c.K2 - o.K2)).Max();
        Assert.That(gap, Is.GreaterThan(0.05), "open- and closed-loop spectra follow different trajectories");
        Assert.That(gainGap, Is.GreaterThan(0.05), "and different feedback gains");
    }

    [Test]
    public void GradientConflictAngle_IsAnAngle()
    {
        var ens = new ClosedLoopEnsemble(Di, ControlTask.Regulate(Di), new ClosedLoopOptions { Hidden = 20 }, [new AgentSetup(1, 30, 0.01)]);
        double a = ClosedLoopTheory.GradientConflictAngle(ens, 0, 5, 30);
        Assert.That(a, Is.InRange(0.0, 180.0));
        Assert.That(ClosedLoopTheory.GradientConflictAngle(ens, 0, 30, 30), Is.EqualTo(0).Within(1e-5));
    }

    /// <summary>The angle equals arccos of the cosine between the two horizons' gradients worked out here over the trained blocks
    /// only (W and z; m, u and v excluded), in degrees; null arguments are named errors.</summary>
    [Test]
    public void GradientConflictAngle_IsTheAngleBetweenTheTrainedBlocksGradients()
    {
        var opt = new ClosedLoopOptions { Hidden = 12, Train = TrainedWeights.W | TrainedWeights.Z };
        var ens = new ClosedLoopEnsemble(Di, ControlTask.Regulate(Di), opt, [new AgentSetup(3, 30, 0.01)], TestBackends.Reference);
        var layout = ens.Layout;
        var gs = new double[layout.Length];
        var gl = new double[layout.Length];
        ens.LossAndGradient(0, gs, 4);
        ens.LossAndGradient(0, gl, 30);
        var trained = Enumerable.Range(layout.WOffset, layout.Hidden * layout.Hidden)
            .Concat(Enumerable.Range(layout.ZOffset, layout.Hidden * layout.Controls)).ToArray();
        double dot = trained.Sum(k => gs[k] * gl[k]);
        double norms = Math.Sqrt(trained.Sum(k => gs[k] * gs[k]) * trained.Sum(k => gl[k] * gl[k]));
        double expected = Math.Acos(dot / norms) * 180 / Math.PI;
        Assert.That(ClosedLoopTheory.GradientConflictAngle(ens, 0, 4, 30), Is.EqualTo(expected).Within(1e-9));
        Assert.That(expected, Is.InRange(1.0, 179.0), "a non-trivial angle");
        double everything = Math.Acos(Enumerable.Range(0, gs.Length).Sum(k => gs[k] * gl[k])
            / Math.Sqrt(gs.Sum(x => x * x) * gl.Sum(x => x * x))) * 180 / Math.PI;
        Assert.That(Math.Abs(everything - expected), Is.GreaterThan(1e-6), "the untrained blocks would change the angle");
        Assert.That(() => ClosedLoopTheory.GradientConflictAngle(null!, 0, 4, 30), Throws.ArgumentNullException);
        Assert.That(() => ClosedLoopTheory.RankOneOverlaps(new ParameterLayout(8, 2, 1, false), new double[layout.Length]), Throws.ArgumentException.With.Message.Contains("agent's layout"));
    }

    /// <summary>Controls made exactly as u = −k1 x₁ − k2 x₂ (channel 0 of two, states of width 2) give back (k1, k2); a
    /// one-dimensional state gives (−Σ x u / Σ x², 0); collinear states leave the fit undetermined (NaN).</summary>
    [Test]
    public void LeastSquaresGains_RecoverTheGainsOfALinearLaw()
    {
        const int trials = 2, horizon = 5;
        double k1 = 0.7, k2 = -1.3;
        var rng = new Random(8);
        var xs = Enumerable.Range(0, trials * (horizon + 1) * 2).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var us = new double[trials * horizon * 2];
        for (int b = 0; b < trials; b++)
        {
            for (int t = 0; t < horizon; t++)
            {
                int x = (b * (horizon + 1) + t) * 2;
                us[(b * horizon + t) * 2] = -k1 * xs[x] - k2 * xs[x + 1];
                us[(b * horizon + t) * 2 + 1] = 100;
            }
        }

        var (g1, g2) = ClosedLoopTheory.LeastSquaresGains(xs, us, 2, 2, trials, horizon);
        Assert.That(g1, Is.EqualTo(k1).Within(1e-12));
        Assert.That(g2, Is.EqualTo(k2).Within(1e-12));

        double[] x1 = [1, 2, 3, 99], u1 = [-2, -4.5, -5.5];
        Assert.That(ClosedLoopTheory.LeastSquaresGains(x1, u1, 1, 1, 1, 3), Is.EqualTo((-(-2 - 9 - 16.5) / 14.0, 0.0)));
        var collinear = Enumerable.Range(0, 4 * 2).Select(i => (double)(i / 2 + 1)).ToArray();
        var (n1, n2) = ClosedLoopTheory.LeastSquaresGains(collinear, [1, 2, 3], 2, 1, 1, 3);
        Assert.That(n1, Is.NaN);
        Assert.That(n2, Is.NaN);
    }

    /// <summary>Without a complex pair |λ₃| is the third largest modulus (NaN with fewer than three); with one, the largest
    /// modulus once the pair is set aside.</summary>
    [Test]
    public void ThirdEigenvalue_SetsTheLeadingComplexPairAside()
    {
        Assert.That(ClosedLoopTheory.ThirdEigenvalue([new Complex(0.9, 0), new Complex(-0.8, 0), new Complex(0.7, 0)]), Is.EqualTo(0.7).Within(1e-15));
        Assert.That(ClosedLoopTheory.ThirdEigenvalue([new Complex(0.9, 0), new Complex(0.8, 0)]), Is.NaN);
        Assert.That(ClosedLoopTheory.ThirdEigenvalue([new Complex(0.95, 0), new Complex(0.5, 0.6), new Complex(0.5, -0.6), new Complex(0.3, 0)]), Is.EqualTo(0.95).Within(1e-15));
        Assert.That(ClosedLoopTheory.ThirdEigenvalue([new Complex(0.5, 0.6), new Complex(0.5, -0.6), new Complex(0.4, 0), new Complex(0.3, 0)]), Is.EqualTo(0.4).Within(1e-15));
    }

    /// <summary>
    /// When the eigensolver does not converge, the retries hand it reflected similar matrices H M H (so a new matrix
    /// with the same spectrum), and after four failures the spectrum is NaN rather than an exception.
    /// </summary>
    [Test]
    public void Eigenvalues_RetryOnReflectedSimilarMatrices_WhenTheSolverFails([Values(1, 2, 3, 4)] int failures)
    {
        // upper triangular: the spectrum is the diagonal
        double[] diagonal = [0.9, -0.5, 0.3, 0.1];
        var rng = new Random(5);
        var m = new double[16];
        for (int i = 0; i < 4; i++)
        {
            m[i * 4 + i] = diagonal[i];
            for (int j = i + 1; j < 4; j++)
            {
                m[i * 4 + j] = rng.NextDouble() - 0.5;
            }
        }

        var seen = new List<MathNet.Numerics.LinearAlgebra.Matrix<double>>();
        var ev = ClosedLoopTheory.Eigenvalues(m, 4, a =>
        {
            seen.Add(a.Clone());
            return seen.Count <= failures
                ? throw new MathNet.Numerics.NonConvergenceException("scripted failure")
                : a.Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Asymmetric).EigenValues.ToArray();
        });
        Assert.That(seen, Has.Count.EqualTo(Math.Min(failures + 1, 4)));
        for (int k = 1; k < seen.Count; k++)
        {
            Assert.That((seen[k] - seen[k - 1]).FrobeniusNorm(), Is.GreaterThan(1e-3), $"attempt {k} is handed a new matrix");
            Assert.That(seen[k].FrobeniusNorm(), Is.EqualTo(seen[0].FrobeniusNorm()).Within(1e-12), $"attempt {k}: an orthogonal similarity keeps the Frobenius norm");
        }

        if (failures >= 4)
        {
            Assert.That(ev.Select(c => c.Real), Is.All.NaN);
            return;
        }

        Assert.That(ev.Select(c => c.Real), Is.EqualTo(new[] { 0.9, -0.5, 0.3, 0.1 }).Within(1e-12));
        Assert.That(ev.Select(c => c.Imaginary), Is.All.EqualTo(0).Within(1e-12));
    }

    [Test]
    public void Analyses_NullArguments_AreArgumentErrors()
    {
        Assert.That(() => ClosedLoopTheory.RankOneOverlaps(new ParameterLayout(2, 1, 1, false), new double[4]), Throws.ArgumentException.With.Message.Contains("agent's layout"), "a network's layout where an agent's is expected");
        Assert.Throws<ArgumentNullException>(() => ClosedLoopTheory.RankOneOverlaps(ParameterLayout.Agent(8, 2, 1), null!));
        Assert.Throws<ArgumentNullException>(() => ClosedLoopTheory.GradientConflictAngle(null!, 0, 1, 2));
    }

    [Test]
    public void StageDetector_FindsTheBoundaries_OfASyntheticRecord()
    {
        int k = 100;
        var loss = Enumerable.Range(0, k).Select(i => i < 20 ? 10 * Math.Exp(-0.2 * i) : 10 * Math.Exp(-4) * (1 - 0.0001 * (i - 20))).ToArray();
        var rho = Enumerable.Range(0, k).Select(i => i < 50 ? 1.05 : 0.9).ToArray();
        var l3 = Enumerable.Range(0, k).Select(i => i < 60 ? 0.1 : 0.8).ToArray();
        var s = StageDetector.Detect(loss, rho, l3);
        Assert.That(s.UnstableFrom, Is.EqualTo(0));
        Assert.That(s.EnterUnitCircle, Is.EqualTo(50));
        Assert.That(s.PlateauStart, Is.InRange(19, 25));
        Assert.That(s.ThirdEigenvalueGrowth, Is.EqualTo(60));
    }

    [Test]
    public void FrequencyAcquisition_OrdersByHalfwayStep()
    {
        var slow = Enumerable.Range(0, 10).Select(i => i < 7 ? 1.0 : 0.1).ToArray();
        var fast = Enumerable.Range(0, 10).Select(i => i < 3 ? 1.0 : 0.1).ToArray();
        var flat = Enumerable.Repeat(1.0, 10).ToArray();
        var (steps, order) = FrequencyAcquisition.Analyze([slow, fast, flat]);
        Assert.That(steps, Is.EqualTo(new[] { 7, 3, -1 }));
        Assert.That(order, Is.EqualTo(new[] { 1, 0 }));
    }

    [Test]
    public void TrackingTask_IsLinearInTheReference_PerFrequencyTasksShareThePhases()
    {
        var plant = Plant.Integrator(1);
        var tt = new TrackingTask(plant, [0.1, 0.5], trials: 3, seed: 2);
        const int T = 20;
        var all = new double[3 * (T + 1)];
        var a = new double[all.Length];
        var b = new double[all.Length];
        tt.FillTargets(T, all);
        tt.Only(0).FillTargets(T, a);
        tt.Only(1).FillTargets(T, b);
        for (int i = 0; i < all.Length; i++)
        {
            Assert.That(all[i], Is.EqualTo(a[i] + b[i]).Within(1e-12));
        }

        // a trained-from-scratch agent's loss falls on this task
        var ens = new ClosedLoopEnsemble(plant, tt, new ClosedLoopOptions { Hidden = 30, Clip = 1 }, [new AgentSetup(0, T, 0.05)]);
        double l0 = ens.Step()[0];
        for (int s = 0; s < 50; s++)
        {
            ens.Step();
        }

        Assert.That(ens.LastLoss[0], Is.LessThan(l0));
    }

    private static void AssertSameSpectrum(Complex[] a, Complex[] b, double tol, string what)
    {
        Assert.That(b.Length, Is.EqualTo(a.Length), what);
        var left = b.ToList();
        foreach (var x in a)
        {
            var best = left.OrderBy(y => (y - x).Magnitude).First();
            Assert.That((best - x).Magnitude, Is.LessThan(tol * Math.Max(1, x.Magnitude)), $"{what}: eigenvalue {x} vs {best}");
            left.Remove(best);
        }
    }

    [Test]
    public void RankOneOverlaps_UseTheFirstColumnOfM_WhenTheAgentAlsoSeesTheReference()
    {
        var layout = ParameterLayout.Agent(8, 2, 1);
        var theta = AgentInit.Create(layout, new ClosedLoopOptions { Hidden = 8, RankOne = true, Train = TrainedWeights.Factors }, 3);
        var o = ClosedLoopTheory.RankOneOverlaps(layout, theta);
        double mm = 0, zm = 0;
        for (int i = 0; i < 8; i++)
        {
            double mi = theta[layout.MOffset + i * 2];
            mm += mi * mi / 8;
            zm += theta[layout.ZOffset + i] * mi / 8;
        }

        Assert.That(o.Mm, Is.EqualTo(mm).Within(1e-15));
        Assert.That(o.Zm, Is.EqualTo(zm).Within(1e-15));
    }
}
