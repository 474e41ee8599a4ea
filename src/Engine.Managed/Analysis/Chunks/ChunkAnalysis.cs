using System.Diagnostics;
using System.Globalization;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;

namespace Engine.Analysis.Chunks;

/// <summary>Chunks of one network: the extraction, its alignment with the task's latent variable, grafting and timing.</summary>
/// <param name="Network">The network's id (index in the run).</param>
/// <param name="Chunks">What the method read off its states.</param>
/// <param name="Nmi">Normalised mutual information between chunk labels and the latent labels (steps where both are defined); null without latents.</param>
/// <param name="NmiExplained">The same NMI over the explained steps only (DSC: the recurring states, leaving out the one-off transients).</param>
/// <param name="ChunkLatent">Per chunk, the latent value most of its steps carry (−1: none).</param>
/// <param name="Graft">Grafting, when the network was run (null for bare states).</param>
/// <param name="Seconds">Wall time of the extraction.</param>
public sealed record NetworkChunks(int Network, ChunkExtraction Chunks, double? Nmi, double? NmiExplained, int[] ChunkLatent, GraftResult? Graft, double Seconds);

/// <summary>A chunk analysis of a run: every selected network's chunks on shared probe trials.</summary>
/// <param name="Task">The task.</param>
/// <param name="Options">The settings used.</param>
/// <param name="Trials">B.</param>
/// <param name="Steps">T.</param>
/// <param name="Latents">The latent label of every step [B·T] (−1: undefined).</param>
/// <param name="Networks">Per network.</param>
public sealed record ChunkReport(ITrialTask Task, ChunkOptions Options, int Trials, int Steps, int[] Latents, IReadOnlyList<NetworkChunks> Networks);

/// <summary>Neural chunking (SEEDS §2) on recorded states: DSC, PA or UCD, alignment with latent variables (NMI) and grafting.</summary>
public static class ChunkAnalysis
{
    /// <summary>The fewest recorded steps (trials × steps) an extraction accepts.</summary>
    public const int MinimumSamples = 20;

    /// <summary>Reads chunks off one network's states [trials·steps][width].</summary>
    /// <param name="states">States [S][N], S = trials·steps, sample s = b·T + t.</param>
    /// <param name="trials">B.</param>
    /// <param name="steps">T.</param>
    /// <param name="width">N.</param>
    /// <param name="latents">Labels [S] (−1: undefined), required by PA; null when the task has none.</param>
    /// <param name="latentCount">L, labels in 0 … L − 1.</param>
    /// <param name="options">Method and settings.</param>
    /// <param name="latentName">Names latent values (PA's chunk names).</param>
    /// <exception cref="ArgumentException">Too few steps, mismatched shapes, non-finite states, or PA without labels.</exception>
    public static ChunkExtraction Extract(ReadOnlySpan<float> states, int trials, int steps, int width, int[]? latents, int latentCount, ChunkOptions options,
        Func<int, string>? latentName = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Util.Guard.AtLeast(trials, 1, nameof(trials));
        Util.Guard.AtLeast(steps, 1, nameof(steps));
        Util.Guard.AtLeast(width, 1, nameof(width));
        long samples = (long)trials * steps;
        if (samples < MinimumSamples)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Chunk extraction needs at least {MinimumSamples} recorded steps (trials × steps), got {samples} ({trials} × {steps}): record longer or more trials."), nameof(steps));
        }

        Util.Guard.Length(states.Length, samples * width, nameof(states), $"[S={samples}][N={width}]");
        Util.Guard.Finite(states, nameof(states));
        if (latents is not null)
        {
            Util.Guard.Length(latents.Length, samples, nameof(latents), $"[S={samples}]");
        }

        switch (options.Method)
        {
            case ChunkMethod.Dsc:
                return DiscreteSequenceChunking.Run(states, trials, steps, width, options);
            case ChunkMethod.Pa:
                if (latents is null || latentCount < 1)
                {
                    throw new ArgumentException("Method 'pa' (population averaging) needs latent labels, and none were given (the task has none): use --method dsc or ucd, or a task with labels (flipflop, sequence-chunks).", nameof(latents));
                }

                return PopulationAveraging.Run(states, width, latents, latentCount, options, latentName);
            default:
                return UnsupervisedChunkDiscovery.Run(states, width, options);
        }
    }

    /// <summary>
    /// Normalised mutual information 2 I(X; Y) / (H(X) + H(Y)) (the arithmetic-mean normalisation) over the pairs where both
    /// labels are ≥ 0; 1 when both are constant, 0 when nothing is paired.
    /// </summary>
    public static double Nmi(ReadOnlySpan<int> x, ReadOnlySpan<int> y)
    {
        Util.Guard.Length(y.Length, x.Length, nameof(y), $"[{x.Length}]");
        var joint = new Dictionary<(int, int), int>();
        var px = new Dictionary<int, int>();
        var py = new Dictionary<int, int>();
        int n = 0;
        for (int s = 0; s < x.Length; s++)
        {
            if (x[s] < 0 || y[s] < 0)
            {
                continue;
            }

            n++;
            joint[(x[s], y[s])] = joint.GetValueOrDefault((x[s], y[s])) + 1;
            px[x[s]] = px.GetValueOrDefault(x[s]) + 1;
            py[y[s]] = py.GetValueOrDefault(y[s]) + 1;
        }

        if (n == 0)
        {
            return 0;
        }

        double H(Dictionary<int, int> p) => -p.Values.Sum(c => (double)c / n * Math.Log((double)c / n));
        double hx = H(px), hy = H(py);
        if (hx + hy <= 0)
        {
            return 1;
        }

        double mi = joint.Sum(kv => (double)kv.Value / n * Math.Log((double)kv.Value * n / ((double)px[kv.Key.Item1] * py[kv.Key.Item2])));
        return Math.Clamp(2 * mi / (hx + hy), 0, 1);
    }

    /// <summary>The latent value most steps of each chunk carry [C] (−1 when none of its steps is labelled).</summary>
    public static int[] MajorityLatent(ChunkExtraction chunks, ReadOnlySpan<int> latents)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var votes = new Dictionary<int, int>[chunks.Count];
        for (int c = 0; c < votes.Length; c++)
        {
            votes[c] = [];
        }

        for (int s = 0; s < latents.Length; s++)
        {
            int c = chunks.Labels[s];
            if (c >= 0 && latents[s] >= 0)
            {
                votes[c][latents[s]] = votes[c].GetValueOrDefault(latents[s]) + 1;
            }
        }

        return votes.Select(v => v.Count == 0 ? -1 : v.MaxBy(kv => kv.Value).Key).ToArray();
    }

    /// <summary>
    /// Runs the selected networks on <paramref name="trials"/> shared probe trials of the task, reads chunks off each
    /// network's states, scores them against the task's latent labels (NMI) and grafts their prototypes.
    /// </summary>
    /// <param name="backend">Runs the forward pass.</param>
    /// <param name="ensemble">The trained ensemble.</param>
    /// <param name="task">Its task; must carry latent labels (<see cref="ILatentTask"/>).</param>
    /// <param name="trials">B, probe trials.</param>
    /// <param name="steps">T, steps per trial.</param>
    /// <param name="seed">Seed of the probe trials.</param>
    /// <param name="options">Method and settings.</param>
    /// <param name="select">Networks to analyse (default all).</param>
    /// <exception cref="ArgumentException">A task without latent labels, too few steps, or a bad setting.</exception>
    public static ChunkReport Run(IEnsembleBackend backend, Ensemble ensemble, ITrialTask task, int trials, int steps, long seed, ChunkOptions options,
        IReadOnlyList<int>? select = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(ensemble);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (task is not ILatentTask latent)
        {
            throw new ArgumentException($"Task '{task.Name}' has no latent labels to align chunks with; chunk analysis of a run supports the tasks flipflop and sequence-chunks.", nameof(task));
        }

        if ((long)trials * steps < MinimumSamples || steps < Math.Max(2, task.MinimumSteps))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Chunk extraction needs at least {MinimumSamples} recorded steps (trials × steps) and trials of at least {Math.Max(2, task.MinimumSteps)} steps, got {trials} × {steps}."), nameof(steps));
        }

        var spec = ensemble.Spec;
        var chosen = select ?? Enumerable.Range(0, spec.Networks).ToArray();
        foreach (int e in chosen)
        {
            if (e < 0 || e >= spec.Networks)
            {
                throw new ArgumentOutOfRangeException(nameof(select), e, $"Network {e} is not in the ensemble of {spec.Networks}.");
            }
        }

        var batch = Evaluation.SharedTrials(ensemble, task, trials, steps, seed);
        var (outputs, states) = ensemble.Run(backend, batch);
        int samples = trials * steps;
        var latents = new int[samples];
        latent.Latents(batch.Inputs, batch.Targets, trials, steps, latents);
        int perState = samples * spec.Hidden, perOut = samples * spec.Outputs;
        var networks = new NetworkChunks[chosen.Count];
        // Networks are independent: one per host thread of the backend.
        Parallel.For(0, chosen.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, backend.Threads) }, k =>
        {
            int e = chosen[k];
            var sw = Stopwatch.StartNew();
            var x = Extract(states.AsSpan(e * perState, perState), trials, steps, spec.Hidden, latents, latent.LatentCount, options, latent.LatentLabel);
            double seconds = sw.Elapsed.TotalSeconds;
            var graft = ChunkGrafting.Run(spec, ensemble.Parameters, e, batch.Inputs, outputs.AsSpan(e * perOut, perOut), trials, steps, x, latent, options);
            var explained = x.Labels.Select((l, s) => x.Explained[s] ? l : -1).ToArray();
            networks[k] = new NetworkChunks(e, x, Nmi(x.Labels, latents), Nmi(explained, latents), MajorityLatent(x, latents), graft, seconds);
        });

        return new ChunkReport(task, options, trials, steps, latents, networks);
    }
}
