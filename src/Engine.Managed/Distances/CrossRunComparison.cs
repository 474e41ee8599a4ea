using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Distances;

/// <summary>One run's place among several: its task loss, how alike its networks are, and how close they are to a reference network.</summary>
/// <param name="Name">The run's name (its directory).</param>
/// <param name="Networks">Networks compared (finite ones; diverged ones are left out).</param>
/// <param name="LeftOut">Networks left out (diverged, or non-finite states on the probe trials).</param>
/// <param name="Mse">Mean masked MSE of its networks on the shared trials.</param>
/// <param name="CkaWithin">Mean arccos(CKA) between its own networks (NaN with fewer than two).</param>
/// <param name="DsaWithin">Mean angular DSA between its own networks.</param>
/// <param name="CkaToReference">Mean arccos(CKA) from its networks to the reference network (NaN without one).</param>
/// <param name="DsaToReference">Mean angular DSA from its networks to the reference network.</param>
/// <param name="CkaToOthers">Mean arccos(CKA) from its networks to every other run's networks.</param>
public sealed record RunPlacement(string Name, int Networks, int LeftOut, double Mse, double CkaWithin, double DsaWithin, double CkaToReference, double DsaToReference, double CkaToOthers);

/// <summary>
/// Compares the networks of several runs of one task (and optionally one reference network, e.g. a guide) on the same
/// probe trials by CKA and DSA: degeneracy within each run, distance to the reference, distance between runs.
/// </summary>
/// <remarks>
/// Every network of every run (widths may differ) and the reference are recorded on <c>trials</c> shared trials
/// (<see cref="SharedTrials.For"/> with <c>seed</c>); one CKA matrix and one DSA matrix over all of them; the blocks are
/// averaged per run. This is how guided, unguided and diversity-trained ensembles are told apart.
/// </remarks>
public static class CrossRunComparison
{
    /// <summary>Places every run; <paramref name="reference"/> is (run, network index) or null.</summary>
    /// <exception cref="ArgumentException">Runs of different tasks or task settings, or no run.</exception>
    public static IReadOnlyList<RunPlacement> Compare(IEnsembleBackend backend, IReadOnlyList<(string Name, TrainingState Run)> runs,
        (TrainingState Run, int Network)? reference, int trials = 32, int? steps = null, long seed = 4242, DsaOptions? dsa = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0)
        {
            throw new ArgumentException("Give at least one run to compare.", nameof(runs));
        }

        var first = runs[0].Run;
        var task = TaskRegistry.Create(first.TaskName, first.TaskSettings);
        var all = runs.Select(r => (r.Name, r.Run)).ToList();
        if (reference is { } refRun)
        {
            all.Add(("reference", refRun.Run));
        }

        foreach (var (name, run) in all)
        {
            if (run.TaskName != first.TaskName || !run.TaskSettings.OrderBy(kv => kv.Key).SequenceEqual(first.TaskSettings.OrderBy(kv => kv.Key)))
            {
                throw new ArgumentException($"{name} was trained on task '{run.TaskName}' ({string.Join(", ", run.TaskSettings.Select(kv => $"{kv.Key}={kv.Value}"))}); {runs[0].Name} on '{first.TaskName}': compare runs of one task.", nameof(runs));
            }
        }

        int t = steps ?? first.Options.StepsFor(task);
        var states = new List<float[]>();
        var widths = new List<int>();
        var owner = new List<int>(); // run index, runs.Count for the reference
        var mse = new List<double>[runs.Count];
        var leftOut = new int[runs.Count];
        for (int k = 0; k < all.Count; k++)
        {
            var run = all[k].Run;
            var spec = run.Ensemble.Spec;
            var batch = SharedTrials.For(run.Ensemble, task, trials, t, seed);
            var (outputs, h) = run.Ensemble.Run(backend, batch);
            int per = trials * t * spec.Hidden, perOut = trials * t * spec.Outputs;
            var problems = Analysis.NetworkHealth.Problems(run);
            if (k < runs.Count)
            {
                mse[k] = [];
            }

            for (int e = 0; e < spec.Networks; e++)
            {
                bool isReference = k == runs.Count;
                if (isReference && e != reference!.Value.Network)
                {
                    continue;
                }

                var s = h.AsSpan(e * per, per);
                if (problems[e] is not null || !Analysis.NetworkHealth.AllFinite(s) || !Analysis.NetworkHealth.AllFinite(outputs.AsSpan(e * perOut, perOut)))
                {
                    if (isReference)
                    {
                        throw new ArgumentException($"The reference network {e} has non-finite states or diverged.", nameof(reference));
                    }

                    leftOut[k]++;
                    continue;
                }

                states.Add(s.ToArray());
                widths.Add(spec.Hidden);
                owner.Add(k);
                if (!isReference)
                {
                    mse[k].Add(Analysis.Evaluation.MaskedMse(outputs, batch, e));
                }
            }
        }

        var set = new StateSet(states, trials, t, widths);
        var cka = Cka.Compute(backend, set);
        var dsaAngles = Dsa.Compute(backend, set, dsa ?? new DsaOptions()).Angular;
        int refIndex = reference is null ? -1 : owner.IndexOf(runs.Count);
        var result = new List<RunPlacement>();
        for (int k = 0; k < runs.Count; k++)
        {
            var mine = Enumerable.Range(0, owner.Count).Where(i => owner[i] == k).ToArray();
            var others = Enumerable.Range(0, owner.Count).Where(i => owner[i] != k && owner[i] != runs.Count).ToArray();
            double Within(PairwiseMatrix m) => Mean(mine.SelectMany(i => mine.Where(j => j > i).Select(j => m[i, j])));
            double ToRef(PairwiseMatrix m) => refIndex < 0 ? double.NaN : Mean(mine.Select(i => m[i, refIndex]));
            result.Add(new RunPlacement(runs[k].Name, mine.Length, leftOut[k], Mean(mse[k]), Within(cka), Within(dsaAngles), ToRef(cka), ToRef(dsaAngles),
                Mean(mine.SelectMany(i => others.Select(j => cka[i, j])))));
        }

        return result;
    }

    private static double Mean(IEnumerable<double> values)
    {
        var v = values.ToArray();
        return v.Length == 0 ? double.NaN : v.Average();
    }
}
