using System.Globalization;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>The N-bit flip-flop: each channel receives ±1 pulses; each output holds the sign of its channel's last pulse.</summary>
/// <remarks>
/// Per step and channel a pulse occurs with probability p (default 0.05) and is +1 or −1 with equal odds; the
/// target is the last pulse's sign, 0 before the first. Every output is scored (mask 1) at every step.
/// Shapes: inputs and targets [B][T][bits].
/// </remarks>
public sealed class FlipFlopTask : ITrialTask
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
    public string Name => "flipflop";

    /// <inheritdoc />
    public int Inputs => Bits;

    /// <inheritdoc />
    public int Outputs => Bits;

    /// <inheritdoc />
    public double DefaultThreshold => 1e-3;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["bits"] = Bits.ToString(CultureInfo.InvariantCulture),
        ["pulse_probability"] = PulseProbability.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <inheritdoc />
    public void Generate(Rng rng, int trials, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        int n = Bits;
        long size = (long)trials * steps * n;
        Guard.Length(inputs.Length, size, nameof(inputs), $"[B={trials}][T={steps}][I={n}]");
        Guard.Length(targets.Length, size, nameof(targets), $"[B={trials}][T={steps}][O={n}]");
        Guard.Length(mask.Length, size, nameof(mask), $"[B={trials}][T={steps}][O={n}]");
        mask.Fill(1f);
        Span<float> held = stackalloc float[n];
        for (int b = 0; b < trials; b++)
        {
            held.Clear();
            for (int t = 0; t < steps; t++)
            {
                int row = (b * steps + t) * n;
                for (int c = 0; c < n; c++)
                {
                    float x = 0f;
                    if (rng.NextDouble() < PulseProbability)
                    {
                        x = rng.NextDouble() < 0.5 ? -1f : 1f;
                        held[c] = x;
                    }

                    inputs[row + c] = x;
                    targets[row + c] = held[c];
                }
            }
        }
    }
}
