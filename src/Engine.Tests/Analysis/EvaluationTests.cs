using Engine.Analysis;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Analysis;

/// <summary>OOD evaluation and σ_OOD against values computed by hand from the task's own trials.</summary>
public sealed class EvaluationTests
{
    /// <summary>
    /// Networks whose weights are all zero output their readout bias d_e at every step, so each MSE is Σ m (d_e − target)² / Σ m
    /// over the trials the evaluation must use: the OOD variant, twice as long, drawn from seed + 1 (in-distribution: seed).
    /// σ_OOD is the population standard deviation (divide by n) over the converged networks only.
    /// </summary>
    [Test]
    public void Run_ScoresTheOodTrials_AndSigmaOodIsThePopulationStdOverConvergedNetworks()
    {
        var task = new FlipFlopTask(bits: 2);
        var spec = new EnsembleSpec { Networks = 4, Hidden = 5, Inputs = task.Inputs, Outputs = task.Outputs };
        var biases = new[] { 0.1f, 0.5f, -0.3f, 0.8f };
        var parameters = new float[spec.Networks * spec.Layout.Stride];
        for (int e = 0; e < spec.Networks; e++)
        {
            spec.Layout.BOut(parameters, e).Fill(biases[e]);
        }

        var state = new TrainingState(new Ensemble(spec, [0, 1, 2, 3], parameters), task.Name, task.Settings, new TrainingOptions { Steps = 15 });
        for (int e = 0; e < 3; e++)
        {
            state.Networks[e] = state.Networks[e] with { Status = NetworkStatus.Converged };
        }

        state.Networks[3] = state.Networks[3] with { Status = NetworkStatus.NotConverged };
        using var backend = BackendFactory.Create("cpu");
        const int trials = 6;
        const long seed = 77;
        var result = Evaluation.Run(backend, state, task, trials, seed);

        Assert.That(result.Steps, Is.EqualTo(15));
        Assert.That(result.OodSteps, Is.EqualTo(30));
        var id = HandMse(task, trials, 15, seed, biases);
        var ood = HandMse(task.OutOfDistribution(), trials, 30, seed + 1, biases);
        for (int e = 0; e < spec.Networks; e++)
        {
            Assert.That(result.InDistributionMse[e], Is.EqualTo(id[e]).Within(1e-6), $"network {e}: in-distribution MSE");
            Assert.That(result.OodMse[e], Is.EqualTo(ood[e]).Within(1e-6), $"network {e}: OOD MSE on the OOD trials");
            Assert.That(result.OodMse[e], Is.Not.EqualTo(id[e]).Within(1e-9), "the two trial sets differ, so scoring the wrong one is caught");
        }

        var conv = ood.Take(3).ToArray();
        double mean = conv.Average();
        double population = Math.Sqrt(conv.Sum(v => (v - mean) * (v - mean)) / 3);
        double sample = Math.Sqrt(conv.Sum(v => (v - mean) * (v - mean)) / 2);
        Assert.That(result.SigmaOod, Is.EqualTo(population).Within(1e-7), "σ_OOD divides by n over the converged networks");
        Assert.That(Math.Abs(population - sample), Is.GreaterThan(1e-6), "n and n − 1 give different values here");
        Assert.That(result.Converged, Is.EqualTo(3));
    }

    /// <summary>With process noise each network draws its own noise from its own seed: network e scored inside the ensemble equals
    /// network e scored alone, and the noise changes the score (so leaving it out, or giving every network network 0's slice, is caught).</summary>
    [Test]
    public void Run_WithProcessNoise_ScoresEachNetworkWithItsOwnNoise()
    {
        var task = new FlipFlopTask(bits: 2);
        var spec = new EnsembleSpec { Networks = 3, Hidden = 6, Inputs = task.Inputs, Outputs = task.Outputs, NoiseStd = 0.5f };
        var rng = new Random(4);
        var parameters = Enumerable.Range(0, spec.Networks * spec.Layout.Stride).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        long[] seeds = [10, 11, 12];
        using var backend = BackendFactory.Create("cpu");
        var options = new TrainingOptions { Steps = 12 };
        var all = Evaluation.Run(backend, new TrainingState(new Ensemble(spec, seeds, parameters), task.Name, task.Settings, options), task, 4, 5);
        var quiet = Evaluation.Run(backend, new TrainingState(new Ensemble(spec with { NoiseStd = 0 }, seeds, parameters), task.Name, task.Settings, options), task, 4, 5);
        var one = spec with { Networks = 1 };
        for (int e = 0; e < spec.Networks; e++)
        {
            var alone = new Ensemble(one, [seeds[e]], parameters.AsSpan(e * spec.Layout.Stride, spec.Layout.Stride).ToArray());
            var single = Evaluation.Run(backend, new TrainingState(alone, task.Name, task.Settings, options), task, 4, 5);
            Assert.That(all.OodMse[e], Is.EqualTo(single.OodMse[0]).Within(1e-9), $"network {e}: OOD MSE alone and in the ensemble");
            Assert.That(all.InDistributionMse[e], Is.EqualTo(single.InDistributionMse[0]).Within(1e-9), $"network {e}: MSE alone and in the ensemble");
            Assert.That(all.OodMse[e], Is.Not.EqualTo(quiet.OodMse[e]).Within(1e-6), $"network {e}: the noise changes the score");
        }
    }

    /// <summary>Per-network targets (a batch with one trial set per network): network e is scored against set e.</summary>
    [Test]
    public void MaskedMse_ScoresEachNetworkAgainstItsOwnTrialSet()
    {
        var spec = new EnsembleSpec { Networks = 2, Hidden = 3, Inputs = 1, Outputs = 2 };
        var batch = TrialBatch.For(spec, sets: 2, trials: 2, steps: 3);
        int per = 2 * 3 * 2;
        var outputs = new float[2 * per];
        double sse0 = 0, sse1 = 0, n1 = 0;
        for (int k = 0; k < per; k++)
        {
            (batch.Targets[k], batch.Mask[k], outputs[k]) = (1, 1, 0.5f);
            (batch.Targets[per + k], batch.Mask[per + k], outputs[per + k]) = (-0.1f * k, k % 2, 0.05f * k);
            sse0 += 0.25;
            double d = 0.05f * k - -0.1f * k;
            sse1 += k % 2 * d * d;
            n1 += k % 2;
        }

        Assert.That(Evaluation.MaskedMse(outputs, batch, 0), Is.EqualTo(sse0 / per).Within(1e-12));
        Assert.That(Evaluation.MaskedMse(outputs, batch, 1), Is.EqualTo(sse1 / n1).Within(1e-6));
    }

    /// <summary>A network whose outputs overflow (finite weights, infinite readout) is diverged: left out of σ_OOD, of the converged
    /// count and of <see cref="EvaluationResult.Healthy"/>; with no converged network left σ_OOD is NaN; fewer than one trial is an error.</summary>
    [Test]
    public void Run_NonFiniteOutputs_MarkTheNetworkDiverged_AndNoConvergedNetworkGivesNaN()
    {
        var task = new FlipFlopTask(bits: 1);
        var spec = new EnsembleSpec { Networks = 3, Hidden = 4, Inputs = task.Inputs, Outputs = task.Outputs };
        var parameters = new float[spec.Networks * spec.Layout.Stride];
        float[] biases = [0.2f, -0.4f, 0.1f];
        for (int e = 0; e < spec.Networks; e++)
        {
            spec.Layout.BOut(parameters, e).Fill(biases[e]);
        }

        // Network 1: h = tanh(1) on every unit, readout weights 3e38: the output overflows float32.
        spec.Layout.Bias(parameters, 1).Fill(1);
        spec.Layout.WOut(parameters, 1).Fill(3e38f);
        var state = new TrainingState(new Ensemble(spec, [0, 1, 2], parameters), task.Name, task.Settings, new TrainingOptions { Steps = 10 });
        for (int e = 0; e < spec.Networks; e++)
        {
            state.Networks[e] = state.Networks[e] with { Status = NetworkStatus.Converged };
        }

        using var backend = BackendFactory.Create("cpu");
        var result = Evaluation.Run(backend, state, task, 3, 9);
        Assert.That(result.Diverged[1], Is.EqualTo("non-finite outputs"));
        Assert.That(result.Diverged[0], Is.Null);
        Assert.That(result.Diverged[2], Is.Null);
        Assert.That(result.Converged, Is.EqualTo(2));
        Assert.That(result.Healthy, Is.EqualTo(2));
        double spread = Math.Abs(result.OodMse[0] - result.OodMse[2]) / 2;
        Assert.That(result.SigmaOod, Is.EqualTo(spread).Within(1e-9), "σ over networks 0 and 2 only");
        Assert.That(new EvaluationResult([1, 2], [3, 4], 0.5, 2, 10, 20).Healthy, Is.EqualTo(2), "no diverged list: every network is healthy");

        for (int e = 0; e < spec.Networks; e++)
        {
            state.Networks[e] = state.Networks[e] with { Status = NetworkStatus.NotConverged };
        }

        var none = Evaluation.Run(backend, state, task, 3, 9);
        Assert.That(none.SigmaOod, Is.NaN);
        Assert.That(none.Converged, Is.Zero);
        Assert.That(() => Evaluation.Run(backend, state, task, 0, 9), Throws.InstanceOf<ArgumentException>().With.Message.Contains("trials"));
    }

    /// <summary>A network that stays finite on the training length but overflows on the twice-as-long OOD trials (ReLU, W = 4 I:
    /// h grows as 4ᵗ, readout 1e28) is diverged too: either MSE being non-finite is enough.</summary>
    [Test]
    public void Run_OverflowOnlyOnOodTrials_MarksTheNetworkDiverged()
    {
        var task = new FlipFlopTask(bits: 1);
        var spec = new EnsembleSpec { Networks = 2, Hidden = 2, Inputs = task.Inputs, Outputs = task.Outputs, Activation = ActivationKind.Relu };
        var parameters = new float[spec.Networks * spec.Layout.Stride];
        var w = spec.Layout.WRec(parameters, 1);
        w[0] = w[3] = 4;
        spec.Layout.Bias(parameters, 1).Fill(1);
        spec.Layout.WOut(parameters, 1).Fill(1e28f);
        var state = new TrainingState(new Ensemble(spec, [0, 1], parameters), task.Name, task.Settings, new TrainingOptions { Steps = 12 });
        using var backend = BackendFactory.Create("cpu");
        var result = Evaluation.Run(backend, state, task, 2, 3);
        Assert.That(double.IsFinite(result.InDistributionMse[1]), Is.True, "4^12 · 1e28 fits in float32, 4^24 · 1e28 does not");
        Assert.That(result.Diverged[1], Is.EqualTo("non-finite outputs"));
        Assert.That(result.Diverged[0], Is.Null);
    }

    private static double[] HandMse(ITrialTask task, int trials, int steps, long seed, float[] biases)
    {
        int per = trials * steps * task.Outputs;
        var inputs = new float[trials * steps * task.Inputs];
        var targets = new float[per];
        var mask = new float[per];
        task.Generate(Rng.For(seed, Rng.EvalStream), trials, steps, inputs, targets, mask);
        return biases.Select(d =>
        {
            double sse = 0, count = 0;
            for (int k = 0; k < per; k++)
            {
                sse += mask[k] * (d - targets[k]) * (d - targets[k]);
                count += mask[k];
            }

            return sse / count;
        }).ToArray();
    }
}
