using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Util;

namespace Engine.FixedPoints;

/// <summary>Seeds for the search: states sampled from each network's own trajectories on task trials.</summary>
public static class FixedPointSeeds
{
    /// <summary>Purpose tag for seed sampling (disjoint from training and evaluation streams).</summary>
    public const ulong SeedStream = 0xF1C5;

    /// <summary>
    /// Runs every network on the same <paramref name="trials"/> × <paramref name="steps"/> trials through
    /// <paramref name="backend"/> and samples <paramref name="seedsPerNetwork"/> of its states per network.
    /// </summary>
    /// <remarks>
    /// Trials come from <paramref name="task"/>, or, when it is null, sparse ±1 pulses on every input channel (probability
    /// 0.05 per step and channel), which suits networks imported without a task. States are drawn without replacement
    /// when S ≤ B·T (with replacement otherwise), then 𝒩(0, noiseStd²) is added. Process noise is off while recording.
    /// Returns seeds [E][S][N] and the recorded states [E][B][T][N] (for figures).
    /// </remarks>
    public static (float[] Seeds, float[] States) FromTrajectories(
        Ensemble ensemble, IEnsembleBackend backend, ITrialTask? task, int trials, int steps, int seedsPerNetwork, double noiseStd, long seed)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        ArgumentNullException.ThrowIfNull(backend);
        Guard.AtLeast(trials, 1, nameof(trials));
        Guard.AtLeast(steps, 1, nameof(steps));
        Guard.AtLeast(seedsPerNetwork, 1, nameof(seedsPerNetwork));
        Guard.InRange(noiseStd, 0, double.MaxValue, nameof(noiseStd));
        Guard.Buffer("fixed-point seeds [E][S][N]", sizeof(float), ensemble.Spec.Networks, seedsPerNetwork, ensemble.Spec.Hidden);
        Guard.Buffer("seed pool [B·T]", sizeof(int), trials, steps);
        var spec = ensemble.Spec with { NoiseStd = 0 };
        var quiet = new Ensemble(spec, ensemble.Seeds, ensemble.Parameters);
        var batch = TrialBatch.For(spec, 1, trials, steps);
        var rng = Rng.For(seed, SeedStream);
        if (task is not null)
        {
            if (task.Inputs != spec.Inputs || task.Outputs != spec.Outputs)
            {
                throw new ArgumentException($"Task '{task.Name}' has {task.Inputs} inputs and {task.Outputs} outputs; the networks have {spec.Inputs} and {spec.Outputs}.", nameof(task));
            }

            task.Generate(rng, trials, steps, batch.Inputs, batch.Targets, batch.Mask);
        }
        else
        {
            for (int k = 0; k < batch.Inputs.Length; k++)
            {
                batch.Inputs[k] = rng.NextDouble() < 0.05 ? (rng.NextDouble() < 0.5 ? -1f : 1f) : 0f;
            }
        }

        var (_, states) = quiet.Run(backend, batch);
        int n = spec.Hidden, pool = trials * steps, s = seedsPerNetwork;
        var seeds = new float[(long)spec.Networks * s * n];
        var index = new int[pool];
        for (int e = 0; e < spec.Networks; e++)
        {
            var pick = Rng.For(seed, SeedStream, e + 1);
            for (int k = 0; k < pool; k++)
            {
                index[k] = k;
            }

            for (int k = 0; k < s; k++)
            {
                int chosen;
                if (s <= pool)
                {
                    int j = k + pick.NextInt(pool - k);
                    (index[k], index[j]) = (index[j], index[k]);
                    chosen = index[k];
                }
                else
                {
                    chosen = pick.NextInt(pool);
                }

                var src = states.AsSpan((int)(((long)e * pool + chosen) * n), n);
                var dst = seeds.AsSpan((int)(((long)e * s + k) * n), n);
                for (int i = 0; i < n; i++)
                {
                    dst[i] = src[i] + (float)(noiseStd * (noiseStd > 0 ? pick.NextGaussian() : 0));
                }
            }
        }

        return (seeds, states);
    }
}
