using System.Diagnostics;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Analysis.SampleComplexity;

/// <summary>How a sample-complexity sweep on the q-sparse task is run.</summary>
public sealed record SampleComplexityOptions
{
    /// <summary>Task variants swept.</summary>
    public IReadOnlyList<QSparseVariant> Variants { get; init; } = [QSparseVariant.Full, QSparseVariant.Simplified];

    /// <summary>q values swept (each at most every N).</summary>
    public IReadOnlyList<int> Qs { get; init; } = [1];

    /// <summary>Sequence lengths N swept.</summary>
    public IReadOnlyList<int> Lengths { get; init; } = [4, 8, 16];

    /// <summary>Training-set sizes n swept (ascending after validation).</summary>
    public IReadOnlyList<int> Sizes { get; init; } = [64, 128, 256, 512, 1024, 2048];

    /// <summary>Seeds per size (networks per condition = sizes × seeds).</summary>
    public int Seeds { get; init; } = 3;

    /// <summary>Base seed: the k-th seed of every size is Seed + k (same initialisation, nested training sets).</summary>
    public long Seed { get; init; }

    /// <summary>Hidden units of every network.</summary>
    public int Width { get; init; } = 64;

    /// <summary>Feature dimension d.</summary>
    public int Dimension { get; init; } = 2;

    /// <summary>Seed of β.</summary>
    public long BetaSeed { get; init; }

    /// <summary>Whether token steps carry a one-hot of their position.</summary>
    public bool Positions { get; init; }

    /// <summary>Whether positions are coded as one scalar (t + 1)/N instead of one-hot.</summary>
    public bool ScalarCode { get; init; }

    /// <summary>B, samples per Adam step.</summary>
    public int Trials { get; init; } = 32;

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Epoch (Adam step) budget per network.</summary>
    public int MaxEpochs { get; init; } = 6000;

    /// <summary>Training-MSE stop threshold (a memorised training set stops a network).</summary>
    public double TrainThreshold { get; init; } = 1e-4;

    /// <summary>Epochs between held-out test measurements.</summary>
    public int TestEvery { get; init; } = 50;

    /// <summary>Held-out test trials per network.</summary>
    public int TestTrials { get; init; } = 256;

    /// <summary>Early stopping: test measurements without a new best before a network stops.</summary>
    public int TestPatience { get; init; } = 20;

    /// <summary>Normalised test error test MSE / Var(y) that counts as learned (SEEDS §8: 0.1).</summary>
    public double ErrorThreshold { get; init; } = 0.1;

    /// <summary>Trials used to estimate Var(y).</summary>
    public int VarianceTrials { get; init; } = 4096;

    /// <summary>Checks every field, naming the first bad one.</summary>
    /// <exception cref="ArgumentException">An empty list, a value below its minimum, or a q larger than some N.</exception>
    public SampleComplexityOptions Validate()
    {
        NonEmpty(Variants.Count, nameof(Variants));
        NonEmpty(Qs.Count, nameof(Qs));
        NonEmpty(Lengths.Count, nameof(Lengths));
        NonEmpty(Sizes.Count, nameof(Sizes));
        foreach (int n in Lengths)
        {
            Guard.AtLeast(n, 1, nameof(Lengths));
        }

        foreach (int q in Qs)
        {
            Guard.AtLeast(q, 1, nameof(Qs));
            if (q > Lengths.Min())
            {
                throw new ArgumentOutOfRangeException(nameof(Qs), q, $"q ({q}) must be at most every sequence length; the shortest N is {Lengths.Min()}.");
            }
        }

        foreach (int s in Sizes)
        {
            Guard.AtLeast(s, 1, nameof(Sizes));
        }

        if (Sizes.Distinct().Count() != Sizes.Count || Lengths.Distinct().Count() != Lengths.Count || Qs.Distinct().Count() != Qs.Count)
        {
            throw new ArgumentException("Sizes, lengths and q values must not repeat.", nameof(Sizes));
        }

        Guard.AtLeast(Seeds, 1, nameof(Seeds));
        Guard.AtLeast(Width, 1, nameof(Width));
        Guard.AtLeast(Dimension, 1, nameof(Dimension));
        Guard.AtLeast(Trials, 1, nameof(Trials));
        Guard.InRange(LearningRate, 1e-9, 10, nameof(LearningRate));
        Guard.AtLeast(MaxEpochs, 1, nameof(MaxEpochs));
        Guard.InRange(TrainThreshold, 0, double.MaxValue, nameof(TrainThreshold));
        Guard.AtLeast(TestEvery, 1, nameof(TestEvery));
        Guard.AtLeast(TestTrials, 1, nameof(TestTrials));
        Guard.AtLeast(TestPatience, 0, nameof(TestPatience));
        Guard.InRange(ErrorThreshold, 1e-9, 10, nameof(ErrorThreshold));
        Guard.AtLeast(VarianceTrials, 2, nameof(VarianceTrials));
        return this;
    }

    private static void NonEmpty(int count, string name)
    {
        if (count == 0)
        {
            throw new ArgumentException($"{name} must list at least one value.", name);
        }
    }
}

/// <summary>One trained network of a sweep.</summary>
/// <param name="Size">n, its training samples.</param>
/// <param name="Seed">Its seed.</param>
/// <param name="Status">How it stopped.</param>
/// <param name="Epochs">Adam steps it took.</param>
/// <param name="TrainLoss">Its last training MSE.</param>
/// <param name="TestMse">Held-out MSE at the end.</param>
/// <param name="BestTestMse">Lowest held-out MSE measured (early-stopping estimate).</param>
/// <param name="NormalizedError">BestTestMse / Var(y).</param>
public sealed record SampleComplexityNetwork(int Size, long Seed, NetworkStatus Status, int Epochs, double TrainLoss, double TestMse, double BestTestMse, double NormalizedError);

/// <summary>One (variant, q, N) condition: its networks, the median error per size, and n*.</summary>
/// <param name="Variant">Task variant.</param>
/// <param name="Q">q.</param>
/// <param name="Length">N.</param>
/// <param name="TargetVariance">Var(y) over scored targets.</param>
/// <param name="Networks">Every network (size-major, then seed).</param>
/// <param name="MedianError">Per size (ascending), the median normalised error over seeds.</param>
/// <param name="SamplesToThreshold">n*: the smallest size whose median error is at most the threshold; null if none is.</param>
/// <param name="Seconds">Wall time of this condition's training.</param>
public sealed record SampleComplexityCondition(
    QSparseVariant Variant, int Q, int Length, double TargetVariance, IReadOnlyList<SampleComplexityNetwork> Networks,
    IReadOnlyList<double> MedianError, int? SamplesToThreshold, double Seconds);

/// <summary>The slope of log n* against log N for one (variant, q).</summary>
/// <param name="Variant">Task variant.</param>
/// <param name="Q">q.</param>
/// <param name="Slope">Least-squares slope over the lengths with an n* (NaN with fewer than two).</param>
/// <param name="Points">Lengths that had an n*.</param>
public sealed record SampleComplexitySlope(QSparseVariant Variant, int Q, double Slope, int Points);

/// <summary>A finished sweep.</summary>
/// <param name="Options">What was run.</param>
/// <param name="Sizes">The sizes, ascending.</param>
/// <param name="Conditions">Every (variant, q, N).</param>
/// <param name="Slopes">Per (variant, q).</param>
/// <param name="Sequential">Whether each network was trained as its own one-network ensemble.</param>
/// <param name="Seconds">Total training wall time.</param>
/// <param name="CpuSeconds">Processor time this process used meanwhile (all threads; on a shared machine the fairer cost).</param>
public sealed record SampleComplexityResult(
    SampleComplexityOptions Options, IReadOnlyList<int> Sizes, IReadOnlyList<SampleComplexityCondition> Conditions,
    IReadOnlyList<SampleComplexitySlope> Slopes, bool Sequential, double Seconds, double CpuSeconds);

/// <summary>
/// Sample complexity of the q-sparse task (SEEDS §8): for each (variant, q, N), one ensemble whose networks are (training-set size × seed)
/// trains in finite-dataset mode; n*(N) is the smallest size whose median normalised held-out error (best test MSE / Var(y)) is at most the
/// threshold, and the slope of log n* against log N is fitted per (variant, q).
/// </summary>
/// <remarks>
/// Network (size s, seed k) has seed Seed + k, so the networks of one seed share their initialisation and their training sets are
/// nested (the set of size n is a prefix of the set of size 2n). Training: standard parameterisation, tanh, discrete cell, Adam,
/// global clip 1, B samples per step; a network stops on the training threshold, on early stopping (test patience), or at the
/// epoch budget. Var(y) is the variance of the scored targets over <see cref="SampleComplexityOptions.VarianceTrials"/> fresh trials.
/// In sequential mode each network is trained alone (a one-network ensemble with the same seed): it gives the same numbers, only
/// the wall time differs.
/// </remarks>
public static class SampleComplexitySweep
{
    /// <summary>Runs the sweep.</summary>
    /// <param name="backend">Where the networks train.</param>
    /// <param name="options">The sweep.</param>
    /// <param name="sequential">Train every network as its own ensemble, one after another (the benchmark's baseline).</param>
    /// <param name="progress">Called with a line after each condition.</param>
    /// <param name="cancel">Stops after the current condition (the result then holds the conditions finished).</param>
    public static SampleComplexityResult Run(IEnsembleBackend backend, SampleComplexityOptions options, bool sequential = false,
        Action<string>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var sizes = options.Sizes.OrderBy(s => s).ToArray();
        var conditions = new List<SampleComplexityCondition>();
        var total = Stopwatch.StartNew();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (var variant in options.Variants)
        {
            foreach (int q in options.Qs)
            {
                foreach (int length in options.Lengths.OrderBy(n => n).TakeWhile(_ => !cancel.IsCancellationRequested))
                {
                    var c = RunCondition(backend, options, sizes, new QSparseTask(length, q, options.Dimension, variant, options.BetaSeed, options.Positions, options.ScalarCode), sequential);
                    conditions.Add(c);
                    progress?.Invoke($"{Name(variant)} q={q} N={length}: n* = {(c.SamplesToThreshold?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? $"> {sizes[^1]}")}, " +
                        $"median error per size [{string.Join(", ", c.MedianError.Select(m => m.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)))}] ({c.Seconds:F1} s)");
                }
            }
        }

        var slopes = new List<SampleComplexitySlope>();
        foreach (var group in conditions.GroupBy(c => (c.Variant, c.Q)))
        {
            var pts = group.Where(c => c.SamplesToThreshold is not null).Select(c => (Math.Log(c.Length), Math.Log(c.SamplesToThreshold!.Value))).ToArray();
            slopes.Add(new SampleComplexitySlope(group.Key.Variant, group.Key.Q, Slope(pts), pts.Length));
        }

        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        return new SampleComplexityResult(options, sizes, conditions, slopes, sequential, total.Elapsed.TotalSeconds, cpu);
    }

    /// <summary>The variant's name in files (full | simplified).</summary>
    public static string Name(QSparseVariant variant) => variant == QSparseVariant.Full ? "full" : "simplified";

    /// <summary>Variance of the scored targets of <paramref name="trials"/> fresh trials (seeded).</summary>
    public static double TargetVariance(ITrialTask task, int trials, long seed)
    {
        ArgumentNullException.ThrowIfNull(task);
        int steps = task.DefaultSteps;
        var x = new float[(long)trials * steps * task.Inputs <= int.MaxValue ? trials * steps * task.Inputs : throw new ArgumentOutOfRangeException(nameof(trials))];
        var y = new float[trials * steps * task.Outputs];
        var m = new float[y.Length];
        task.Generate(Rng.For(seed, Rng.EvalStream), trials, steps, x, y, m);
        double sum = 0, sq = 0, count = 0;
        for (int k = 0; k < y.Length; k++)
        {
            sum += m[k] * y[k];
            sq += m[k] * (double)y[k] * y[k];
            count += m[k];
        }

        double mean = sum / count;
        return sq / count - mean * mean;
    }

    /// <summary>Least-squares slope of y on x (NaN with fewer than two distinct x).</summary>
    public static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count < 2)
        {
            return double.NaN;
        }

        double mx = points.Average(p => p.X), my = points.Average(p => p.Y);
        double sxy = points.Sum(p => (p.X - mx) * (p.Y - my)), sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        return sxx > 0 ? sxy / sxx : double.NaN;
    }

    /// <summary>The smallest size whose median normalised error is at most the threshold (null if none).</summary>
    public static int? SamplesToThreshold(IReadOnlyList<int> sizes, IReadOnlyList<double> medianError, double threshold)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(medianError);
        for (int i = 0; i < sizes.Count; i++)
        {
            if (medianError[i] <= threshold)
            {
                return sizes[i];
            }
        }

        return null;
    }

    private static SampleComplexityCondition RunCondition(IEnsembleBackend backend, SampleComplexityOptions o, int[] sizes, QSparseTask task, bool sequential)
    {
        int k = o.Seeds, e = sizes.Length * k;
        var seeds = new long[e];
        var samples = new int[e];
        for (int s = 0; s < sizes.Length; s++)
        {
            for (int j = 0; j < k; j++)
            {
                seeds[s * k + j] = o.Seed + j;
                samples[s * k + j] = sizes[s];
            }
        }

        var spec = new EnsembleSpec { Networks = e, Hidden = o.Width, Inputs = task.Inputs, Outputs = task.Outputs }.Validate();
        var training = new TrainingOptions
        {
            Trials = o.Trials, LearningRate = o.LearningRate, ClipNorm = 1, MaxEpochs = o.MaxEpochs, Threshold = o.TrainThreshold, Patience = 0,
            CheckpointEvery = int.MaxValue, ProbeTrials = 0, TrainSamplesPerNetwork = samples, TestEvery = o.TestEvery, TestTrials = o.TestTrials,
            TestPatience = o.TestPatience,
        };
        var clock = Stopwatch.StartNew();
        var records = new NetworkProgress[e];
        if (sequential)
        {
            for (int n = 0; n < e; n++)
            {
                var one = Trainer.Train(backend, task, spec.WithNetworks(1), [seeds[n]], training with { TrainSamplesPerNetwork = [samples[n]] });
                records[n] = one.Networks[0];
            }
        }
        else
        {
            Trainer.Train(backend, task, spec, seeds, training).Networks.CopyTo(records, 0);
        }

        double seconds = clock.Elapsed.TotalSeconds;
        double variance = TargetVariance(task, o.VarianceTrials, o.Seed);
        var nets = records.Select((r, n) => new SampleComplexityNetwork(samples[n], seeds[n], r.Status, r.Epochs, r.LastLoss, r.TestLoss, r.BestTestLoss,
            r.BestTestLoss / variance)).ToArray();
        var medians = sizes.Select((_, s) => Median(nets.Skip(s * k).Take(k).Select(n => double.IsFinite(n.NormalizedError) ? n.NormalizedError : double.PositiveInfinity))).ToArray();
        return new SampleComplexityCondition(task.Variant, task.Q, task.Length, variance, nets, medians, SamplesToThreshold(sizes, medians, o.ErrorThreshold), seconds);
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
    }
}
