using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Util;

namespace Engine.Training;

/// <summary>What one epoch did, for progress bars and metrics files.</summary>
/// <param name="Epoch">The epoch just completed (1-based).</param>
/// <param name="Losses">Per network, the training MSE at this epoch (NaN where it did not train, or diverged).</param>
/// <param name="Trained">Per network, whether it ran this epoch.</param>
/// <param name="LearningRates">Per network, the learning rate used (after γ and the plateau schedule).</param>
/// <param name="Training">Networks still training after this epoch.</param>
/// <param name="Converged">Networks converged so far.</param>
/// <param name="Diverged">Networks diverged so far.</param>
/// <param name="Elapsed">Wall time since this call to Trainer.Train started.</param>
/// <param name="EpochsThisCall">Epochs completed since this call started (for rates and ETA).</param>
/// <param name="GenerationTime">Of <paramref name="Elapsed"/>, the time spent generating trials (task code, not kernels).</param>
public sealed record EpochReport(
    int Epoch, double[] Losses, bool[] Trained, double[] LearningRates, int Training, int Converged, int Diverged,
    TimeSpan Elapsed, int EpochsThisCall, TimeSpan GenerationTime)
{
    /// <summary>Per network, CKA of its probe states to its guide this epoch (null without guidance; NaN where it did not train).</summary>
    public double[]? Alignment { get; init; }

    /// <summary>Per network, the mean ridge predictability of the earlier networks from it this epoch (null without diversity; NaN where unmeasured).</summary>
    public double[]? Predictability { get; init; }
}

/// <summary>Trains every network of an ensemble on a task until each one stops by its own rule.</summary>
public static partial class Trainer
{
    /// <summary>Starts a fresh run: initialises the networks from their seeds (per the options' parameterisation) and trains them.</summary>
    public static TrainingState Train(
        IEnsembleBackend backend, ITrialTask task, EnsembleSpec spec, IReadOnlyList<long> seeds, TrainingOptions options,
        Action<EpochReport>? onEpoch = null, Action<TrainingState>? onCheckpoint = null, CancellationToken cancel = default,
        Representation.RepresentationTargets? targets = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        var state = Initializer.NewRun(spec, seeds, task.Name, task.Settings, options);
        return Train(backend, task, state, onEpoch, onCheckpoint, cancel, targets);
    }

    /// <summary>
    /// Checks, before anything is allocated, that every buffer a training run of <paramref name="spec"/> with
    /// <paramref name="options"/> and trials of <paramref name="steps"/> steps needs can exist in this process.
    /// </summary>
    /// <remarks>
    /// The host holds 8 blocks of [E][P] floats (parameters, Adam m and v, initial parameters in the state; parameters,
    /// gradients, m and v in a host runner), the batch [E][B][T][I] + 2·[E][B][T][O] (+ noise [E][B][T][N]), and each
    /// worker keeps one network's states and derivatives, about 2·(T+1)·B·N floats.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A buffer would not fit one array or the memory; the message gives the size asked for, the bytes it needs and the limit.</exception>
    public static void CheckSizes(EnsembleSpec spec, TrainingOptions options, int steps)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        spec.Validate();
        long e = spec.Networks, p = spec.Layout.Stride, b = options.Trials, t = steps;
        Guard.Buffer("parameters, Adam moments and gradients [E][P] (8 blocks)", 8 * sizeof(float), e, p);
        Guard.Buffer("trial inputs [E][B][T][I]", sizeof(float), e, b, t, spec.Inputs);
        Guard.Buffer("trial targets and mask [E][B][T][O] (2 blocks)", 2 * sizeof(float), e, b, t, spec.Outputs);
        if (spec.NoiseStd > 0f)
        {
            Guard.Buffer("process noise [E][B][T][N]", sizeof(float), e, b, t, spec.Hidden);
        }

        Guard.Buffer("one network's states and derivatives [2][T+1][B][N]", sizeof(float), 2, t + 1, b, spec.Hidden);
        if (options.Rank > 0)
        {
            Guard.Buffer("low-rank factors and their Adam moments [E][2][N][R] (3 blocks)", 3 * sizeof(float), e, 2, spec.Hidden, options.Rank);
        }
    }

    /// <summary>Continues a run from <paramref name="state"/> (fresh or loaded from a checkpoint) and returns it updated.</summary>
    /// <remarks>
    /// With guidance or diversity in the options (<see cref="TrainingOptions.HasRepresentationalLoss"/>), the first
    /// <see cref="TrainingOptions.RepresentationTrials"/> trials of every batch are the fixed probe trials and the terms
    /// reach BPTT through <see cref="IEnsembleRunner.SetStateLoss"/>; <paramref name="targets"/> carries the guide's states
    /// (required for guidance) and earlier runs' states.
    /// Each epoch draws network e's trials from <c>Rng.For(seed_e, DataStream, epoch)</c>, so a resumed run sees the same
    /// batches as an uninterrupted one. Per network and parameter block the Adam step is lr_e · s_block with
    /// lr_e = η_e · (µP ? γ_e : 1) · plateau scale, s = 1/N for W and 1/(γN) for C under µP (1 otherwise); ε is scaled
    /// alike. Weight regularisers and low-rank factors are handled on the host. When every network has stopped, the
    /// feature-learning measures are recorded. <paramref name="onCheckpoint"/> is called every
    /// <see cref="TrainingOptions.CheckpointEvery"/> epochs, at the end, and when cancelled (after the current epoch).
    /// </remarks>
    /// <exception cref="ArgumentException">The task's input or output size differs from the ensemble's, a trial is too short for it, or a buffer is too large (<see cref="CheckSizes"/>).</exception>
    public static TrainingState Train(
        IEnsembleBackend backend, ITrialTask task, TrainingState state,
        Action<EpochReport>? onEpoch = null, Action<TrainingState>? onCheckpoint = null, CancellationToken cancel = default,
        Representation.RepresentationTargets? targets = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(state);
        using var session = new Session(backend, task, state, targets);
        while (state.Epoch < session.Options.MaxEpochs && !state.Finished && !cancel.IsCancellationRequested)
        {
            session.Epoch(onEpoch, onCheckpoint);
        }

        session.Finish(onCheckpoint);
        return state;
    }

    /// <summary>Draws the epoch's trials (and noise) for every active network from its own seed.</summary>
    public static void FillBatch(ITrialTask task, IReadOnlyList<long> seeds, int epoch, TrialBatch batch, ReadOnlySpan<byte> active, int threads = 0)
    {
        int bt = batch.Trials * batch.Steps;
        int inSize = bt * batch.InputSize, outSize = bt * batch.OutputSize;
        int noiseSize = batch.Noise.Length / Math.Max(1, seeds.Count);
        var act = active.ToArray();
        Parallelism.For(seeds.Count, threads, e =>
        {
            if (act[e] == 0)
            {
                return;
            }

            int set = batch.SetOf(e);
            task.Generate(Rng.For(seeds[e], Rng.DataStream, epoch), batch.Trials, batch.Steps,
                batch.Inputs.AsSpan(set * inSize, inSize), batch.Targets.AsSpan(set * outSize, outSize), batch.Mask.AsSpan(set * outSize, outSize));
            if (noiseSize > 0)
            {
                Rng.For(seeds[e], Rng.NoiseStream, epoch).FillGaussian(batch.Noise.AsSpan(e * noiseSize, noiseSize));
            }
        });
    }

    /// <summary>The learning-rate (and ε) multiplier of a parameter block: µP trains W = J/N and C/(γN) at lr·s.</summary>
    private static double BlockScale(bool mup, int block, int n, double gamma)
        => !mup ? 1.0 : block == 0 ? 1.0 / n : block == 3 ? 1.0 / (gamma * n) : 1.0;

    /// <summary>
    /// ReduceLROnPlateau (mode min, relative threshold 1e-4, no cooldown) on the smoothed training loss.
    /// </summary>
    private static void Plateau(ref NetworkProgress rec, TrainingOptions options)
    {
        if (options.PlateauPatience == 0)
        {
            return;
        }

        if (rec.SmoothedLoss < rec.BestLoss * (1 - 1e-4))
        {
            rec.BestLoss = rec.SmoothedLoss;
            rec.BadEpochs = 0;
        }
        else if (++rec.BadEpochs > options.PlateauPatience)
        {
            rec.LrScale *= options.PlateauFactor;
            rec.BadEpochs = 0;
        }
    }

    /// <summary>Fills the factor gradient of network e from dW; returns it for the norm.</summary>
    private static ReadOnlySpan<float> FactorGradient(TrainingState state, float[] grad, float[] factorGrad, ParameterLayout layout, int e, int fs, int n, int rank)
    {
        var dst = factorGrad.AsSpan(e * fs, fs);
        LowRank.Pullback<float>(state.Factors.AsSpan(e * fs, fs), layout.WRec(grad, e), n, rank, dst);
        return dst;
    }

    /// <summary>Squared gradient norm of one network on the host (W replaced by its factors at low rank).</summary>
    private static float HostNormSquared(ParameterLayout layout, float[] grad, int e, bool lowRank, ReadOnlySpan<float> factorGrad)
    {
        double s = 0;
        var g = layout.Network(grad, e);
        for (int k = lowRank ? layout.WInOffset : 0; k < g.Length; k++)
        {
            s += (double)g[k] * g[k];
        }

        foreach (float f in factorGrad)
        {
            s += (double)f * f;
        }

        return (float)s;
    }

    private static void Snapshot(IEnsembleRunner runner, TrainingState state, int rank, int fs)
    {
        runner.GetParameters(state.Ensemble.Parameters);
        runner.GetOptimizerState(state.FirstMoment, state.SecondMoment);
        if (rank > 0)
        {
            var layout = state.Ensemble.Layout;
            for (int e = 0; e < state.Ensemble.Spec.Networks; e++)
            {
                LowRank.Compose<float>(state.Factors.AsSpan(e * fs, fs), state.Ensemble.Spec.Hidden, rank, layout.WRec(state.Ensemble.Parameters, e));
            }
        }
    }
}
