using Engine.Util;

namespace Engine.Tasks;

/// <summary>Shared plumbing of the built-in tasks: buffer checks and the default OOD rule (twice the trial length).</summary>
public abstract class TrialTask : ITrialTask
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract int Inputs { get; }

    /// <inheritdoc />
    public abstract int Outputs { get; }

    /// <inheritdoc />
    public abstract double DefaultThreshold { get; }

    /// <inheritdoc />
    public abstract int DefaultSteps { get; }

    /// <inheritdoc />
    public virtual int MinimumSteps => 1;

    /// <inheritdoc />
    public abstract IReadOnlyDictionary<string, string> Settings { get; }

    /// <inheritdoc />
    public virtual ITrialTask OutOfDistribution() => this;

    /// <inheritdoc />
    public virtual int OodSteps(int trainedSteps) => 2 * trainedSteps;

    /// <inheritdoc />
    public void Generate(Rng rng, int trials, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Guard.AtLeast(trials, 1, nameof(trials));
        if (steps < MinimumSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Task '{Name}' needs trials of at least {MinimumSteps} steps, got {steps}.");
        }

        Guard.Length(inputs.Length, (long)trials * steps * Inputs, nameof(inputs), $"[B={trials}][T={steps}][I={Inputs}]");
        Guard.Length(targets.Length, (long)trials * steps * Outputs, nameof(targets), $"[B={trials}][T={steps}][O={Outputs}]");
        Guard.Length(mask.Length, (long)trials * steps * Outputs, nameof(mask), $"[B={trials}][T={steps}][O={Outputs}]");
        for (int b = 0; b < trials; b++)
        {
            int inLen = steps * Inputs, outLen = steps * Outputs;
            GenerateTrial(rng, steps, inputs.Slice(b * inLen, inLen), targets.Slice(b * outLen, outLen), mask.Slice(b * outLen, outLen));
        }
    }

    /// <summary>Writes one trial: inputs [T][I], targets and mask [T][O] (every element must be written).</summary>
    protected abstract void GenerateTrial(Rng rng, int steps, Span<float> inputs, Span<float> targets, Span<float> mask);

    /// <summary>Formats a setting value.</summary>
    protected static string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
