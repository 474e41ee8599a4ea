using System.Globalization;
using Engine.Util;

namespace Engine.Tasks.Cognitive;

/// <summary>One task of the Yang et al. (2019) cognitive set (SEEDS §6) with per-step epoch roles, as an <see cref="ITrialTask"/>.</summary>
/// <remarks>
/// Inputs [B][T][1 + 2M]: fixation, then two rings of M direction-tuned channels; a stimulus at direction θ with strength s
/// gives channel i the value s·0.8·exp(−d(θ, 2πi/M)²/2(π/8)²), plus input noise σ_x·ξ with σ_x = 0.01·√(2/α) (α = dt/τ).
/// Targets [B][T][1 + M]: fixation output 0.8 while fixating, 0.05 after the go cue; ring outputs 0.05 plus, after the go
/// cue, 0.8·exp(−d²/2(π/8)²) at the response direction (no-go trials keep fixating). Mask: the first 100 ms weight 0, then 1,
/// the first 100 ms of the go epoch 0, the rest of it 5; the fixation output ×2. Epoch durations (Yang's, in ms, ×
/// <see cref="CognitiveOptions.TimeScale"/>) are drawn per trial; a trial shorter than the batch's T gets a longer first
/// fixation, so every trial's response epoch ends at the last step. Correct (<see cref="Score"/>): at the last step the
/// fixation output is below 0.5 and the output ring's population-vector direction lies within 0.2π of the target, or, on a
/// no-go trial, the fixation output stays at or above 0.5.
/// </remarks>
public sealed partial class CognitiveTask : ITrialTask
{
    /// <summary>The task names, in the default continual-learning order of SEEDS §6 (then fdgo, the held-out recomposition).</summary>
    public static IReadOnlyList<string> Names { get; } = ["delaygo", "delayanti", "dm1", "dm2", "contextdm1", "delaydm1", "dmsgo", "dmcgo", "fdgo"];

    private readonly int _kind;

    /// <summary>Creates a task by name.</summary>
    /// <exception cref="ArgumentException">Unknown name or invalid options.</exception>
    public CognitiveTask(string name, CognitiveOptions? options = null)
    {
        string key = name?.Trim().ToLowerInvariant() ?? "";
        _kind = Names.ToList().IndexOf(key);
        if (_kind < 0)
        {
            throw new ArgumentException($"Unknown cognitive task '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name));
        }

        Name = key;
        Options = (options ?? new CognitiveOptions()).Validate();
    }

    /// <summary>Creates a task from registry settings (dt, tau, ring, time_scale; all optional).</summary>
    /// <exception cref="ArgumentException">A setting the set does not have, or a malformed value.</exception>
    public static CognitiveTask FromSettings(string name, IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        string[] allowed = ["dt", "tau", "ring", "time_scale"];
        foreach (var k in settings.Keys.Where(k => !allowed.Contains(k)))
        {
            throw new ArgumentException($"Task '{name}' has no setting '{k}'; its settings are: {string.Join(", ", allowed)}.", nameof(settings));
        }

        double Number(string key, double fallback) => settings.TryGetValue(key, out var v)
            ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) ? r : throw new ArgumentException($"Task setting '{key}' must be a number, got '{v}'.")
            : fallback;
        var d = new CognitiveOptions();
        return new CognitiveTask(name, new CognitiveOptions { Dt = Number("dt", d.Dt), Tau = Number("tau", d.Tau), Ring = (int)Number("ring", d.Ring), TimeScale = Number("time_scale", d.TimeScale) });
    }

    /// <summary>Whether <paramref name="name"/> is a task of this set.</summary>
    public static bool IsCognitive(string? name) => name is not null && Names.Contains(name.Trim().ToLowerInvariant());

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Time step, time constant, ring size and duration scale.</summary>
    public CognitiveOptions Options { get; }

    /// <summary>M, channels per ring.</summary>
    public int Ring => Options.Ring;

    /// <inheritdoc />
    public int Inputs => 1 + 2 * Ring;

    /// <inheritdoc />
    public int Outputs => 1 + Ring;

    /// <inheritdoc />
    public double DefaultThreshold => 0.01;

    /// <inheritdoc />
    public int DefaultSteps => MinimumSteps;

    /// <inheritdoc />
    public int MinimumSteps => LongestTrial();

    /// <summary>The roles (indices into <see cref="EpochRoles.Names"/>) this task's trials visit, in order of first appearance.</summary>
    public IReadOnlyList<int> Roles => _kind switch
    {
        0 => [EpochRoles.Fix, EpochRoles.StimMem, EpochRoles.Delay, EpochRoles.GoPro],
        1 => [EpochRoles.Fix, EpochRoles.StimMem, EpochRoles.Delay, EpochRoles.GoAnti],
        2 => [EpochRoles.Fix, EpochRoles.Dm1Stim, EpochRoles.GoPro],
        3 => [EpochRoles.Fix, EpochRoles.Dm2Stim, EpochRoles.GoPro],
        4 => [EpochRoles.Fix, EpochRoles.CtxDm1Stim, EpochRoles.GoPro],
        5 => [EpochRoles.Fix, EpochRoles.Ddm1Stim1, EpochRoles.DdmDelay, EpochRoles.Ddm1Stim2, EpochRoles.Delay, EpochRoles.GoPro],
        6 => [EpochRoles.Fix, EpochRoles.StimMem, EpochRoles.Delay, EpochRoles.DmsTest],
        7 => [EpochRoles.Fix, EpochRoles.StimMem, EpochRoles.Delay, EpochRoles.DmcTest],
        _ => [EpochRoles.Fix, EpochRoles.StimMem, EpochRoles.GoPro],
    };

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["dt"] = Options.Dt.ToString(CultureInfo.InvariantCulture),
        ["tau"] = Options.Tau.ToString(CultureInfo.InvariantCulture),
        ["ring"] = Options.Ring.ToString(CultureInfo.InvariantCulture),
        ["time_scale"] = Options.TimeScale.ToString(CultureInfo.InvariantCulture),
    };

    /// <inheritdoc />
    public ITrialTask OutOfDistribution() => this;

    /// <inheritdoc />
    public int OodSteps(int trainedSteps) => trainedSteps;

    /// <inheritdoc />
    public void Generate(Rng rng, int trials, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        Guard.AtLeast(steps, MinimumSteps, nameof(steps));
        Guard.Length(inputs.Length, (long)trials * steps * Inputs, nameof(inputs), $"[{trials}][{steps}][{Inputs}]");
        Guard.Length(targets.Length, (long)trials * steps * Outputs, nameof(targets), $"[{trials}][{steps}][{Outputs}]");
        Guard.Length(mask.Length, (long)trials * steps * Outputs, nameof(mask), $"[{trials}][{steps}][{Outputs}]");
        var plans = new TrialPlan[trials];
        for (int b = 0; b < trials; b++)
        {
            plans[b] = Plan(rng);
        }

        Fill(plans, steps, rng, inputs, targets, mask, null);
    }

    /// <summary>Draws <paramref name="trials"/> trials; T is the longest drawn trial (or <paramref name="steps"/> when given).</summary>
    public CognitiveBatch Draw(Rng rng, int trials, int? steps = null)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Guard.AtLeast(trials, 1, nameof(trials));
        var plans = new TrialPlan[trials];
        int longest = 0;
        for (int b = 0; b < trials; b++)
        {
            plans[b] = Plan(rng);
            longest = Math.Max(longest, plans[b].Steps);
        }

        int t = steps ?? longest;
        if (t < longest)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), t, $"steps must be at least the longest drawn trial ({longest}), got {t}.");
        }

        var batch = new CognitiveBatch(trials, t, Inputs, Outputs);
        Fill(plans, t, rng, batch.Inputs, batch.Targets, batch.Mask, batch.Roles);
        for (int b = 0; b < trials; b++)
        {
            batch.TargetDirection[b] = plans[b].Response;
            batch.Respond[b] = plans[b].Respond;
        }

        return batch;
    }

    /// <summary>Whether each trial's last step is correct (Yang et al.'s rule; see the remarks), written into <paramref name="correct"/>.</summary>
    /// <param name="batch">The trials.</param>
    /// <param name="outputs">Outputs [B][T][O].</param>
    /// <param name="correct">Destination, one flag per trial.</param>
    public void Score(CognitiveBatch batch, ReadOnlySpan<float> outputs, Span<bool> correct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int o = Outputs, t = batch.Steps;
        Guard.Length(outputs.Length, (long)batch.Trials * t * o, nameof(outputs), $"[{batch.Trials}][{t}][{o}]");
        Guard.Length(correct.Length, batch.Trials, nameof(correct), $"[{batch.Trials}]");
        for (int b = 0; b < batch.Trials; b++)
        {
            var y = outputs.Slice((b * t + t - 1) * o, o);
            if (!batch.Respond[b])
            {
                correct[b] = y[0] >= 0.5f;
                continue;
            }

            double cx = 0, cy = 0;
            for (int i = 0; i < Ring; i++)
            {
                double a = 2 * Math.PI * i / Ring;
                cx += y[1 + i] * Math.Cos(a);
                cy += y[1 + i] * Math.Sin(a);
            }

            double dir = Math.Atan2(cy, cx);
            correct[b] = y[0] < 0.5f && Circular(dir, batch.TargetDirection[b]) < 0.2 * Math.PI;
        }
    }

    /// <summary>The fraction of correct trials.</summary>
    public double Accuracy(CognitiveBatch batch, ReadOnlySpan<float> outputs)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Span<bool> ok = batch.Trials <= 4096 ? stackalloc bool[batch.Trials] : new bool[batch.Trials];
        Score(batch, outputs, ok);
        int n = 0;
        foreach (bool v in ok)
        {
            n += v ? 1 : 0;
        }

        return (double)n / batch.Trials;
    }

    /// <summary>Direction-invariant input features for epoch inference: fixation, the largest ring-1 channel, the largest ring-2 channel (one step).</summary>
    /// <param name="input">One step's input (I values).</param>
    /// <param name="features">Destination, 3 values.</param>
    public void Features(ReadOnlySpan<float> input, Span<double> features)
    {
        Guard.Length(input.Length, Inputs, nameof(input), $"[{Inputs}]");
        Guard.Length(features.Length, FeatureCount, nameof(features), $"[{FeatureCount}]");
        double r1 = double.NegativeInfinity, r2 = double.NegativeInfinity;
        for (int i = 0; i < Ring; i++)
        {
            r1 = Math.Max(r1, input[1 + i]);
            r2 = Math.Max(r2, input[1 + Ring + i]);
        }

        features[0] = input[0];
        features[1] = r1;
        features[2] = r2;
    }

    /// <summary>Features per step of <see cref="Features"/>.</summary>
    public const int FeatureCount = 3;

    /// <summary>The smallest angle between two directions.</summary>
    public static double Circular(double a, double b)
    {
        double d = Math.Abs(a - b) % (2 * Math.PI);
        return Math.Min(d, 2 * Math.PI - d);
    }
}

/// <summary>Settings of the cognitive task set.</summary>
public sealed record CognitiveOptions
{
    /// <summary>Time step in ms (Yang et al.: 20; default 40 so that CPU training stays short).</summary>
    public double Dt { get; init; } = 40;

    /// <summary>Time constant τ in ms (Yang et al.: 100).</summary>
    public double Tau { get; init; } = 100;

    /// <summary>M, channels per ring (Yang et al.: 32; default 16).</summary>
    public int Ring { get; init; } = 16;

    /// <summary>Factor on every epoch duration (1: Yang et al.'s durations).</summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>α = dt/τ.</summary>
    public double Alpha => Dt / Tau;

    /// <summary>Checks every field; returns this.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field out of range, named.</exception>
    public CognitiveOptions Validate()
    {
        Guard.InRange(Dt, 1, 1000, "dt");
        Guard.InRange(Tau, Dt, 1e5, "tau");
        Guard.AtLeast(Ring, 4, "ring");
        Guard.InRange(TimeScale, 0.05, 10, "time_scale");
        return this;
    }
}
