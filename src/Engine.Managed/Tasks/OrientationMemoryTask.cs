using System.Globalization;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>The stimulus prior of the orientation working-memory task.</summary>
public enum OrientationPrior
{
    /// <summary>p(θ) = 1/π on [0, π).</summary>
    Uniform,

    /// <summary>p(θ) = (2 − |sin 2θ|)/(2π − 2): more mass at the cardinals 0 and π/2 (Wei and Stocker's form).</summary>
    Natural,
}

/// <summary>
/// Delayed estimation of an orientation θ ∈ [0, π) (SEEDS §7): a population-coded stimulus, a delay, then a go cue and the
/// report (cos 2θ, sin 2θ); the loss weights each trial by its reward, w(θ) = r(θ)/E_p[r].
/// </summary>
/// <remarks>
/// Inputs [T][C + 1]: channel j = exp(κ(cos 2(θ − φ_j) − 1)), φ_j = jπ/C, during the S stimulus steps; channel C (the go
/// cue) = 1 during the R response steps. Outputs [T][2]: target (cos 2θ, sin 2θ) in the response window, mask w(θ) there
/// and 0 elsewhere. A trial's delay D is drawn uniformly from <see cref="Delays"/>; the response window always closes the
/// trial, so the stimulus starts at T − R − D − S (blank before it). The reward map r has K bins of width π/K (bin k covers
/// [kπ/K, (k + 1)π/K)); E_p[r] = Σ_k r_k P_p(bin k), so E_p[w] = 1 and the weighting moves loss between orientations
/// without changing its overall scale. The engine's loss is Σ mask·(y − target)² / Σ mask over the batch, a w-weighted
/// mean squared error. θ is drawn from the prior (the natural prior by rejection from the uniform). Defaults follow
/// SEEDS §7 with dt = 20 ms: S = R = 10 steps (200 ms), delays 25, 50, 100, 200 steps (0.5 … 4 s), κ = 2, C = 32.
/// OOD: every delay twice as long.
/// </remarks>
public sealed class OrientationMemoryTask : TrialTask
{
    /// <summary>The reward map named <c>oblique</c>: r = 2 on the bins within ±π/8 of the oblique π/4, else 1 (8 bins).</summary>
    public static IReadOnlyList<double> ObliqueReward { get; } = [1, 2, 2, 1, 1, 1, 1, 1];

    private readonly double[] _reward;
    private readonly double _meanReward;

    /// <summary>Creates the task.</summary>
    /// <param name="prior">Stimulus prior.</param>
    /// <param name="reward">Reward map r over <paramref name="rewardBins"/> equal bins of [0, π), each &gt; 0; null: flat (no reward context).</param>
    /// <param name="delays">Delays in steps (each ≥ 0; default 25, 50, 100, 200).</param>
    /// <param name="channels">Input channels C (≥ 2).</param>
    /// <param name="kappa">Tuning concentration κ (&gt; 0).</param>
    /// <param name="stimulusSteps">S (≥ 1).</param>
    /// <param name="responseSteps">R (≥ 1).</param>
    /// <param name="rewardBins">K, the size the reward map must have (default 8).</param>
    /// <exception cref="ArgumentException">A value out of range, or a reward map whose size is not <paramref name="rewardBins"/>.</exception>
    public OrientationMemoryTask(OrientationPrior prior = OrientationPrior.Uniform, IReadOnlyList<double>? reward = null, IReadOnlyList<int>? delays = null,
        int channels = 32, double kappa = 2, int stimulusSteps = 10, int responseSteps = 10, int rewardBins = 8)
    {
        if (!Enum.IsDefined(prior))
        {
            throw new ArgumentOutOfRangeException(nameof(prior), prior, "prior must be uniform or natural.");
        }

        Guard.AtLeast(rewardBins, 1, "reward_bins");
        Guard.AtLeast(channels, 2, nameof(channels));
        Guard.AtLeast(stimulusSteps, 1, "stimulus");
        Guard.AtLeast(responseSteps, 1, "response");
        if (!(kappa > 0 && double.IsFinite(kappa)))
        {
            throw new ArgumentOutOfRangeException(nameof(kappa), kappa, $"kappa must be a positive finite number, got {kappa}.");
        }

        var d = (delays ?? [25, 50, 100, 200]).ToArray();
        if (d.Length == 0 || d.Any(v => v < 0) || d.Distinct().Count() != d.Length)
        {
            throw new ArgumentException($"delays must be distinct step counts ≥ 0 (at least one), got [{string.Join(", ", d)}].", nameof(delays));
        }

        if (reward is not null)
        {
            if (reward.Count != rewardBins)
            {
                throw new ArgumentException($"The reward map has {reward.Count} entries; expected reward_bins = {rewardBins} (one per bin of width π/{rewardBins}).", nameof(reward));
            }

            for (int k = 0; k < reward.Count; k++)
            {
                if (!(reward[k] > 0 && double.IsFinite(reward[k])))
                {
                    throw new ArgumentException($"Reward map entry {k} must be a positive finite number, got {reward[k]}.", nameof(reward));
                }
            }
        }

        Prior = prior;
        Delays = d.Order().ToArray();
        Channels = channels;
        Kappa = kappa;
        StimulusSteps = stimulusSteps;
        ResponseSteps = responseSteps;
        RewardBins = rewardBins;
        _reward = reward?.ToArray() ?? Enumerable.Repeat(1.0, rewardBins).ToArray();
        Rewarded = reward is not null && _reward.Distinct().Count() > 1;
        double mean = 0;
        for (int k = 0; k < rewardBins; k++)
        {
            mean += _reward[k] * (PriorCdf(prior, (k + 1) * Math.PI / rewardBins) - PriorCdf(prior, k * Math.PI / rewardBins));
        }

        _meanReward = mean;
    }

    /// <summary>The stimulus prior.</summary>
    public OrientationPrior Prior { get; }

    /// <summary>Delays in steps, ascending.</summary>
    public IReadOnlyList<int> Delays { get; }

    /// <summary>C, orientation-tuned input channels.</summary>
    public int Channels { get; }

    /// <summary>κ of the von Mises tuning on 2θ.</summary>
    public double Kappa { get; }

    /// <summary>S, stimulus steps.</summary>
    public int StimulusSteps { get; }

    /// <summary>R, response steps (the go cue and the scored window).</summary>
    public int ResponseSteps { get; }

    /// <summary>K, bins of the reward map.</summary>
    public int RewardBins { get; }

    /// <summary>Whether the reward map is not flat (the reward context of the 2 × 2 design).</summary>
    public bool Rewarded { get; }

    /// <summary>The reward map r [K].</summary>
    public IReadOnlyList<double> Reward => _reward;

    /// <inheritdoc />
    public override string Name => "wm-orientation";

    /// <inheritdoc />
    public override int Inputs => Channels + 1;

    /// <inheritdoc />
    public override int Outputs => 2;

    /// <inheritdoc />
    public override double DefaultThreshold => 2e-2;

    /// <inheritdoc />
    public override int MinimumSteps => StimulusSteps + Delays[^1] + ResponseSteps;

    /// <inheritdoc />
    public override int DefaultSteps => MinimumSteps;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["prior"] = Prior == OrientationPrior.Natural ? "natural" : "uniform",
        ["reward"] = Rewarded ? string.Join(",", _reward.Select(F)) : "none",
        ["reward_bins"] = RewardBins.ToString(CultureInfo.InvariantCulture),
        ["delays"] = string.Join(",", Delays.Select(v => v.ToString(CultureInfo.InvariantCulture))),
        ["channels"] = Channels.ToString(CultureInfo.InvariantCulture),
        ["kappa"] = F(Kappa),
        ["stimulus"] = StimulusSteps.ToString(CultureInfo.InvariantCulture),
        ["response"] = ResponseSteps.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A short name of the 2 × 2 condition: <c>uniform/flat</c>, <c>natural/reward</c>, ….</summary>
    public string Condition => (Prior == OrientationPrior.Natural ? "natural" : "uniform") + (Rewarded ? "/reward" : "/flat");

    /// <inheritdoc />
    public override ITrialTask OutOfDistribution()
        => new OrientationMemoryTask(Prior, Rewarded ? _reward : null, Delays.Select(v => 2 * v).ToArray(), Channels, Kappa, StimulusSteps, ResponseSteps, RewardBins);

    /// <inheritdoc />
    public override int OodSteps(int trainedSteps) => trainedSteps + Delays[^1];

    /// <summary>The prior density p(θ) (θ taken mod π).</summary>
    public double Density(double theta) => Prior == OrientationPrior.Natural ? (2 - Math.Abs(Math.Sin(2 * theta))) / (2 * Math.PI - 2) : 1 / Math.PI;

    /// <summary>The reward r(θ) (θ taken mod π).</summary>
    public double RewardAt(double theta) => _reward[BinOf(theta, RewardBins)];

    /// <summary>The loss weight w(θ) = r(θ)/E_p[r].</summary>
    public double Weight(double theta) => RewardAt(theta) / _meanReward;

    /// <summary>The bin (0 … K − 1) of width π/K that holds θ mod π.</summary>
    public static int BinOf(double theta, int bins)
    {
        double t = Wrap(theta);
        return Math.Min(bins - 1, (int)(t / Math.PI * bins));
    }

    /// <summary>θ mod π in [0, π).</summary>
    public static double Wrap(double theta)
    {
        double t = theta % Math.PI;
        return t < 0 ? t + Math.PI : t;
    }

    /// <summary>Draws θ from the prior.</summary>
    public double SampleOrientation(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        while (true)
        {
            double theta = rng.NextDouble() * Math.PI;
            if (Prior == OrientationPrior.Uniform || rng.NextDouble() * 2 < 2 - Math.Abs(Math.Sin(2 * theta)))
            {
                return theta;
            }
        }
    }

    /// <summary>Writes one trial with orientation θ and a delay of <paramref name="delay"/> steps: inputs [T][C + 1], targets and mask [T][2].</summary>
    /// <exception cref="ArgumentException">The trial does not fit in <paramref name="steps"/> steps, or a buffer has the wrong length.</exception>
    public void WriteTrial(double theta, int delay, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        Guard.AtLeast(delay, 0, nameof(delay));
        if (StimulusSteps + delay + ResponseSteps > steps)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"A trial with delay {delay} needs {StimulusSteps + delay + ResponseSteps} steps (stimulus {StimulusSteps} + delay + response {ResponseSteps}), got {steps}.");
        }

        Guard.Length(inputs.Length, (long)steps * Inputs, nameof(inputs), $"[T={steps}][I={Inputs}]");
        Guard.Length(targets.Length, (long)steps * 2, nameof(targets), $"[T={steps}][O=2]");
        Guard.Length(mask.Length, (long)steps * 2, nameof(mask), $"[T={steps}][O=2]");
        inputs.Clear();
        targets.Clear();
        mask.Clear();
        int ni = Inputs, response = steps - ResponseSteps, onset = response - delay - StimulusSteps;
        for (int j = 0; j < Channels; j++)
        {
            float v = (float)Math.Exp(Kappa * (Math.Cos(2 * (theta - j * Math.PI / Channels)) - 1));
            for (int t = onset; t < onset + StimulusSteps; t++)
            {
                inputs[t * ni + j] = v;
            }
        }

        float c = (float)Math.Cos(2 * theta), s = (float)Math.Sin(2 * theta), w = (float)Weight(theta);
        for (int t = response; t < steps; t++)
        {
            inputs[t * ni + Channels] = 1f;
            targets[2 * t] = c;
            targets[2 * t + 1] = s;
            mask[2 * t] = w;
            mask[2 * t + 1] = w;
        }
    }

    /// <summary>The reported orientation of one trial's outputs [T][2]: half the angle of the mean (cos 2θ̂, sin 2θ̂) over the response window, in [0, π).</summary>
    public double Decode(ReadOnlySpan<float> outputs, int steps)
    {
        Guard.Length(outputs.Length, (long)steps * 2, nameof(outputs), $"[T={steps}][O=2]");
        double c = 0, s = 0;
        for (int t = Math.Max(0, steps - ResponseSteps); t < steps; t++)
        {
            c += outputs[2 * t];
            s += outputs[2 * t + 1];
        }

        return Wrap(0.5 * Math.Atan2(s, c));
    }

    /// <inheritdoc />
    protected override void GenerateTrial(Rng rng, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        double theta = SampleOrientation(rng);
        int delay = Delays[rng.NextInt(Delays.Count)];
        WriteTrial(theta, delay, steps, inputs, targets, mask);
    }

    /// <summary>P(θ' ≤ θ) under a prior, θ ∈ [0, π].</summary>
    public static double PriorCdf(OrientationPrior prior, double theta)
    {
        if (prior == OrientationPrior.Uniform)
        {
            return theta / Math.PI;
        }

        // ∫_0^θ |sin 2u| du = (1 − cos 2θ)/2 on [0, π/2], 1 + (1 + cos 2θ)/2 on [π/2, π].
        double abs = theta <= Math.PI / 2 ? (1 - Math.Cos(2 * theta)) / 2 : 1 + (1 + Math.Cos(2 * theta)) / 2;
        return (2 * theta - abs) / (2 * Math.PI - 2);
    }
}
