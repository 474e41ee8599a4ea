using System.Globalization;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>Sine generation: a static input tells each channel which frequency to produce.</summary>
/// <remarks>
/// The task has F frequencies (the complexity knob, 1 ≤ F ≤ 30) evenly spaced in [1, 30] (f_k = 1 + 29·k/(F − 1); F = 1
/// gives f = 1). Each trial and channel draws one of them; the input of that channel is f/30 at every step and the
/// target is sin(2π f (t + 1) dt), dt = 0.005 by default, every step scored. Shapes: inputs and targets [B][T][channels].
/// OOD: trials twice as long.
/// </remarks>
public sealed class SineTask : TrialTask
{
    /// <summary>Creates the task.</summary>
    public SineTask(int frequencies = 8, int channels = 1, double dt = 0.005)
    {
        if (frequencies is < 1 or > 30)
        {
            throw new ArgumentOutOfRangeException(nameof(frequencies), frequencies, $"frequencies must be in [1, 30], got {frequencies}.");
        }

        Guard.AtLeast(channels, 1, nameof(channels));
        Guard.InRange(dt, 1e-6, 1, nameof(dt));
        Frequencies = frequencies;
        Channels = channels;
        Dt = dt;
    }

    /// <summary>F, the number of frequencies.</summary>
    public int Frequencies { get; }

    /// <summary>Independent channels.</summary>
    public int Channels { get; }

    /// <summary>Seconds per step.</summary>
    public double Dt { get; }

    /// <summary>Frequency k in Hz.</summary>
    public double Frequency(int k) => Frequencies == 1 ? 1.0 : 1.0 + 29.0 * k / (Frequencies - 1);

    /// <inheritdoc />
    public override string Name => "sine";

    /// <inheritdoc />
    public override int Inputs => Channels;

    /// <inheritdoc />
    public override int Outputs => Channels;

    /// <inheritdoc />
    public override double DefaultThreshold => 5e-2;

    /// <inheritdoc />
    public override int DefaultSteps => 100;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["frequencies"] = Frequencies.ToString(CultureInfo.InvariantCulture),
        ["channels"] = Channels.ToString(CultureInfo.InvariantCulture),
        ["dt"] = F(Dt),
    };

    /// <inheritdoc />
    protected override void GenerateTrial(Rng rng, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        int n = Channels;
        mask.Fill(1f);
        for (int c = 0; c < n; c++)
        {
            double f = Frequency(rng.NextInt(Frequencies));
            for (int t = 0; t < steps; t++)
            {
                inputs[t * n + c] = (float)(f / 30.0);
                targets[t * n + c] = (float)Math.Sin(2 * Math.PI * f * (t + 1) * Dt);
            }
        }
    }
}
