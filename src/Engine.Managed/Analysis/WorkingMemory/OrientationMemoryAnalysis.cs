using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Analysis.WorkingMemory;

/// <summary>Settings of the working-memory error analysis.</summary>
public sealed record OrientationMemoryOptions
{
    /// <summary>Orientation bins K over [0, π) (SEEDS §7: 12–18; default 16).</summary>
    public int Bins { get; init; } = 16;

    /// <summary>Trials per network per (delay, bin), at orientations evenly spaced inside the bin (default 32).</summary>
    public int Repeats { get; init; } = 32;

    /// <summary>Delays in steps to test (null: the task's own).</summary>
    public IReadOnlyList<int>? Delays { get; init; }

    /// <summary>Seed of the process noise of the test trials.</summary>
    public long Seed { get; init; } = 12345;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">bins &lt; 4, repeats &lt; 2, or a negative or repeated delay.</exception>
    public OrientationMemoryOptions Validate()
    {
        Guard.AtLeast(Bins, 4, "bins");
        Guard.AtLeast(Repeats, 2, "repeats");
        if (Delays is { } d && (d.Count == 0 || d.Any(v => v < 0) || d.Distinct().Count() != d.Count))
        {
            throw new ArgumentException($"delays must be distinct step counts ≥ 0, got [{string.Join(", ", d)}].", "delays");
        }

        return this;
    }
}

/// <summary>Report errors of one trained run (one condition of the 2 × 2 design): SD and bias per delay and orientation bin, and the contrasts.</summary>
/// <param name="Source">The run directory.</param>
/// <param name="Task">The run's task.</param>
/// <param name="Width">N.</param>
/// <param name="Noise">Process noise σ of the networks.</param>
/// <param name="Delays">Delays tested [D].</param>
/// <param name="Bins">K.</param>
/// <param name="Sd">SD(θ) in radians from the errors of every healthy network pooled, [D][K].</param>
/// <param name="Bias">b(θ) in radians, pooled, [D][K].</param>
/// <param name="NetworkSd">SD per healthy network [E'][D][K].</param>
/// <param name="Networks">The healthy networks' ids [E'].</param>
/// <param name="LeftOut">Networks left out and why.</param>
public sealed record OrientationMemoryResult(string Source, OrientationMemoryTask Task, int Width, double Noise, int[] Delays, int Bins, double[] Sd, double[] Bias,
    double[] NetworkSd, int[] Networks, IReadOnlyList<(int Network, string Reason)> LeftOut)
{
    /// <summary>The centre of bin k, (k + ½)π/K.</summary>
    public double Centre(int k) => (k + 0.5) * Math.PI / Bins;

    /// <summary>Whether the reward contrast uses the task's own reward map (false: the oblique map as a control region on a flat-reward run).</summary>
    public bool RewardFromTask => Task.Rewarded;

    /// <summary>Per delay, mean SD over the oblique bins (centre within π/8 of π/4 or 3π/4) minus over the cardinal bins (within π/8 of 0 or π/2) [D].</summary>
    public double[] CardinalContrast => PerDelay(c => !OrientationMemoryAnalysis.IsCardinal(c), OrientationMemoryAnalysis.IsCardinal);

    /// <summary>Per delay, mean SD over the low-reward bins minus over the high-reward bins (reward at the bin centre below / at its maximum) [D].</summary>
    /// <remarks>On a flat-reward run the regions come from <see cref="OrientationMemoryTask.ObliqueReward"/>, so flat and reward conditions compare at the same orientations.</remarks>
    public double[] RewardContrast
    {
        get
        {
            var map = RewardFromTask ? Task.Reward : OrientationMemoryTask.ObliqueReward;
            double max = map.Max();
            bool High(double c) => map[OrientationMemoryTask.BinOf(c, map.Count)] >= max;
            return PerDelay(c => !High(c), High);
        }
    }

    /// <summary>Per delay, mean |b(θ)| over the bins [D].</summary>
    public double[] MeanAbsBias => Enumerable.Range(0, Delays.Length).Select(d => Enumerable.Range(0, Bins).Average(k => Math.Abs(Bias[d * Bins + k]))).ToArray();

    /// <summary>Per delay, mean SD over the bins [D].</summary>
    public double[] MeanSd => Enumerable.Range(0, Delays.Length).Select(d => Enumerable.Range(0, Bins).Average(k => Sd[d * Bins + k])).ToArray();

    private double[] PerDelay(Func<double, bool> minuend, Func<double, bool> subtrahend)
    {
        var result = new double[Delays.Length];
        for (int d = 0; d < Delays.Length; d++)
        {
            var a = Enumerable.Range(0, Bins).Where(k => minuend(Centre(k))).Select(k => Sd[d * Bins + k]).ToArray();
            var b = Enumerable.Range(0, Bins).Where(k => subtrahend(Centre(k))).Select(k => Sd[d * Bins + k]).ToArray();
            result[d] = a.Length == 0 || b.Length == 0 ? double.NaN : a.Average() - b.Average();
        }

        return result;
    }
}

/// <summary>
/// Working-memory report errors (SEEDS §7): runs a trained <c>wm-orientation</c> ensemble, with its process noise, on test
/// trials at evenly spaced orientations and every delay, and measures the variability and bias of the reports.
/// </summary>
/// <remarks>
/// Error e = wrap(θ̂ − θ) to (−π/2, π/2], θ̂ from <see cref="OrientationMemoryTask.Decode"/>. With z = E[exp(2ie)] over the trials
/// of a (delay, bin): bias b = ½ arg z, SD = ½ √(−2 ln |z|) (the circular SD on the doubled angle, halved). Noise is drawn
/// per network from its seed and <see cref="OrientationMemoryOptions.Seed"/>, so the numbers do not depend on the thread count.
/// </remarks>
public static class OrientationMemoryAnalysis
{
    /// <summary>θ̂ − θ wrapped to (−π/2, π/2].</summary>
    public static double WrapError(double difference)
    {
        double e = difference % Math.PI;
        if (e > Math.PI / 2)
        {
            e -= Math.PI;
        }
        else if (e <= -Math.PI / 2)
        {
            e += Math.PI;
        }

        return e;
    }

    /// <summary>Whether an orientation lies within π/8 of a cardinal (0 or π/2); the others lie within π/8 of an oblique.</summary>
    public static bool IsCardinal(double theta) => Math.Min(Distance(theta, 0), Distance(theta, Math.PI / 2)) < Math.PI / 8;

    /// <summary>Circular distance between two orientations (period π), in [0, π/2].</summary>
    public static double Distance(double a, double b) => Math.Abs(WrapError(a - b));

    /// <summary>Bias ½ arg E[exp(2ie)] and SD ½ √(−2 ln R), R = |E[exp(2ie)]|, of orientation errors (radians).</summary>
    /// <exception cref="ArgumentException">No errors.</exception>
    public static (double Sd, double Bias) CircularStats(ReadOnlySpan<double> errors)
    {
        if (errors.Length == 0)
        {
            throw new ArgumentException("Circular statistics need at least one error.", nameof(errors));
        }

        double c = 0, s = 0;
        foreach (double e in errors)
        {
            c += Math.Cos(2 * e);
            s += Math.Sin(2 * e);
        }

        c /= errors.Length;
        s /= errors.Length;
        double r = Math.Min(1, Math.Sqrt(c * c + s * s));
        return (r <= 0 ? double.PositiveInfinity : 0.5 * Math.Sqrt(-2 * Math.Log(r)), 0.5 * Math.Atan2(s, c));
    }

    /// <summary>Loads the task of a trained run and checks that it is <c>wm-orientation</c>.</summary>
    /// <exception cref="ArgumentException">The run was trained on another task.</exception>
    public static OrientationMemoryTask TaskOf(TrainingState state, string source)
    {
        ArgumentNullException.ThrowIfNull(state);
        return TaskRegistry.Create(state.TaskName, state.TaskSettings) as OrientationMemoryTask
            ?? throw new ArgumentException($"{source}: trained on task '{state.TaskName}'; analyze wm needs a wm-orientation run.", nameof(state));
    }

    /// <summary>Runs every network of a trained run on the test trials and measures SD and bias per delay and bin.</summary>
    /// <exception cref="ArgumentException">Not a wm-orientation run, bad options, or no healthy network.</exception>
    public static OrientationMemoryResult Run(IEnsembleBackend backend, TrainingState state, OrientationMemoryOptions options, string source = "run")
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var task = TaskOf(state, source);
        var ens = state.Ensemble;
        var spec = ens.Spec;
        int[] delays = (options.Delays ?? task.Delays).ToArray();
        int kBins = options.Bins, reps = options.Repeats, nd = delays.Length;
        int steps = task.StimulusSteps + delays.Max() + task.ResponseSteps;
        int trials = nd * kBins * reps;
        var batch = TrialBatch.For(spec, 1, trials, steps);
        var theta = new double[trials];
        int inLen = steps * task.Inputs, outLen = steps * 2;
        for (int d = 0, b = 0; d < nd; d++)
        {
            for (int k = 0; k < kBins; k++)
            {
                for (int r = 0; r < reps; r++, b++)
                {
                    theta[b] = (k + (r + 0.5) / reps) * Math.PI / kBins;
                    task.WriteTrial(theta[b], delays[d], steps, batch.Inputs.AsSpan(b * inLen, inLen), batch.Targets.AsSpan(b * outLen, outLen), batch.Mask.AsSpan(b * outLen, outLen));
                }
            }
        }

        int noisePer = batch.Noise.Length / spec.Networks;
        for (int e = 0; e < spec.Networks && noisePer > 0; e++)
        {
            Rng.For(ens.Seeds[e], Rng.EvalStream, options.Seed).FillGaussian(batch.Noise.AsSpan(e * noisePer, noisePer));
        }

        var (outputs, _) = ens.Run(backend, batch, keepStates: false);
        var problems = NetworkHealth.Problems(state);
        var errors = new double[spec.Networks][];
        var leftOut = new List<(int, string)>();
        for (int e = 0; e < spec.Networks; e++)
        {
            var y = outputs.AsSpan(e * trials * outLen, trials * outLen);
            if (problems[e] is null && !NetworkHealth.AllFinite(y))
            {
                problems[e] = "non-finite outputs";
            }

            if (problems[e] is { } why)
            {
                leftOut.Add((e, why));
                continue;
            }

            errors[e] = new double[trials];
            for (int b = 0; b < trials; b++)
            {
                errors[e][b] = WrapError(task.Decode(y.Slice(b * outLen, outLen), steps) - theta[b]);
            }
        }

        int[] healthy = Enumerable.Range(0, spec.Networks).Where(e => errors[e] is not null).ToArray();
        if (healthy.Length == 0)
        {
            throw new ArgumentException($"{source}: no healthy network to analyse ({string.Join("; ", leftOut.Select(l => $"network {l.Item1}: {l.Item2}"))}).", nameof(state));
        }

        var sd = new double[nd * kBins];
        var bias = new double[nd * kBins];
        var networkSd = new double[healthy.Length * nd * kBins];
        var pooled = new double[healthy.Length * reps];
        for (int cell = 0; cell < nd * kBins; cell++)
        {
            for (int h = 0; h < healthy.Length; h++)
            {
                var mine = errors[healthy[h]].AsSpan(cell * reps, reps);
                mine.CopyTo(pooled.AsSpan(h * reps, reps));
                networkSd[h * nd * kBins + cell] = CircularStats(mine).Sd;
            }

            (sd[cell], bias[cell]) = CircularStats(pooled);
        }

        return new OrientationMemoryResult(source, task, spec.Hidden, spec.NoiseStd, delays, kBins, sd, bias, networkSd, healthy, leftOut);
    }
}
