using System.Diagnostics;
using Engine.Analysis;
using Engine.Backends;
using Engine.IO;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Distances;

/// <summary>How a run's networks are compared: the metrics' settings and the probe trials.</summary>
public sealed record ComparisonOptions
{
    /// <summary>The shape metric's partial whitening α ∈ [0, 1] (1 Procrustes, 0 CCA-like; default 1).</summary>
    public double Alpha { get; init; } = 1.0;

    /// <summary>DSA's settings (defaults: rank 10, 10 delays, 1500 Adam iterations at 5e-3).</summary>
    public DsaOptions Dsa { get; init; } = new();

    /// <summary>DSA's score in the matrix: angular, euclidean or wasserstein (default angular).</summary>
    public string Score { get; init; } = "angular";

    /// <summary>Probe trials (default 32; behaviour: OOD trials, default 64).</summary>
    public int? Trials { get; init; }

    /// <summary>Steps per probe trial (default: the training length).</summary>
    public int? Steps { get; init; }

    /// <summary>Seed of the probe trials (default 12345, as evaluation).</summary>
    public long Seed { get; init; } = 12345;

    /// <summary>Include networks that did not converge (default: converged only; diverged ones never).</summary>
    public bool All { get; init; }

    /// <summary>Throws an error naming the first setting out of range, its range and its value.</summary>
    public ComparisonOptions Validate()
    {
        if (Trials is { } trials)
        {
            Guard.AtLeast(trials, 1, "--trials");
        }

        if (Steps is { } steps)
        {
            Guard.AtLeast(steps, 1, "--steps");
        }

        if (!(Alpha >= 0 && Alpha <= 1))
        {
            throw new ArgumentException($"--alpha must be in [0, 1], got {Alpha}.", "--alpha");
        }

        if (Score is not ("angular" or "euclidean" or "wasserstein"))
        {
            throw new ArgumentException($"Unknown --score '{Score}'; expected angular, euclidean or wasserstein.", "--score");
        }

        ArgumentNullException.ThrowIfNull(Dsa);
        Dsa.Validate();
        return this;
    }
}

/// <summary>One metric of a comparison: the matrix, its level's degeneracy value, and what else a reader needs.</summary>
/// <param name="Matrix">E × E distances between the selected networks.</param>
/// <param name="Degeneracy">The level's degeneracy value (mean distance; behaviour: σ_OOD).</param>
/// <param name="Level">What the value is, in words.</param>
/// <param name="Settings">The metric's settings and extra figures for its summary (null: none).</param>
/// <param name="Dsa">DSA's three matrices (DSA only).</param>
/// <param name="Permutations">d_PIF's permutation of each pair i &lt; j (d_PIF only).</param>
/// <param name="Seconds">Wall time.</param>
public sealed record ComparisonResult(PairwiseMatrix Matrix, double Degeneracy, string Level, object? Settings, DsaResult? Dsa, int[][]? Permutations, double Seconds);

/// <summary>The three levels of degeneracy of a run (Huang et al. 2025): behaviour, dynamics, weights.</summary>
/// <param name="Behavior">Pairwise output RMS on OOD trials; its degeneracy is σ_OOD.</param>
/// <param name="Dynamics">DSA.</param>
/// <param name="Weights">d_PIF.</param>
public sealed record DegeneracyResult(ComparisonResult Behavior, ComparisonResult Dynamics, ComparisonResult Weights);

/// <summary>
/// A run's networks compared: the protocol behind <c>compare</c> and <c>degeneracy</c>, for any .NET caller. It selects the
/// networks (converged ones, or all with <see cref="ComparisonOptions.All"/>; diverged ones never), records their states once on
/// shared probe trials, computes a metric on the backend it was given, and writes the matrices, summaries and heatmaps.
/// </summary>
public sealed class RunComparison
{
    /// <summary>The metrics by name.</summary>
    public static IReadOnlyList<string> Metrics { get; } = ["cka", "shape", "dsa", "pif", "behavior"];

    private readonly IEnsembleBackend _backend;
    private StateSet? _states;

    /// <summary>Validates the options and selects the networks to compare.</summary>
    /// <param name="backend">Runs the networks and the distance kernels (owned by the caller).</param>
    /// <param name="state">The trained run.</param>
    /// <param name="task">Its task (probe and OOD trials).</param>
    /// <param name="options">The settings.</param>
    /// <param name="where">The run in words, for errors (its folder).</param>
    /// <exception cref="ArgumentException">An option out of range, or no network to compare.</exception>
    public RunComparison(IEnsembleBackend backend, TrainingState state, ITrialTask task, ComparisonOptions options, string where = "the run")
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validate();
        _backend = backend;
        State = state;
        Task = task;
        Problems = NetworkHealth.Problems(state);
        Skipped = Enumerable.Range(0, Problems.Count).Where(e => Problems[e] is not null).ToArray();
        Selected = Enumerable.Range(0, state.Ensemble.Spec.Networks)
            .Where(e => Problems[e] is null && (options.All || state.Networks[e].Status == NetworkStatus.Converged)).ToArray();
        if (Selected.Length == 0 && options.All)
        {
            throw new ArgumentException($"{where}: every network diverged ({string.Join(", ", Skipped)}); nothing to compare.", "dir");
        }

        if (Selected.Length == 0)
        {
            throw new ArgumentException($"{where}: no converged networks to compare (pass --all to include every network).", "dir");
        }
    }

    /// <summary>The run.</summary>
    public TrainingState State { get; }

    /// <summary>Its task.</summary>
    public ITrialTask Task { get; }

    /// <summary>The settings.</summary>
    public ComparisonOptions Options { get; }

    /// <summary>Why each network is left out as diverged (null: healthy), per network of the run.</summary>
    public IReadOnlyList<string?> Problems { get; }

    /// <summary>The networks compared (run indices).</summary>
    public int[] Selected { get; }

    /// <summary>Networks left out because they diverged (non-finite parameters, or diverged in training).</summary>
    public int[] Skipped { get; }

    /// <summary>Called with a line when the probe states are recorded.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>States of the selected networks on shared in-distribution probe trials (recorded once, on first use).</summary>
    public StateSet States
    {
        get
        {
            if (_states is null)
            {
                int steps = Options.Steps ?? State.Options.StepsFor(Task);
                int trials = Options.Trials ?? 32;
                _states = StateSet.Record(_backend, State.Ensemble, Task, trials, steps, Options.Seed, Selected);
                Log?.Invoke($"recorded states: {trials} trials × {steps} steps × {State.Ensemble.Spec.Hidden} units per network");
            }

            return _states;
        }
    }

    /// <summary>Computes one metric (see <see cref="Metrics"/>) between the selected networks.</summary>
    /// <exception cref="ArgumentException">An unknown metric.</exception>
    public ComparisonResult Compute(string metric, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(metric);
        var clock = Stopwatch.StartNew();
        switch (metric)
        {
            case "cka":
            {
                var m = Cka.Compute(_backend, States, progress);
                return new ComparisonResult(m, m.Mean(), "representational (mean arccos CKA)", null, null, null, clock.Elapsed.TotalSeconds);
            }

            case "shape":
            {
                var m = ShapeMetric.Compute(_backend, States, Options.Alpha, progress);
                return new ComparisonResult(m, m.Mean(), "representational (mean shape distance)", new { alpha = Options.Alpha }, null, null, clock.Elapsed.TotalSeconds);
            }

            case "dsa":
            {
                var r = Dsa.Compute(_backend, States, Options.Dsa, progress);
                var m = Options.Score switch { "euclidean" => r.Euclidean, "wasserstein" => r.Wasserstein, _ => r.Angular };
                var settings = new
                {
                    score = Options.Score,
                    optimizer = r.Optimizer,
                    rank = Options.Dsa.Rank,
                    delays = Options.Dsa.Delays,
                    delay_interval = Options.Dsa.DelayInterval,
                    ridge = Options.Dsa.Ridge,
                    iterations = Options.Dsa.Optimizer == DsaOptimizer.Published ? Options.Dsa.Iterations : (int?)null,
                    learning_rate = Options.Dsa.Optimizer == DsaOptimizer.Published ? Options.Dsa.LearningRate : (double?)null,
                    random_starts = Options.Dsa.Optimizer == DsaOptimizer.Optimal ? Options.Dsa.RandomStarts : (int?)null,
                    max_steps = Options.Dsa.Optimizer == DsaOptimizer.Optimal ? Options.Dsa.MaxSteps : (int?)null,
                    mean_angular = r.Angular.Mean(),
                    mean_euclidean = r.Euclidean.Mean(),
                    mean_wasserstein = r.Wasserstein.Mean(),
                };
                return new ComparisonResult(m, m.Mean(), $"dynamical (mean DSA, {Options.Score}, {r.Optimizer} alignment)", settings, r, null, clock.Elapsed.TotalSeconds);
            }

            case "pif":
            {
                var perms = new int[Selected.Length * (Selected.Length - 1) / 2][];
                var m = WeightDistance.Matrix(_backend, State.Ensemble, Selected, permutations: perms, progress: progress);
                return new ComparisonResult(m, m.Mean(), "weight (mean d_PIF)", null, null, perms, clock.Elapsed.TotalSeconds);
            }

            case "behavior":
            {
                int trials = Options.Trials ?? 64;
                var r = Behavior.Compute(_backend, State, Task, trials, Options.Seed, Selected);
                var settings = new
                {
                    trials,
                    ood_steps = r.Evaluation.OodSteps,
                    converged = r.Evaluation.Converged,
                    ood_mse = Selected.Select(e => r.Evaluation.OodMse[e]).ToArray(),
                    mean_ood_mse = Selected.Average(e => r.Evaluation.OodMse[e]),
                };
                return new ComparisonResult(r.Distances, r.Evaluation.SigmaOod, "behavioural (sigma_OOD over converged networks)", settings, null, null, clock.Elapsed.TotalSeconds);
            }

            default:
                throw new ArgumentException($"Unknown metric '{metric}'; expected one of {string.Join(", ", Metrics)}.", "--metric");
        }
    }

    /// <summary>The three levels of Huang et al. (2025): behaviour (σ_OOD), dynamics (mean DSA), weights (mean d_PIF).</summary>
    public DegeneracyResult Degeneracy(Func<string, Action<int, int>?>? progress = null)
        => new(Compute("behavior", progress?.Invoke("behavior")), Compute("dsa", progress?.Invoke("dsa")), Compute("pif", progress?.Invoke("pif")));

    /// <summary>
    /// Writes one metric's files: <c>NAME.npy</c> and <c>NAME.csv</c> (network ids), <c>NAME_summary.json</c> (mean, spread,
    /// the level's degeneracy value, settings) and <c>NAME_heatmap.png</c> (average-linkage order); DSA also
    /// <c>dsa_{angular,euclidean,wasserstein}.npy</c>, d_PIF <c>pif_permutations.npy</c> [E][E][N].
    /// </summary>
    /// <param name="result">What <see cref="Compute"/> returned.</param>
    /// <param name="metric">Its name (for the heatmap's title).</param>
    /// <param name="pathOf">Where a file of a given name goes (a staging folder, so a caller writes all files or none).</param>
    /// <param name="run">The run's folder, recorded in the summary.</param>
    public void Write(ComparisonResult result, string metric, Func<string, string> pathOf, string run)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(pathOf);
        var m = result.Matrix;
        string name = m.Metric;
        if (result.Dsa is { } dsa)
        {
            dsa.Angular.WriteNpy(pathOf("dsa_angular.npy"));
            dsa.Euclidean.WriteNpy(pathOf("dsa_euclidean.npy"));
            dsa.Wasserstein.WriteNpy(pathOf("dsa_wasserstein.npy"));
        }

        if (result.Permutations is { } perms)
        {
            WritePermutations(perms, State.Ensemble.Spec.Hidden, pathOf("pif_permutations.npy"));
        }

        m.WriteNpy(pathOf($"{name}.npy"));
        m.WriteCsv(pathOf($"{name}.csv"));
        var values = m.PairValues();
        var summary = new
        {
            metric = name,
            run,
            task = Task.Name,
            networks = m.Size,
            ids = m.Ids,
            diverged = Skipped,
            pairs = values.Length,
            mean = m.Mean(),
            spread = m.Spread(),
            min = values.Length > 0 ? values.Min() : (double?)null,
            max = values.Length > 0 ? values.Max() : (double?)null,
            degeneracy = new { level = result.Level, value = result.Degeneracy },
            options = result.Settings,
            seconds = result.Seconds,
        };
        JsonOutput.Write(pathOf($"{name}_summary.json"), summary);
        DistanceFigures.Heatmap(m, pathOf($"{name}_heatmap.png"), $"{metric}: {m.Size} networks, mean {m.Mean():G3}");
    }

    /// <summary>Writes <c>degeneracy.json</c>: the three levels, their spreads and the networks compared.</summary>
    public void WriteDegeneracy(DegeneracyResult result, string path, string run)
    {
        ArgumentNullException.ThrowIfNull(result);
        var json = new
        {
            run,
            task = Task.Name,
            networks = Selected.Length,
            ids = Selected,
            diverged = Skipped,
            behavioral = new { sigma_ood = result.Behavior.Degeneracy, mean_pairwise_output_rms = result.Behavior.Matrix.Mean() },
            dynamical = new { mean_dsa = result.Dynamics.Degeneracy, score = Options.Score, spread = result.Dynamics.Matrix.Spread() },
            weight = new { mean_pif = result.Weights.Degeneracy, spread = result.Weights.Matrix.Spread() },
        };
        JsonOutput.Write(path, json);
    }

    private void WritePermutations(int[][] perms, int n, string path)
    {
        int e = Selected.Length;
        var data = new long[e * e * n]; // int64, numpy's index type
        var pairs = PairwiseMatrix.Pairs(e);
        for (int i = 0; i < e; i++)
        {
            for (int k = 0; k < n; k++)
            {
                data[(i * e + i) * n + k] = k;
            }
        }

        for (int p = 0; p < pairs.Length; p++)
        {
            var (i, j) = pairs[p];
            for (int k = 0; k < n; k++)
            {
                data[(i * e + j) * n + k] = perms[p][k];
                data[(j * e + i) * n + perms[p][k]] = k;
            }
        }

        Npy.Write(path, data, e, e, n);
    }
}
