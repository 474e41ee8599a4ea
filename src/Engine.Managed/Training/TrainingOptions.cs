using Engine.Util;

namespace Engine.Training;

/// <summary>How an ensemble is trained: batch shape, optimizer, stop rule, checkpoint cadence.</summary>
/// <remarks>
/// One epoch is one Adam step on a fresh batch of <see cref="Trials"/> trials per network, drawn from that
/// network's own seed and the epoch index. A network stops on its own: once its training MSE falls below
/// <see cref="Threshold"/> it trains <see cref="Patience"/> more epochs and is marked converged. Because one epoch is one
/// batch, the MSE compared with the threshold is the exponential moving average of the batch losses (decay 0.9, about
/// the last ten batches), so a single lucky batch does not stop a network that has not learned the task; a
/// non-finite loss or gradient marks it diverged; after <see cref="MaxEpochs"/> it stops as not converged.
/// Factors that may differ per network inside one ensemble (learning rate, γ, regulariser strengths) take an
/// optional per-network array [E] that overrides the scalar. Regularisers act on the recurrent weights W:
/// ℓ1 λ Σ|W|, ℓ2 λ Σ W², nuclear λ Σ σ_i(W) (subgradient U Vᵀ of the float64 SVD); activity λ mean h².
/// ReduceLROnPlateau (factor 0.5, relative threshold 1e-4, on the moving average of the loss), when switched on, halves a
/// network's learning rate after <see cref="PlateauPatience"/> epochs without improving its best loss.
/// </remarks>
public sealed record TrainingOptions
{
    /// <summary>B, trials per network per epoch.</summary>
    public int Trials { get; init; } = 64;

    /// <summary>T, steps per trial (null: the task's default length).</summary>
    public int? Steps { get; init; }

    /// <summary>Adam learning rate (every network, unless <see cref="LearningRates"/> is given).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Optional per-network learning rates [E].</summary>
    public double[]? LearningRates { get; init; }

    /// <summary>Global-norm clipping threshold per network; 0 turns clipping off.</summary>
    public double ClipNorm { get; init; }

    /// <summary>Most epochs any network trains.</summary>
    public int MaxEpochs { get; init; } = 3000;

    /// <summary>Training MSE below which a network counts as converged (task default when null).</summary>
    public double? Threshold { get; init; }

    /// <summary>Epochs trained after first reaching the threshold.</summary>
    public int Patience { get; init; } = 3;

    /// <summary>A checkpoint is written every this many epochs (and at the end).</summary>
    public int CheckpointEvery { get; init; } = 50;

    /// <summary>Standard (PyTorch-like) or µP parameterisation.</summary>
    public Parameterization Parameterization { get; init; } = Parameterization.Standard;

    /// <summary>µP feature-learning strength γ (learning rate γ·η₀, readout 1/(γN)).</summary>
    public double Gamma { get; init; } = 1.0;

    /// <summary>Per-network γ [E].</summary>
    public double[]? GammaPerNetwork { get; init; }

    /// <summary>µP gain g of the recurrent init, J_ij ~ 𝒩(0, g² N).</summary>
    public double Gain { get; init; } = 1.0;

    /// <summary>Rank R of the recurrent weights W = (1/N) Σ_r m_r n_rᵀ, trained through the factors; 0 = full rank.</summary>
    public int Rank { get; init; }

    /// <summary>ℓ1 strength on W.</summary>
    public double L1 { get; init; }

    /// <summary>Per-network ℓ1 [E].</summary>
    public double[]? L1PerNetwork { get; init; }

    /// <summary>ℓ2 strength on W.</summary>
    public double L2 { get; init; }

    /// <summary>Per-network ℓ2 [E].</summary>
    public double[]? L2PerNetwork { get; init; }

    /// <summary>Nuclear-norm strength on W.</summary>
    public double Nuclear { get; init; }

    /// <summary>Per-network nuclear-norm strength [E].</summary>
    public double[]? NuclearPerNetwork { get; init; }

    /// <summary>Activity strength (λ mean h²).</summary>
    public double Activity { get; init; }

    /// <summary>Per-network activity strength [E].</summary>
    public double[]? ActivityPerNetwork { get; init; }

    /// <summary>
    /// ReduceLROnPlateau patience in epochs (the papers use 40); 0 (the default) turns the schedule off, because one epoch
    /// here is one batch and even the smoothed batch loss triggers the PyTorch defaults long before the stop thresholds.
    /// </summary>
    public int PlateauPatience { get; init; }

    /// <summary>ReduceLROnPlateau factor.</summary>
    public double PlateauFactor { get; init; } = 0.5;

    /// <summary>
    /// λ of guidance, λ (1 − CKA(H, G)) toward the guide's states on the probe trials (0: off). The guide's states are
    /// given to <see cref="Trainer"/> with the run (<see cref="Representation.RepresentationTargets"/>).
    /// </summary>
    public double GuideStrength { get; init; }

    /// <summary>Per-network guidance λ [E].</summary>
    public double[]? GuideStrengths { get; init; }

    /// <summary>The rows of the guidance CKA: (trial, step) samples (default) or whole trials (the paper's flattened form).</summary>
    public Representation.GuideRows GuideRows { get; init; }

    /// <summary>Guidance is on for epochs below this (0: for the whole run).</summary>
    public int GuideEpochs { get; init; }

    /// <summary>Guidance λ halves every this many epochs (0: constant).</summary>
    public double GuideHalfLife { get; init; }

    /// <summary>The guide network every network follows (default 0); −1 pairs network e with guide network e mod G.</summary>
    public int GuideNetwork { get; init; }

    /// <summary>Where the guide came from (a run directory, "(untrained)" added, or a states file), for summaries; not read back.</summary>
    public string? GuideSource { get; init; }

    /// <summary>μ of diversity, μ ρ̄(earlier | H): the ridge predictability of the earlier networks' states from this one's (0: off).</summary>
    public double Diversity { get; init; }

    /// <summary>Per-network diversity μ [E].</summary>
    public double[]? DiversityPerNetwork { get; init; }

    /// <summary>Every this-many-th step of the probe trials enters the diversity regression (0: chosen so that about max(128, 2N) samples do).</summary>
    public int DiversityStride { get; init; }

    /// <summary>
    /// Per network [E], the cohort whose earlier networks are its diversity targets (null: one cohort, the whole ensemble).
    /// A study packs several conditions into one ensemble; each condition is a cohort, so its networks differ from its own.
    /// </summary>
    public int[]? DiversityCohorts { get; init; }

    /// <summary>Earlier runs whose networks are diversity targets too (their directories, for summaries; not read back).</summary>
    public string[]? DiversityAgainst { get; init; }

    /// <summary>P, the probe trials the representational terms read: the first P trials of every batch, the same each epoch (default 16).</summary>
    public int RepresentationTrials { get; init; } = 16;

    /// <summary>Seed of the probe trials: <c>engine run GUIDE --trials P --seed S</c> records the guide on the same ones (default 12345).</summary>
    public long RepresentationSeed { get; init; } = 12345;

    /// <summary>Trials of the fixed probe batch for kernel alignment (0: not measured).</summary>
    public int ProbeTrials { get; init; } = 8;

    /// <summary>
    /// Finite-dataset mode: n, the training samples of every network (0, the default: fresh trials every epoch). See
    /// <see cref="Trainer.FillBatch(Engine.Tasks.ITrialTask, IReadOnlyList{long}, int, Engine.Model.TrialBatch, ReadOnlySpan{byte}, TrainingOptions, int)"/>.
    /// </summary>
    public int TrainSamples { get; init; }

    /// <summary>Optional per-network training-set sizes [E] (each ≥ 1), overriding <see cref="TrainSamples"/>.</summary>
    public int[]? TrainSamplesPerNetwork { get; init; }

    /// <summary>Finite-dataset mode: the held-out test MSE is measured every this many epochs (and at the end).</summary>
    public int TestEvery { get; init; } = 50;

    /// <summary>Finite-dataset mode: trials of the fixed held-out test set of each network.</summary>
    public int TestTrials { get; init; } = 256;

    /// <summary>Finite-dataset mode: a network stops (as converged) after this many test measurements without a new best; 0 = off.</summary>
    public int TestPatience { get; init; }

    /// <summary>Whether the run trains on fixed training sets (<see cref="TrainSamples"/> or <see cref="TrainSamplesPerNetwork"/>).</summary>
    public bool FiniteData => TrainSamples > 0 || TrainSamplesPerNetwork is not null;

    /// <summary>n of network <paramref name="e"/> (0: fresh trials).</summary>
    public int TrainSamplesOf(int e) => TrainSamplesPerNetwork is { } n ? n[e] : TrainSamples;

    /// <summary>Checks every field, naming the first bad one.</summary>
    public TrainingOptions Validate(int networks)
    {
        Guard.AtLeast(Trials, 1, nameof(Trials));
        if (Steps is { } steps)
        {
            Guard.AtLeast(steps, 1, nameof(Steps));
        }

        Guard.AtLeast(MaxEpochs, 1, nameof(MaxEpochs));
        Guard.AtLeast(Patience, 0, nameof(Patience));
        Guard.AtLeast(CheckpointEvery, 1, nameof(CheckpointEvery));
        Guard.InRange(LearningRate, 0, 10, nameof(LearningRate));
        Guard.InRange(ClipNorm, 0, double.MaxValue, nameof(ClipNorm));
        if (Threshold is { } th)
        {
            Guard.InRange(th, 0, double.MaxValue, nameof(Threshold));
        }

        CheckPerNetwork(LearningRates, networks, 0, 10, nameof(LearningRates));
        if (!Enum.IsDefined(Parameterization))
        {
            throw new ArgumentOutOfRangeException(nameof(Parameterization), Parameterization, "Unknown parameterisation.");
        }

        Guard.InRange(Gamma, 1e-6, 1e6, nameof(Gamma));
        CheckPerNetwork(GammaPerNetwork, networks, 1e-6, 1e6, nameof(GammaPerNetwork));
        Guard.InRange(Gain, 0, 100, nameof(Gain));
        Guard.AtLeast(Rank, 0, nameof(Rank));
        Guard.InRange(L1, 0, double.MaxValue, nameof(L1));
        Guard.InRange(L2, 0, double.MaxValue, nameof(L2));
        Guard.InRange(Nuclear, 0, double.MaxValue, nameof(Nuclear));
        Guard.InRange(Activity, 0, double.MaxValue, nameof(Activity));
        CheckPerNetwork(L1PerNetwork, networks, 0, double.MaxValue, nameof(L1PerNetwork));
        CheckPerNetwork(L2PerNetwork, networks, 0, double.MaxValue, nameof(L2PerNetwork));
        CheckPerNetwork(NuclearPerNetwork, networks, 0, double.MaxValue, nameof(NuclearPerNetwork));
        CheckPerNetwork(ActivityPerNetwork, networks, 0, double.MaxValue, nameof(ActivityPerNetwork));
        Guard.AtLeast(PlateauPatience, 0, nameof(PlateauPatience));
        Guard.InRange(PlateauFactor, 1e-6, 1, nameof(PlateauFactor));
        Guard.AtLeast(ProbeTrials, 0, nameof(ProbeTrials));
        Guard.InRange(GuideStrength, 0, 1e6, nameof(GuideStrength));
        CheckPerNetwork(GuideStrengths, networks, 0, 1e6, nameof(GuideStrengths));
        Guard.AtLeast(GuideEpochs, 0, nameof(GuideEpochs));
        Guard.InRange(GuideHalfLife, 0, double.MaxValue, nameof(GuideHalfLife));
        Guard.AtLeast(GuideNetwork, -1, nameof(GuideNetwork));
        Guard.InRange(Diversity, 0, 1e6, nameof(Diversity));
        CheckPerNetwork(DiversityPerNetwork, networks, 0, 1e6, nameof(DiversityPerNetwork));
        if (DiversityCohorts is { } cohorts)
        {
            Guard.Length(cohorts.Length, networks, nameof(DiversityCohorts), "[E]");
        }

        Guard.AtLeast(DiversityStride, 0, nameof(DiversityStride));
        Guard.AtLeast(RepresentationTrials, 2, nameof(RepresentationTrials));
        if (HasRepresentationalLoss(networks) && RepresentationTrials > Trials)
        {
            throw new ArgumentOutOfRangeException(nameof(RepresentationTrials), RepresentationTrials, $"RepresentationTrials ({RepresentationTrials}) must not exceed Trials ({Trials}): the probe trials are part of every batch.");
        }

        Guard.AtLeast(TrainSamples, 0, nameof(TrainSamples));
        if (TrainSamplesPerNetwork is { } perNetwork)
        {
            Guard.Length(perNetwork.Length, networks, nameof(TrainSamplesPerNetwork), "[E]");
            for (int e = 0; e < perNetwork.Length; e++)
            {
                Guard.AtLeast(perNetwork[e], 1, $"{nameof(TrainSamplesPerNetwork)}[{e}]");
            }
        }

        Guard.AtLeast(TestEvery, 1, nameof(TestEvery));
        Guard.AtLeast(TestTrials, 1, nameof(TestTrials));
        Guard.AtLeast(TestPatience, 0, nameof(TestPatience));
        return this;
    }

    /// <summary>The trial length for a task: <see cref="Steps"/> or the task's default, checked against the task's minimum.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The trial is too short for the task (e.g. shorter than its longest delay allows).</exception>
    public int StepsFor(Engine.Tasks.ITrialTask task)
    {
        int steps = Steps ?? task.DefaultSteps;
        if (steps < task.MinimumSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(Steps), steps,
                $"Steps ({steps}) is shorter than task '{task.Name}' needs ({task.MinimumSteps}: {string.Join(", ", task.Settings.Select(kv => $"{kv.Key}={kv.Value}"))}).");
        }

        return steps;
    }

    /// <summary>The base learning rate η of network <paramref name="e"/> (µP multiplies it by γ).</summary>
    public double LearningRateOf(int e) => LearningRates is { } lrs ? lrs[e] : LearningRate;

    /// <summary>γ of network <paramref name="e"/>.</summary>
    public double GammaOf(int e) => GammaPerNetwork?[e] ?? Gamma;

    /// <summary>ℓ1 strength of network <paramref name="e"/>.</summary>
    public double L1Of(int e) => L1PerNetwork?[e] ?? L1;

    /// <summary>ℓ2 strength of network <paramref name="e"/>.</summary>
    public double L2Of(int e) => L2PerNetwork?[e] ?? L2;

    /// <summary>Nuclear-norm strength of network <paramref name="e"/>.</summary>
    public double NuclearOf(int e) => NuclearPerNetwork?[e] ?? Nuclear;

    /// <summary>Activity strength of network <paramref name="e"/>.</summary>
    public double ActivityOf(int e) => ActivityPerNetwork?[e] ?? Activity;

    /// <summary>Guidance λ of network <paramref name="e"/>.</summary>
    public double GuideStrengthOf(int e) => GuideStrengths?[e] ?? GuideStrength;

    /// <summary>Diversity μ of network <paramref name="e"/>.</summary>
    public double DiversityOf(int e) => DiversityPerNetwork?[e] ?? Diversity;

    /// <summary>Whether any network has a guidance term.</summary>
    public bool HasGuidance(int networks) => Enumerable.Range(0, networks).Any(e => GuideStrengthOf(e) > 0);

    /// <summary>Whether any network has a guidance or diversity term (with none, training runs exactly as without these options).</summary>
    public bool HasRepresentationalLoss(int networks) => Enumerable.Range(0, networks).Any(e => GuideStrengthOf(e) > 0 || DiversityOf(e) > 0);

    /// <summary>Whether any network has a weight regulariser (ℓ1, ℓ2 or nuclear).</summary>
    public bool HasWeightRegularizer(int networks)
        => Enumerable.Range(0, networks).Any(e => L1Of(e) > 0 || L2Of(e) > 0 || NuclearOf(e) > 0);

    private static void CheckPerNetwork(double[]? values, int networks, double min, double max, string name)
    {
        if (values is null)
        {
            return;
        }

        Guard.Length(values.Length, networks, name, "[E]");
        for (int e = 0; e < values.Length; e++)
        {
            Guard.InRange(values[e], min, max, $"{name}[{e}]");
        }
    }
}

/// <summary>How weights are scaled and initialised.</summary>
public enum Parameterization
{
    /// <summary>PyTorch nn.RNN: every weight U(−1/√N, 1/√N).</summary>
    Standard,

    /// <summary>
    /// µP with knob γ (rate cell, α = 0.1 by default): W = (1/N) J with J_ij ~ 𝒩(0, g² N); readout (1/(γN)) C with
    /// C_ij ~ 𝒩(0, 1); U_ij ~ 𝒩(0, 1); biases 0; learning rate γ·η₀. The engine stores the effective weights W and
    /// C/(γN) and trains them with Adam at lr·s and ε·s (s = 1/N for W, 1/(γN) for C), which is Adam on J and C exactly.
    /// </summary>
    MuP,
}
