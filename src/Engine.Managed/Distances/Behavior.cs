using Engine.Analysis;
using Engine.Backends;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Distances;

/// <summary>Behavioural level: per-network OOD MSE, σ_OOD, and the pairwise output distance on shared OOD trials.</summary>
/// <param name="Evaluation">In-distribution and OOD MSE per network and σ_OOD over converged networks (<see cref="Analysis.Evaluation.Run"/>).</param>
/// <param name="Distances">Pairwise RMS output differences of the selected networks on the same OOD trials.</param>
public sealed record BehaviorResult(EvaluationResult Evaluation, PairwiseMatrix Distances);

/// <summary>Behavioural degeneracy (Huang et al. 2025): how differently networks answer the same out-of-distribution trials.</summary>
/// <remarks>
/// The OOD trials are those of <see cref="Analysis.Evaluation.Run"/> (the task's <see cref="ITrialTask.OutOfDistribution"/> variant,
/// <see cref="ITrialTask.OodSteps"/> long, seed + 1), shared by every network. For outputs y_i, y_j [B][T][O] and the task's
/// loss mask m, d(i, j) = √(Σ m (y_i − y_j)² / Σ m): the RMS difference over the scored entries, in output units.
/// d(i, i) = 0 and the matrix is symmetric by construction.
/// </remarks>
public static class Behavior
{
    /// <summary>Evaluates the run and the pairwise output distances of <paramref name="select"/> (default all networks).</summary>
    public static BehaviorResult Compute(IEnsembleBackend backend, TrainingState state, ITrialTask task, int trials = 64, long seed = 12345, IReadOnlyList<int>? select = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(task);
        var eval = Analysis.Evaluation.Run(backend, state, task, trials, seed);
        var ens = state.Ensemble;
        var batch = Analysis.Evaluation.SharedTrials(ens, task.OutOfDistribution(), trials, eval.OodSteps, seed + 1);
        var (outputs, _) = ens.Run(backend, batch, keepStates: false);
        var ids = select ?? Enumerable.Range(0, ens.Spec.Networks).ToArray();
        if (ids.Count == 0)
        {
            throw new ArgumentException("No networks selected: behavioural distances need at least one.", nameof(select));
        }

        int per = batch.Trials * batch.Steps * batch.OutputSize;
        var m = new PairwiseMatrix(ids, "behavior");
        foreach (var (i, j) in PairwiseMatrix.Pairs(ids.Count))
        {
            m.Set(i, j, RmsDifference(outputs.AsSpan(ids[i] * per, per), outputs.AsSpan(ids[j] * per, per), batch.Mask.AsSpan(0, per)));
        }

        return new BehaviorResult(eval, m);
    }

    /// <summary>√(Σ m (a − b)² / Σ m) over equally long outputs and mask.</summary>
    public static double RmsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> mask)
    {
        Guard.Length(b.Length, a.Length, nameof(b), "same shape as a");
        Guard.Length(mask.Length, a.Length, nameof(mask), "same shape as the outputs");
        double sse = 0, count = 0;
        for (int k = 0; k < a.Length; k++)
        {
            double d = a[k] - b[k];
            sse += mask[k] * d * d;
            count += mask[k];
        }

        return Math.Sqrt(sse / Math.Max(1, count));
    }
}
