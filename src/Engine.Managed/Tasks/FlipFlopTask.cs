using System.Globalization;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>The N-bit flip-flop: each channel receives ±1 pulses; each output holds the sign of its channel's last pulse.</summary>
/// <remarks>
/// Per step and channel a pulse occurs with probability p (default 0.05) and is +1 or −1 with equal odds; the
/// target is the last pulse's sign, 0 before the first. Every output is scored (mask 1) at every step.
/// Shapes: inputs and targets [B][T][bits]. OOD: trials twice as long.
/// </remarks>
public sealed class FlipFlopTask : TrialTask, ILatentTask
{
    /// <summary>Creates the task.</summary>
    /// <exception cref="ArgumentOutOfRangeException">bits &lt; 1 or p outside (0, 1].</exception>
    public FlipFlopTask(int bits = 3, double pulseProbability = 0.05)
    {
        Guard.AtLeast(bits, 1, nameof(bits));
        if (!(pulseProbability > 0 && pulseProbability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(pulseProbability), pulseProbability, $"pulse probability must be in (0, 1], got {pulseProbability}.");
        }

        Bits = bits;
        PulseProbability = pulseProbability;
    }

    /// <summary>Number of independent bits (channels).</summary>
    public int Bits { get; }

    /// <summary>Probability of a pulse per step and channel.</summary>
    public double PulseProbability { get; }

    /// <inheritdoc />
    public override string Name => "flipflop";

    /// <inheritdoc />
    public override int Inputs => Bits;

    /// <inheritdoc />
    public override int Outputs => Bits;

    /// <inheritdoc />
    public override double DefaultThreshold => 1e-3;

    /// <inheritdoc />
    public override int DefaultSteps => 100;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["bits"] = Bits.ToString(CultureInfo.InvariantCulture),
        ["pulse_probability"] = F(PulseProbability),
    };

    /// <inheritdoc />
    public string LatentName => "memory";

    /// <inheritdoc />
    public int LatentCount => 1 << Bits;

    /// <inheritdoc />
    /// <remarks>The memory code Σ_c [target_c &gt; 0]·2^c; −1 before every channel has had a pulse (a target is 0).</remarks>
    public void Latents(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int trials, int steps, Span<int> labels)
    {
        Guard.Length(targets.Length, (long)trials * steps * Bits, nameof(targets), $"[B={trials}][T={steps}][O={Bits}]");
        Guard.Length(labels.Length, (long)trials * steps, nameof(labels), $"[B={trials}][T={steps}]");
        for (int s = 0; s < trials * steps; s++)
        {
            int code = 0;
            for (int c = 0; c < Bits && code >= 0; c++)
            {
                float y = targets[s * Bits + c];
                code = y == 0 ? -1 : code | (y > 0 ? 1 << c : 0);
            }

            labels[s] = code;
        }
    }

    /// <inheritdoc />
    public int DecodeOutput(ReadOnlySpan<float> output)
    {
        Guard.Length(output.Length, Bits, nameof(output), $"[O={Bits}]");
        int code = 0;
        for (int c = 0; c < Bits; c++)
        {
            code |= output[c] > 0 ? 1 << c : 0;
        }

        return code;
    }

    /// <inheritdoc />
    public string LatentLabel(int label)
        => label < 0 ? "none" : string.Concat(Enumerable.Range(0, Bits).Select(c => (label >> c & 1) == 1 ? '+' : '-'));

    /// <inheritdoc />
    protected override void GenerateTrial(Rng rng, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        int n = Bits;
        mask.Fill(1f);
        Span<float> held = stackalloc float[n];
        held.Clear();
        for (int t = 0; t < steps; t++)
        {
            for (int c = 0; c < n; c++)
            {
                float x = 0f;
                if (rng.NextDouble() < PulseProbability)
                {
                    x = rng.NextDouble() < 0.5 ? -1f : 1f;
                    held[c] = x;
                }

                inputs[t * n + c] = x;
                targets[t * n + c] = held[c];
            }
        }
    }
}
