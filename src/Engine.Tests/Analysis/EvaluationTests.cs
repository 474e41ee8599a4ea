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
