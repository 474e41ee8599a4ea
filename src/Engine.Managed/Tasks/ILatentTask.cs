namespace Engine.Tasks;

/// <summary>A task whose trials carry a discrete latent variable per step (the thing a chunk should stand for), read back from a generated batch.</summary>
/// <remarks>
/// The flip-flop's latent is its memory (the sign pattern of the targets, a code in 0 … 2^bits − 1); the chunk sequence
/// task's is the planted symbol-in-word. Labels are [B][T] with −1 where the latent is undefined (a flip-flop channel
/// that has not been pulsed yet). <see cref="DecodeOutput"/> turns one output vector into the same code space, so an
/// analysis can ask whether an output "says" a given latent value (grafting).
/// </remarks>
public interface ILatentTask
{
    /// <summary>What the latent is, for files and figures (e.g. <c>memory</c>).</summary>
    string LatentName { get; }

    /// <summary>Number of latent values L (labels are in 0 … L − 1, or −1).</summary>
    int LatentCount { get; }

    /// <summary>Writes the latent label of every step of a batch: inputs [B][T][I], targets [B][T][O] → labels [B][T].</summary>
    void Latents(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int trials, int steps, Span<int> labels);

    /// <summary>The latent value an output vector [O] expresses (flip-flop: the sign pattern; sequence: the arg-max symbol's label).</summary>
    int DecodeOutput(ReadOnlySpan<float> output);

    /// <summary>A short name for latent value <paramref name="label"/> (e.g. <c>+-+</c> or <c>C</c>).</summary>
    string LatentLabel(int label);
}
