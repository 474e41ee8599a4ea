using Engine.Model;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>Trials every network of an ensemble sees alike: evaluation, recordings, and the probe of the representational losses.</summary>
public static class SharedTrials
{
    /// <summary>A batch of <paramref name="trials"/> fresh trials shared by every network, with per-network process noise.</summary>
    /// <remarks>The trials come from <c>Rng.For(seed, EvalStream)</c>, network e's noise from <c>Rng.For(seed_e, EvalStream, seed)</c>.</remarks>
    public static TrialBatch For(Ensemble ensemble, ITrialTask task, int trials, int steps, long seed)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        ArgumentNullException.ThrowIfNull(task);
        var spec = ensemble.Spec;
        var batch = TrialBatch.For(spec, 1, trials, steps);
        task.Generate(Rng.For(seed, Rng.EvalStream), trials, steps, batch.Inputs, batch.Targets, batch.Mask);
        int noisePer = batch.Noise.Length / spec.Networks;
        for (int e = 0; e < spec.Networks && noisePer > 0; e++)
        {
            Rng.For(ensemble.Seeds[e], Rng.EvalStream, seed).FillGaussian(batch.Noise.AsSpan(e * noisePer, noisePer));
        }

        return batch;
    }
}
