using Engine.Util;

namespace Engine.Tasks;

/// <summary>A task: a seeded generator of inputs, targets and a loss mask for B trials of T steps.</summary>
/// <remarks>
/// Implement this to train, evaluate and analyse your own task like the built-in ones. Layouts for one
/// trial set: inputs [B][T][I], targets and mask [B][T][O]. The generator must draw every random number from
/// the generator it is given so that the same seed gives the same trials.
/// </remarks>
public interface ITrialTask
{
    /// <summary>The task's name as used by the CLI and in files (e.g. <c>flipflop</c>).</summary>
    string Name { get; }

    /// <summary>I, input channels.</summary>
    int Inputs { get; }

    /// <summary>O, output channels.</summary>
    int Outputs { get; }

    /// <summary>The stop threshold on training MSE that this task uses by default.</summary>
    double DefaultThreshold { get; }

    /// <summary>T, the trial length this task is trained on unless the run says otherwise.</summary>
    int DefaultSteps { get; }

    /// <summary>The shortest trial this task can generate (e.g. delayed discrimination needs room for its longest delay).</summary>
    int MinimumSteps { get; }

    /// <summary>
    /// The out-of-distribution variant used to judge behaviour: the same generator, run with the trial length given by
    /// <see cref="OodSteps"/> (twice as long; delayed discrimination instead doubles its delays).
    /// </summary>
    ITrialTask OutOfDistribution();

    /// <summary>The OOD trial length for a network trained on trials of <paramref name="trainedSteps"/> steps.</summary>
    int OodSteps(int trainedSteps);

    /// <summary>Writes <paramref name="trials"/> trials (T ≥ <see cref="MinimumSteps"/>) of <paramref name="steps"/> steps into the three buffers (each fully overwritten).</summary>
    void Generate(Rng rng, int trials, int steps, Span<float> inputs, Span<float> targets, Span<float> mask);

    /// <summary>The task's settings as (name, value) pairs, for run summaries and checkpoints.</summary>
    IReadOnlyDictionary<string, string> Settings { get; }
}
