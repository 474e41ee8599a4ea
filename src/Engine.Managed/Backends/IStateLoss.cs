namespace Engine.Backends;

/// <summary>
/// A loss on the hidden states of the first <see cref="ProbeTrials"/> trials of every batch, added to the masked MSE
/// inside BPTT: after each network's forward pass the runner hands it that network's states and adds the gradient it
/// writes to dL/dh_t before the backward recursion (the representational losses: guidance, diversity).
/// </summary>
/// <remarks>
/// Runners call <see cref="Gradient"/> once per active network per <see cref="IEnsembleRunner.ComputeGradients"/>, from
/// worker threads, possibly for several networks at once: an implementation keeps per-network state apart. The term's
/// value is the implementation's to record; the loss a runner reports stays the masked MSE.
/// </remarks>
public interface IStateLoss
{
    /// <summary>P, the leading trials of every batch the term reads (1 ≤ P ≤ B).</summary>
    int ProbeTrials { get; }

    /// <summary>
    /// Writes the gradient of network <paramref name="network"/>'s term with respect to its states of the probe trials
    /// into <paramref name="gradient"/> ([P][T][N], fully overwritten; all zeros when the term is off for it).
    /// </summary>
    /// <param name="network">The network's index in the ensemble.</param>
    /// <param name="states">Its states h_1 … h_T of the probe trials, [P][T][N].</param>
    /// <param name="gradient">dTerm/dh, [P][T][N].</param>
    /// <returns>Whether any gradient was written (false: the term is off for this network now, and the gradient is zero).</returns>
    bool Gradient(int network, ReadOnlySpan<float> states, Span<float> gradient);
}

/// <summary>The checks every runner makes on a state loss.</summary>
internal static class StateLossChecks
{
    /// <summary>Throws unless the loss is null or has at least one probe trial.</summary>
    public static void Valid(IStateLoss? loss)
    {
        if (loss is not null && loss.ProbeTrials < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(loss), loss.ProbeTrials, "A state loss needs at least 1 probe trial.");
        }
    }

    /// <summary>Throws when the batch has fewer trials than the loss's probe.</summary>
    public static void ProbeFits(IStateLoss? loss, Model.TrialBatch batch)
    {
        if (loss is not null && loss.ProbeTrials > batch.Trials)
        {
            throw new ArgumentException($"The state loss reads {loss.ProbeTrials} probe trials; the batch has only {batch.Trials}.", nameof(batch));
        }
    }
}
