using System.Globalization;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>Delayed discrimination: two pulses f1, f2 separated by a delay; respond with sign(f2 − f1).</summary>
/// <remarks>
/// Per trial a delay D is drawn uniformly from [DelayMin, DelayMax]. Timeline: pulse 1 on steps [0, P), delay, pulse 2 on
/// [P + D, 2P + D), response window [2P + D, 2P + D + R); P = 3, R = 10. Each channel draws f1, f2 ~ U[2, 10] with
/// |f2 − f1| ≥ 1 and receives f/10 during its pulses (0 elsewhere). Target: sign(f2 − f1) in the response window,
/// and, with the auxiliary output, (f2 − f1)/8 on a second set of channels; the mask scores only the response window.
/// Shapes: inputs [B][T][channels], targets/mask [B][T][channels·(aux ? 2 : 1)]. T ≥ 2P + DelayMax + R.
/// OOD: the delays twice as long (and the trial longer by DelayMax).
/// </remarks>
public sealed class DelayedDiscriminationTask : TrialTask
{
    /// <summary>Pulse length P in steps.</summary>
    public const int PulseSteps = 3;

    /// <summary>Response window R in steps.</summary>
    public const int ResponseSteps = 10;

    /// <summary>Creates the task.</summary>
    public DelayedDiscriminationTask(int delayMin = 5, int delayMax = 20, int channels = 1, bool auxiliary = false)
    {
        Guard.AtLeast(delayMin, 0, nameof(delayMin));
        if (delayMax < delayMin)
        {
            throw new ArgumentOutOfRangeException(nameof(delayMax), delayMax, $"delay_max ({delayMax}) must be at least delay_min ({delayMin}).");
        }

        Guard.AtLeast(channels, 1, nameof(channels));
        DelayMin = delayMin;
        DelayMax = delayMax;
        Channels = channels;
        Auxiliary = auxiliary;
    }

    /// <summary>Shortest delay.</summary>
    public int DelayMin { get; }

    /// <summary>Longest delay.</summary>
    public int DelayMax { get; }

    /// <summary>Independent comparisons per trial.</summary>
    public int Channels { get; }

    /// <summary>Whether the auxiliary output f2 − f1 is trained.</summary>
    public bool Auxiliary { get; }

    /// <inheritdoc />
    public override string Name => "delayed";

    /// <inheritdoc />
    public override int Inputs => Channels;

    /// <inheritdoc />
    public override int Outputs => Auxiliary ? 2 * Channels : Channels;

    /// <inheritdoc />
    public override double DefaultThreshold => 1e-2;

    /// <inheritdoc />
    public override int MinimumSteps => 2 * PulseSteps + DelayMax + ResponseSteps;

    /// <inheritdoc />
    public override int DefaultSteps => MinimumSteps;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["delay_min"] = DelayMin.ToString(CultureInfo.InvariantCulture),
        ["delay_max"] = DelayMax.ToString(CultureInfo.InvariantCulture),
        ["channels"] = Channels.ToString(CultureInfo.InvariantCulture),
        ["aux"] = Auxiliary ? "true" : "false",
    };

    /// <inheritdoc />
    public override ITrialTask OutOfDistribution() => new DelayedDiscriminationTask(2 * DelayMin, 2 * DelayMax, Channels, Auxiliary);

    /// <inheritdoc />
    public override int OodSteps(int trainedSteps) => trainedSteps + DelayMax;

    /// <inheritdoc />
    protected override void GenerateTrial(Rng rng, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        int n = Channels, no = Outputs;
        inputs.Clear();
        targets.Clear();
        mask.Clear();
        int delay = DelayMin + rng.NextInt(DelayMax - DelayMin + 1);
        int stim2 = PulseSteps + delay, response = stim2 + PulseSteps;
        for (int c = 0; c < n; c++)
        {
            double f1, f2;
            do
            {
                f1 = rng.Uniform(2, 10);
                f2 = rng.Uniform(2, 10);
            }
            while (Math.Abs(f2 - f1) < 1);

            for (int t = 0; t < PulseSteps; t++)
            {
                inputs[t * n + c] = (float)(f1 / 10);
                inputs[(stim2 + t) * n + c] = (float)(f2 / 10);
            }

            for (int t = response; t < response + ResponseSteps; t++)
            {
                targets[t * no + c] = f2 > f1 ? 1f : -1f;
                mask[t * no + c] = 1f;
                if (Auxiliary)
                {
                    targets[t * no + n + c] = (float)((f2 - f1) / 8);
                    mask[t * no + n + c] = 1f;
                }
            }
        }
    }
}
