using Engine.Util;

namespace Engine.Composed;

/// <summary>Settings of the online epoch-inference model (<see cref="EpochChain"/>).</summary>
public sealed record EpochChainOptions
{
    /// <summary>ζ: a step opens a new epoch when, under every epoch it could be in, some feature lies more than ζ standard deviations from the mean.</summary>
    public double Surprise { get; init; } = 4;

    /// <summary>Prior variance of a new epoch's emissions (one pseudo-observation).</summary>
    public double PriorVariance { get; init; } = 0.004;

    /// <summary>Smallest emission variance.</summary>
    public double VarianceFloor { get; init; } = 0.0025;

    /// <summary>Prior mean duration of an epoch, in steps (one pseudo-observation).</summary>
    public double PriorDuration { get; init; } = 5;

    /// <summary>The most epochs one chain may open.</summary>
    public int MaxEpochs { get; init; } = 16;

    /// <summary>Checks every field; returns this.</summary>
    public EpochChainOptions Validate()
    {
        Guard.InRange(Surprise, 1e-3, 1e6, "surprise");
        Guard.InRange(PriorVariance, 1e-12, 1e6, "prior_variance");
        Guard.InRange(VarianceFloor, 1e-12, 1e6, "variance_floor");
        Guard.InRange(PriorDuration, 1, 1e6, "prior_duration");
        Guard.AtLeast(MaxEpochs, 1, "max_epochs");
        return this;
    }
}

/// <summary>The "what" system of SEEDS §6: a task as a left-to-right chain of epochs with diagonal-Gaussian emissions and
/// learned durations, discovered online and without labels, one trial at a time.</summary>
/// <remarks>
/// Forward filtering: c_t(j) ∝ [c_{t−1}(j)(1 − p_j) + c_{t−1}(j − 1) p_{j−1}] · N(f_t; μ_j, diag σ_j²), every trial starting in
/// epoch 0, with p_j = 1/d_j from the epoch's mean duration d_j (the last epoch never leaves). While learning, a step that no
/// reachable epoch explains (some feature's squared standardised distance (f − μ)²/σ² above ζ² under both the most probable epoch and its
/// successor) at the end of the chain opens a new epoch seeded at that step; after the trial every epoch's sufficient
/// statistics (weighted counts, sums, sums of squares, occupancy) are updated with the filtered posterior. The context of the
/// composed RNN is c_t (or its argmax). Features are task-chosen (for the cognitive set: fixation and the largest channel of each ring).
/// </remarks>
public sealed class EpochChain
{
    private readonly List<Epoch> _epochs = [];

    private sealed class Epoch(int features)
    {
        public double Count;
        public double[] Sum { get; } = new double[features];
        public double[] SumSq { get; } = new double[features];
        public double Occupancy;
        public double Visits;
    }

    /// <summary>An empty chain over <paramref name="features"/> features per step.</summary>
    public EpochChain(int features, EpochChainOptions? options = null)
    {
        Guard.AtLeast(features, 1, nameof(features));
        Features = features;
        Options = (options ?? new EpochChainOptions()).Validate();
    }

    /// <summary>Features per step.</summary>
    public int Features { get; }

    /// <summary>The model's settings.</summary>
    public EpochChainOptions Options { get; }

    /// <summary>Epochs discovered so far.</summary>
    public int Epochs => _epochs.Count;

    /// <summary>Emission mean of feature <paramref name="d"/> in epoch <paramref name="j"/>.</summary>
    public double Mean(int j, int d) => _epochs[j].Sum[d] / _epochs[j].Count;

    /// <summary>Mean duration of epoch <paramref name="j"/> in steps.</summary>
    public double Duration(int j) => (_epochs[j].Occupancy + Options.PriorDuration) / (_epochs[j].Visits + 1);

    /// <summary>Learns from one trial (features [T][F]) and writes its filtered posterior [T][MaxEpochs] (epochs beyond <see cref="Epochs"/> zero).</summary>
    public void Learn(ReadOnlySpan<double> features, int steps, Span<double> posterior)
    {
        Run(features, steps, posterior, learn: true);
        int width = Options.MaxEpochs;
        Span<double> occupancy = stackalloc double[_epochs.Count];
        for (int t = 0; t < steps; t++)
        {
            var f = features.Slice(t * Features, Features);
            for (int j = 0; j < _epochs.Count; j++)
            {
                double w = posterior[t * width + j];
                if (w == 0)
                {
                    continue;
                }

                var e = _epochs[j];
                e.Count += w;
                occupancy[j] += w;
                for (int d = 0; d < Features; d++)
                {
                    e.Sum[d] += w * f[d];
                    e.SumSq[d] += w * f[d] * f[d];
                }
            }
        }

        for (int j = 0; j < _epochs.Count; j++)
        {
            if (occupancy[j] >= 0.5)
            {
                _epochs[j].Occupancy += occupancy[j];
                _epochs[j].Visits += 1;
            }
        }
    }

    /// <summary>The filtered posterior [T][MaxEpochs] of one trial under the current chain (nothing learned).</summary>
    /// <exception cref="InvalidOperationException">The chain has no epoch yet.</exception>
    public void Filter(ReadOnlySpan<double> features, int steps, Span<double> posterior)
    {
        if (_epochs.Count == 0)
        {
            throw new InvalidOperationException("The epoch chain has not learned any trial yet.");
        }

        Run(features, steps, posterior, learn: false);
    }

    private void Run(ReadOnlySpan<double> features, int steps, Span<double> posterior, bool learn)
    {
        Guard.AtLeast(steps, 1, nameof(steps));
        Guard.Length(features.Length, (long)steps * Features, nameof(features), $"[{steps}][{Features}]");
        int width = Options.MaxEpochs;
        Guard.Length(posterior.Length, (long)steps * width, nameof(posterior), $"[{steps}][{width}]");
        posterior.Clear();
        Span<double> prior = stackalloc double[width];
        Span<double> logLik = stackalloc double[width];
        Span<double> surprise = stackalloc double[width];
        for (int t = 0; t < steps; t++)
        {
            var f = features.Slice(t * Features, Features);
            if (_epochs.Count == 0)
            {
                Open(f);
            }

            int count = _epochs.Count;
            prior.Clear();
            if (t == 0)
            {
                prior[0] = 1;
            }
            else
            {
                var last = posterior.Slice((t - 1) * width, width);
                for (int j = 0; j < count; j++)
                {
                    double leave = j == count - 1 ? 0 : 1 / Duration(j);
                    prior[j] += last[j] * (1 - leave);
                    if (j + 1 < count)
                    {
                        prior[j + 1] += last[j] * leave;
                    }
                }
            }

            int best = 0;
            for (int j = 0; j < count; j++)
            {
                (logLik[j], surprise[j]) = Emission(j, f);
                if (prior[j] > prior[best])
                {
                    best = j;
                }
            }

            var post = posterior.Slice(t * width, width);
            bool unexplained = surprise[best] > Options.Surprise * Options.Surprise
                && (best + 1 >= count || surprise[best + 1] > Options.Surprise * Options.Surprise);
            if (learn && unexplained && best == count - 1 && count < width)
            {
                Open(f);
                post[count] = 1;
                continue;
            }

            double top = double.NegativeInfinity;
            for (int j = 0; j < count; j++)
            {
                if (prior[j] > 0)
                {
                    top = Math.Max(top, logLik[j]);
                }
            }

            double z = 0;
            for (int j = 0; j < count; j++)
            {
                post[j] = prior[j] > 0 ? prior[j] * Math.Exp(logLik[j] - top) : 0;
                z += post[j];
            }

            if (!(z > 0) || !double.IsFinite(z))
            {
                post.Clear();
                post[best] = 1;
                continue;
            }

            for (int j = 0; j < count; j++)
            {
                post[j] /= z;
            }
        }
    }

    private (double LogLik, double Surprise) Emission(int j, ReadOnlySpan<double> f)
    {
        var e = _epochs[j];
        double ll = 0, s = 0;
        for (int d = 0; d < Features; d++)
        {
            double mean = e.Sum[d] / e.Count;
            double v = Math.Max(Options.VarianceFloor, (e.SumSq[d] - e.Count * mean * mean + Options.PriorVariance) / (e.Count + 1));
            double diff = f[d] - mean;
            ll += -0.5 * Math.Log(2 * Math.PI * v) - diff * diff / (2 * v);
            s = Math.Max(s, diff * diff / v);
        }

        return (ll, s);
    }

    private void Open(ReadOnlySpan<double> f)
    {
        var e = new Epoch(Features) { Count = 1 };
        for (int d = 0; d < Features; d++)
        {
            e.Sum[d] = f[d];
            e.SumSq[d] = f[d] * f[d];
        }

        _epochs.Add(e);
    }

    /// <summary>The adjusted Rand index between two labellings of the same items (1: identical partitions, ≈ 0: chance).</summary>
    public static double AdjustedRand(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        Guard.Length(b.Length, a.Length, nameof(b), $"[{a.Length}]");
        var table = new Dictionary<(int, int), long>();
        var rows = new Dictionary<int, long>();
        var cols = new Dictionary<int, long>();
        for (int i = 0; i < a.Length; i++)
        {
            table[(a[i], b[i])] = table.GetValueOrDefault((a[i], b[i])) + 1;
            rows[a[i]] = rows.GetValueOrDefault(a[i]) + 1;
            cols[b[i]] = cols.GetValueOrDefault(b[i]) + 1;
        }

        static double Pairs(long n) => n * (n - 1) / 2.0;
        double index = table.Values.Sum(Pairs), ra = rows.Values.Sum(Pairs), cb = cols.Values.Sum(Pairs), total = Pairs(a.Length);
        double expected = ra * cb / total, max = (ra + cb) / 2;
        return max == expected ? 1 : (index - expected) / (max - expected);
    }
}
