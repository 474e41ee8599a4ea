using Engine.Util;

namespace Engine.Model;

/// <summary>Inputs, targets, loss mask and process noise for B trials of T steps.</summary>
/// <remarks>
/// Layouts are row-major with the network index outermost: inputs [S][B][T][I], targets and mask
/// [S][B][T][O], where S = <see cref="Sets"/> is 1 (every network sees the same trials) or E (each network
/// its own trials). Noise ξ ~ 𝒩(0, 1) is [E][B][T][N] and is scaled by σ√α inside the step; it is empty
/// when the ensemble has no process noise. The mask weights each squared error; the loss of a network is
/// Σ mask·(y − target)² / max(1, Σ mask).
/// </remarks>
public sealed class TrialBatch
{
    /// <summary>Allocates a zeroed batch.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below its minimum, or a buffer would not fit in an array or the memory (<see cref="Guard.Buffer"/>).</exception>
    public TrialBatch(int sets, int trials, int steps, int inputs, int outputs, int noiseNetworks = 0, int hidden = 0)
    {
        Guard.AtLeast(sets, 1, nameof(sets));
        Guard.AtLeast(trials, 1, nameof(trials));
        Guard.AtLeast(steps, 1, nameof(steps));
        Guard.AtLeast(inputs, 1, nameof(inputs));
        Guard.AtLeast(outputs, 1, nameof(outputs));
        Guard.AtLeast(noiseNetworks, 0, nameof(noiseNetworks));
        Guard.AtLeast(hidden, 0, nameof(hidden));
        Sets = sets;
        Trials = trials;
        Steps = steps;
        InputSize = inputs;
        OutputSize = outputs;
        Guard.Buffer("trial inputs [S][B][T][I]", sizeof(float), sets, trials, steps, inputs);
        Guard.Buffer("trial targets and mask [S][B][T][O]", 2 * sizeof(float), sets, trials, steps, outputs);
        Guard.Buffer("process noise [E][B][T][N]", sizeof(float), noiseNetworks, trials, steps, hidden);
        Inputs = new float[(long)sets * trials * steps * inputs];
        Targets = new float[(long)sets * trials * steps * outputs];
        Mask = new float[(long)sets * trials * steps * outputs];
        Noise = new float[(long)noiseNetworks * trials * steps * hidden];
    }

    /// <summary>1 when every network sees the same trials, else E.</summary>
    public int Sets { get; }

    /// <summary>B, trials per network.</summary>
    public int Trials { get; }

    /// <summary>T, steps per trial.</summary>
    public int Steps { get; }

    /// <summary>I, input channels.</summary>
    public int InputSize { get; }

    /// <summary>O, output channels.</summary>
    public int OutputSize { get; }

    /// <summary>x, [S][B][T][I].</summary>
    public float[] Inputs { get; }

    /// <summary>Targets, [S][B][T][O].</summary>
    public float[] Targets { get; }

    /// <summary>Loss weights, [S][B][T][O] (1 scores an entry, 0 ignores it).</summary>
    public float[] Mask { get; }

    /// <summary>ξ, [E][B][T][N], or empty without process noise.</summary>
    public float[] Noise { get; }

    /// <summary>Index of the trial set network <paramref name="network"/> reads.</summary>
    public int SetOf(int network) => Sets == 1 ? 0 : network;

    /// <summary>Checks that this batch fits an ensemble and holds only finite numbers.</summary>
    /// <param name="spec">The ensemble the batch is meant for.</param>
    /// <param name="checkValues">Also scan every value for NaN/Inf (a full pass; the trainer's own batches skip it).</param>
    /// <exception cref="ArgumentException">Shapes disagree with the spec, or a value is NaN/Inf.</exception>
    public void ValidateFor(EnsembleSpec spec, bool checkValues = true)
    {
        if (Sets != 1 && Sets != spec.Networks)
        {
            throw new ArgumentException($"Batch has {Sets} trial sets; expected 1 (shared) or {spec.Networks} (one per network).", "batch");
        }

        if (InputSize != spec.Inputs)
        {
            throw new ArgumentException($"Batch inputs have {InputSize} channels; the ensemble expects {spec.Inputs}.", "batch");
        }

        if (OutputSize != spec.Outputs)
        {
            throw new ArgumentException($"Batch targets have {OutputSize} channels; the ensemble produces {spec.Outputs}.", "batch");
        }

        long noise = spec.NoiseStd > 0f ? (long)spec.Networks * Trials * Steps * spec.Hidden : 0;
        if (spec.NoiseStd > 0f && Noise.Length != noise)
        {
            throw new ArgumentException($"Batch noise has {Noise.Length} values; expected {noise} ([E={spec.Networks}][B={Trials}][T={Steps}][N={spec.Hidden}]) for noise std {spec.NoiseStd}.", "batch");
        }

        if (!checkValues)
        {
            return;
        }

        Guard.Finite(Inputs, "batch.Inputs");
        Guard.Finite(Targets, "batch.Targets");
        Guard.Finite(Mask, "batch.Mask");
        Guard.Finite(Noise, "batch.Noise");
    }

    /// <summary>Creates an empty batch shaped for an ensemble (noise sized when the spec has noise).</summary>
    public static TrialBatch For(EnsembleSpec spec, int sets, int trials, int steps)
        => new(sets, trials, steps, spec.Inputs, spec.Outputs,
            spec.NoiseStd > 0f ? spec.Networks : 0, spec.NoiseStd > 0f ? spec.Hidden : 0);
}
