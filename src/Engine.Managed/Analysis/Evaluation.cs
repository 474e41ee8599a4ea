using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Analysis;

/// <summary>Per-network error on fresh in-distribution and out-of-distribution trials, and the behavioural spread σ_OOD.</summary>
/// <param name="InDistributionMse">Masked MSE on fresh trials of the training length [E].</param>
/// <param name="OodMse">Masked MSE on the task's OOD variant (twice as long; delayed discrimination: twice the delay) [E].</param>
/// <param name="SigmaOod">Population standard deviation of the OOD MSE over converged, not diverged networks (NaN with none).</param>
/// <param name="Converged">Networks that converged in training and did not diverge here.</param>
/// <param name="Steps">In-distribution trial length.</param>
/// <param name="OodSteps">OOD trial length.</param>
public sealed record EvaluationResult(double[] InDistributionMse, double[] OodMse, double SigmaOod, int Converged, int Steps, int OodSteps)
{
    /// <summary>Per network, why it counts as diverged (non-finite parameters or outputs, or diverged in training), or null [E].</summary>
    /// <remarks>A diverged network is left out of σ_OOD and of <see cref="Converged"/>; its MSE may be NaN.</remarks>
    public IReadOnlyList<string?> Diverged { get; init; } = [];

    /// <summary>Networks not diverged.</summary>
    public int Healthy => Diverged.Count == 0 ? OodMse.Length : Diverged.Count(d => d is null);
}

/// <summary>Evaluates a trained ensemble on the same fresh trials for every network (Huang et al.'s behavioural degeneracy).</summary>
public static class Evaluation
{
    /// <summary>Masked MSE of network e's outputs [E][B][T][O] against a batch's (shared or per-network) targets.</summary>
    public static double MaskedMse(ReadOnlySpan<float> outputs, TrialBatch batch, int e)
    {
        int per = batch.Trials * batch.Steps * batch.OutputSize;
        int set = batch.SetOf(e);
        var y = outputs.Slice(e * per, per);
        var t = batch.Targets.AsSpan(set * per, per);
        var m = batch.Mask.AsSpan(set * per, per);
        double sse = 0, count = 0;
        for (int k = 0; k < per; k++)
        {
            double d = y[k] - t[k];
            sse += m[k] * d * d;
            count += m[k];
        }

        return sse / Math.Max(1, count);
    }

    /// <summary>A batch of <paramref name="trials"/> fresh trials shared by every network, with per-network process noise (<see cref="Tasks.SharedTrials.For"/>).</summary>
    public static TrialBatch SharedTrials(Ensemble ensemble, ITrialTask task, int trials, int steps, long seed) => Tasks.SharedTrials.For(ensemble, task, trials, steps, seed);

    /// <summary>In-distribution and OOD MSE of every network, and σ_OOD over the converged ones.</summary>
    public static EvaluationResult Run(IEnsembleBackend backend, TrainingState state, ITrialTask task, int trials = 64, long seed = 12345)
    {
        Guard.AtLeast(trials, 1, nameof(trials));
        var ens = state.Ensemble;
        int steps = state.Options.StepsFor(task);
        var ood = task.OutOfDistribution();
        int oodSteps = task.OodSteps(steps);
        var id = Mse(backend, ens, task, trials, steps, seed);
        var oo = Mse(backend, ens, ood, trials, oodSteps, seed + 1);
        var diverged = NetworkHealth.Problems(state);
        for (int e = 0; e < diverged.Length; e++)
        {
            if (diverged[e] is null && !(double.IsFinite(id[e]) && double.IsFinite(oo[e])))
            {
                diverged[e] = "non-finite outputs";
            }
        }

        var conv = Enumerable.Range(0, ens.Spec.Networks)
            .Where(e => diverged[e] is null && state.Networks[e].Status == NetworkStatus.Converged).Select(e => oo[e]).ToArray();
        double sigma = double.NaN;
        if (conv.Length > 0)
        {
            double mean = conv.Average();
            sigma = Math.Sqrt(conv.Sum(v => (v - mean) * (v - mean)) / conv.Length);
        }

        return new EvaluationResult(id, oo, sigma, conv.Length, steps, oodSteps) { Diverged = diverged };
    }

    private static double[] Mse(IEnsembleBackend backend, Ensemble ens, ITrialTask task, int trials, int steps, long seed)
    {
        var batch = SharedTrials(ens, task, trials, steps, seed);
        var (outputs, _) = ens.Run(backend, batch, keepStates: false);
        return Enumerable.Range(0, ens.Spec.Networks).Select(e => MaskedMse(outputs, batch, e)).ToArray();
    }
}
