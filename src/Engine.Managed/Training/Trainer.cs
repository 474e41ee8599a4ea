using System.Diagnostics;
using Engine.Backends;
using Engine.Kernels;
using Engine.Model;
using Engine.Tasks;
using Engine.Util;

namespace Engine.Training;

/// <summary>What one epoch did, for progress bars and metrics files.</summary>
/// <param name="Epoch">The epoch just completed (1-based).</param>
/// <param name="Losses">Per network, the training MSE at this epoch (NaN where it did not train, or diverged).</param>
/// <param name="Trained">Per network, whether it ran this epoch.</param>
/// <param name="LearningRates">Per network, the learning rate used.</param>
/// <param name="Training">Networks still training after this epoch.</param>
/// <param name="Converged">Networks converged so far.</param>
/// <param name="Diverged">Networks diverged so far.</param>
/// <param name="Elapsed">Wall time since this call to Trainer.Train started.</param>
/// <param name="EpochsThisCall">Epochs completed since this call started (for rates and ETA).</param>
public sealed record EpochReport(
    int Epoch, double[] Losses, bool[] Trained, double[] LearningRates, int Training, int Converged, int Diverged,
    TimeSpan Elapsed, int EpochsThisCall);

/// <summary>Trains every network of an ensemble on a task until each one stops by its own rule.</summary>
public static class Trainer
{
    /// <summary>Starts a fresh run: initialises the networks from their seeds and trains them.</summary>
    public static TrainingState Train(
        IEnsembleBackend backend, ITrialTask task, EnsembleSpec spec, IReadOnlyList<long> seeds, TrainingOptions options,
        Action<EpochReport>? onEpoch = null, Action<TrainingState>? onCheckpoint = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        var state = new TrainingState(Ensemble.Initialize(spec, seeds), task.Name, task.Settings, options);
        return Train(backend, task, state, onEpoch, onCheckpoint, cancel);
    }

    /// <summary>Continues a run from <paramref name="state"/> (fresh or loaded from a checkpoint) and returns it updated.</summary>
    /// <remarks>
    /// Each epoch draws network e's trials from <c>Rng.For(seed_e, DataStream, epoch)</c>, so a resumed run sees
    /// the same batches as an uninterrupted one. <paramref name="onCheckpoint"/> is called every
    /// <see cref="TrainingOptions.CheckpointEvery"/> epochs, at the end, and when cancelled (after the current epoch).
    /// </remarks>
    /// <exception cref="ArgumentException">The task's input or output size differs from the ensemble's.</exception>
    public static TrainingState Train(
        IEnsembleBackend backend, ITrialTask task, TrainingState state,
        Action<EpochReport>? onEpoch = null, Action<TrainingState>? onCheckpoint = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(state);
        var spec = state.Ensemble.Spec;
        var options = state.Options.Validate(spec.Networks);
        if (task.Inputs != spec.Inputs || task.Outputs != spec.Outputs)
        {
            throw new ArgumentException(
                $"Task '{task.Name}' has {task.Inputs} inputs and {task.Outputs} outputs; the ensemble has {spec.Inputs} and {spec.Outputs}.", nameof(task));
        }

        int networks = spec.Networks;
        double threshold = options.Threshold ?? task.DefaultThreshold;
        using var runner = backend.CreateRunner(spec);
        runner.SetParameters(state.Ensemble.Parameters);
        runner.SetOptimizerState(state.FirstMoment, state.SecondMoment);

        var batch = TrialBatch.For(spec, networks, options.Trials, options.StepsFor(task));
        var active = new byte[networks];
        var loss = new float[networks];
        var norms = new float[networks];
        var coefficients = new AdamCoefficients[networks];
        var lrs = Enumerable.Range(0, networks).Select(options.LearningRateOf).ToArray();
        var clock = Stopwatch.StartNew();
        int startEpoch = state.Epoch;
        bool dirty = false;

        while (state.Epoch < options.MaxEpochs && !state.Finished && !cancel.IsCancellationRequested)
        {
            int epoch = state.Epoch;
            for (int e = 0; e < networks; e++)
            {
                active[e] = state.Networks[e].Status == NetworkStatus.Training ? (byte)1 : (byte)0;
            }

            FillBatch(task, state.Ensemble.Seeds, epoch, batch, active);
            runner.ComputeGradients(batch, active, loss, norms);

            var losses = new double[networks];
            var trained = new bool[networks];
            for (int e = 0; e < networks; e++)
            {
                losses[e] = double.NaN;
                coefficients[e] = AdamMath.Coefficients(0f, 0, 1f);
                if (active[e] == 0)
                {
                    continue;
                }

                ref var rec = ref state.Networks[e];
                trained[e] = true;
                losses[e] = loss[e];
                rec.LastLoss = loss[e];
                if (!float.IsFinite(loss[e]) || !float.IsFinite(norms[e]))
                {
                    rec.Status = NetworkStatus.Diverged;
                    continue;
                }

                if (rec.SinceThreshold < 0 && loss[e] < threshold)
                {
                    rec.SinceThreshold = 0;
                }

                if (rec.SinceThreshold >= 0)
                {
                    if (rec.SinceThreshold >= options.Patience)
                    {
                        rec.Status = NetworkStatus.Converged;
                        continue;
                    }

                    rec.SinceThreshold++;
                }

                rec.Epochs++;
                float scale = 1f;
                if (options.ClipNorm > 0)
                {
                    double norm = Math.Sqrt(norms[e]);
                    scale = norm > options.ClipNorm ? (float)(options.ClipNorm / norm) : 1f;
                }

                coefficients[e] = AdamMath.Coefficients((float)lrs[e], rec.Epochs, scale);
            }

            runner.AdamStep(coefficients);
            state.Epoch = epoch + 1;
            dirty = true;
            if (state.Epoch >= options.MaxEpochs)
            {
                for (int e = 0; e < networks; e++)
                {
                    if (state.Networks[e].Status == NetworkStatus.Training)
                    {
                        state.Networks[e].Status = NetworkStatus.NotConverged;
                    }
                }
            }

            int training = 0, converged = 0, diverged = 0;
            foreach (var n in state.Networks)
            {
                training += n.Status == NetworkStatus.Training ? 1 : 0;
                converged += n.Status == NetworkStatus.Converged ? 1 : 0;
                diverged += n.Status == NetworkStatus.Diverged ? 1 : 0;
            }

            onEpoch?.Invoke(new EpochReport(state.Epoch, losses, trained, lrs, training, converged, diverged, clock.Elapsed, state.Epoch - startEpoch));
            if (state.Epoch % options.CheckpointEvery == 0)
            {
                Snapshot(runner, state);
                onCheckpoint?.Invoke(state);
                dirty = false;
            }
        }

        Snapshot(runner, state);
        if (dirty)
        {
            onCheckpoint?.Invoke(state);
        }

        return state;
    }

    /// <summary>Draws the epoch's trials (and noise) for every active network from its own seed.</summary>
    public static void FillBatch(ITrialTask task, IReadOnlyList<long> seeds, int epoch, TrialBatch batch, ReadOnlySpan<byte> active)
    {
        int bt = batch.Trials * batch.Steps;
        int inSize = bt * batch.InputSize, outSize = bt * batch.OutputSize;
        int noiseSize = batch.Noise.Length / Math.Max(1, seeds.Count);
        var act = active.ToArray();
        Parallel.For(0, seeds.Count, e =>
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

    private static void Snapshot(IEnsembleRunner runner, TrainingState state)
    {
        runner.GetParameters(state.Ensemble.Parameters);
        runner.GetOptimizerState(state.FirstMoment, state.SecondMoment);
    }
}
