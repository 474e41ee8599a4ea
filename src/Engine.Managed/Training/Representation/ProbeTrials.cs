using Engine.Model;
using Engine.Tasks;
using Engine.Util;

namespace Engine.Training.Representation;

/// <summary>The fixed probe trials of a run with representational terms: generated once, written over the first P trials of every batch.</summary>
public sealed class ProbeTrials
{
    private readonly float[] _inputs, _targets, _mask;

    /// <summary>Generates P trials of T steps of <paramref name="task"/> from the probe seed (the trials <c>engine run --seed</c> draws).</summary>
    public ProbeTrials(ITrialTask task, int trials, int steps, long seed)
    {
        ArgumentNullException.ThrowIfNull(task);
        Trials = trials;
        _inputs = new float[trials * steps * task.Inputs];
        _targets = new float[trials * steps * task.Outputs];
        _mask = new float[_targets.Length];
        task.Generate(Rng.For(seed, Rng.EvalStream), trials, steps, _inputs, _targets, _mask);
    }

    /// <summary>P.</summary>
    public int Trials { get; }

    /// <summary>Writes the probe over the first P trials of every trial set an active network reads.</summary>
    public void Place(TrialBatch batch, ReadOnlySpan<byte> active)
    {
        int bt = batch.Trials * batch.Steps;
        var done = new HashSet<int>();
        for (int e = 0; e < active.Length; e++)
        {
            int set = batch.SetOf(e);
            if (active[e] == 0 || !done.Add(set))
            {
                continue;
            }

            _inputs.CopyTo(batch.Inputs.AsSpan(set * bt * batch.InputSize, _inputs.Length));
            _targets.CopyTo(batch.Targets.AsSpan(set * bt * batch.OutputSize, _targets.Length));
            _mask.CopyTo(batch.Mask.AsSpan(set * bt * batch.OutputSize, _mask.Length));
        }
    }

    /// <summary>
    /// The default sample stride: every stride-th probe step, so that at most about max(128, 2N) samples enter the diversity term. A ridge fit
    /// needs clearly more samples than units (with n ≤ N any state set predicts any other and ρ is 1 whatever the
    /// networks do); the cost grows as n³ per network.
    /// </summary>
    public static int DefaultStride(int probeTrials, int steps, int hidden)
    {
        int target = Math.Max(128, 2 * hidden);
        return Math.Max(1, (probeTrials * steps + target - 1) / target);
    }

    /// <summary>The guidance CKA's stride: at most about 128 samples (CKA needs no more samples than units; its cost grows as n² N).</summary>
    public static int GuideStride(int probeTrials, int steps) => Math.Max(1, (probeTrials * steps + 127) / 128);

    /// <summary>The run's terms from its options and targets.</summary>
    /// <exception cref="ArgumentException">Guidance without a guide, or a guide or earlier run recorded on other probe trials.</exception>
    public static RepresentationalLoss Loss(TrainingOptions options, EnsembleSpec spec, int steps, RepresentationTargets targets)
    {
        int e = spec.Networks;
        var lambda = Enumerable.Range(0, e).Select(options.GuideStrengthOf).ToArray();
        var mu = Enumerable.Range(0, e).Select(options.DiversityOf).ToArray();
        if (lambda.Any(l => l > 0) && targets.Guide is null)
        {
            throw new ArgumentException("Guidance strength is set but no guide was given (a run directory or a states .npy).");
        }

        int p = options.RepresentationTrials;
        int stride = options.DiversityStride > 0 ? options.DiversityStride : DefaultStride(p, steps, spec.Hidden);
        return new RepresentationalLoss(e, p, steps, spec.Hidden, targets.Guide, options.GuideNetwork, lambda, options.GuideEpochs, options.GuideHalfLife, mu, stride, targets.Earlier, options.GuideRows, GuideStride(p, steps))
        {
            Cohorts = options.DiversityCohorts,
        };
    }
}
