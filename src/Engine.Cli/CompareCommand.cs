using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Engine.Backends;
using Engine.Distances;
using Engine.IO;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Cli;

/// <summary><c>compare DIR --metric cka|shape|dsa|pif|behavior</c>: one E × E distance matrix, its summary and heatmap.</summary>
internal static class CompareCommand
{
    public static readonly string[] Metrics = ["cka", "shape", "dsa", "pif", "behavior"];

    public static Command Create()
    {
        var dir = new Argument<DirectoryInfo>("dir") { Description = "Run directory with checkpoint.rnn." };
        var metric = new Option<string>("--metric") { Description = "cka, shape, dsa, pif or behavior.", Required = true };
        var o = new DistanceOptions();
        var cmd = new Command("compare", "Pairwise distances between the networks of a run; writes METRIC.npy, METRIC.csv, METRIC_summary.json and METRIC_heatmap.png.")
        {
            dir, metric,
        };
        o.AddTo(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            string m = r.GetValue(metric)!.ToLowerInvariant();
            if (!Metrics.Contains(m))
            {
                throw new ArgumentException($"Unknown metric '{m}'; expected one of {string.Join(", ", Metrics)}.", "--metric");
            }

            using var ctx = DistanceContext.Open(r.GetValue(dir)!.FullName, o.Read(r));
            ctx.Compare(m);
            ctx.Commit();
            return 0;
        }));
        return cmd;
    }
}

/// <summary>The options shared by <c>compare</c> and <c>degeneracy</c>.</summary>
internal sealed class DistanceOptions
{
    private readonly Option<double> _alpha = new("--alpha") { Description = "Shape metric: partial whitening α in [0, 1] (1 Procrustes, 0 CCA-like; default 1).", DefaultValueFactory = _ => 1.0 };
    private readonly Option<int> _rank = new("--rank") { Description = "DSA: SVD rank r of the delay embedding (default 10).", DefaultValueFactory = _ => 10 };
    private readonly Option<int> _delays = new("--delays") { Description = "DSA: number of delays (default 10).", DefaultValueFactory = _ => 10 };
    private readonly Option<int> _interval = new("--delay-interval") { Description = "DSA: steps between delays (default 1).", DefaultValueFactory = _ => 1 };
    private readonly Option<double> _ridge = new("--ridge") { Description = "DSA: ridge λ of the operator regression (default 0).", DefaultValueFactory = _ => 0.0 };
    private readonly Option<int> _iterations = new("--iterations") { Description = "DSA: Adam iterations per pair (default 1500).", DefaultValueFactory = _ => 1500 };
    private readonly Option<double> _lr = new("--lr") { Description = "DSA: Adam learning rate (default 5e-3).", DefaultValueFactory = _ => 5e-3 };
    private readonly Option<string> _score = new("--score") { Description = "DSA score in the matrix: angular, euclidean or wasserstein (default angular).", DefaultValueFactory = _ => "angular" };
    private readonly Option<int?> _trials = new("--trials") { Description = "Probe trials (default 32; behaviour: OOD trials, default 64)." };
    private readonly Option<int?> _steps = new("--steps") { Description = "Steps per probe trial (default: the training length)." };
    private readonly Option<long> _seed = new("--seed") { Description = "Seed of the probe trials (default 12345, as eval).", DefaultValueFactory = _ => 12345 };
    private readonly Option<string> _backend = new("--backend") { Description = "Backend that runs the networks and the distance kernels: auto, cpu, reference (the float64 oracle, slow), ilgpu-cpu, cuda, opencl (default auto).", DefaultValueFactory = _ => "auto" };
    private readonly Option<int> _threads = new("--threads") { Description = "Threads of the cpu backend (default 0: all cores).", DefaultValueFactory = _ => 0 };
    private readonly Option<bool> _all = new("--all") { Description = "Include networks that did not converge (default: converged only)." };
    private readonly Option<string?> _out = new("--out") { Description = "Output folder (default DIR/distances)." };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { _alpha, _rank, _delays, _interval, _ridge, _iterations, _lr, _score, _trials, _steps, _seed, _backend, _threads, _all, _out })
        {
            cmd.Options.Add(o);
        }
    }

    public Values Read(ParseResult r) => new(r.GetValue(_alpha), new DsaOptions
    {
        Rank = r.GetValue(_rank),
        Delays = r.GetValue(_delays),
        DelayInterval = r.GetValue(_interval),
        Ridge = r.GetValue(_ridge),
        Iterations = r.GetValue(_iterations),
        LearningRate = r.GetValue(_lr),
    }, r.GetValue(_score)!.ToLowerInvariant(), r.GetValue(_trials), r.GetValue(_steps), r.GetValue(_seed), r.GetValue(_backend)!, r.GetValue(_threads), r.GetValue(_all), r.GetValue(_out));

    public sealed record Values(double Alpha, DsaOptions Dsa, string Score, int? Trials, int? Steps, long Seed, string Backend, int Threads, bool All, string? Out)
    {
        /// <summary>Throws an error naming the first option out of range, its range and its value.</summary>
        public void Validate()
        {
            if (Trials is { } trials)
            {
                Guard.AtLeast(trials, 1, "--trials");
            }

            if (Steps is { } steps)
            {
                Guard.AtLeast(steps, 1, "--steps");
            }

            if (Threads < 0)
            {
                throw new ArgumentOutOfRangeException("--threads", Threads, $"--threads must be at least 0 (0: all cores), got {Threads}.");
            }
        }
    }
}

/// <summary>A loaded run, its selected networks and where results go; computes and writes one metric at a time.</summary>
internal sealed class DistanceContext : IDisposable
{
    private readonly IEnsembleBackend _backend;
    private readonly OutputStage _stage;
    private StateSet? _states;

    private DistanceContext(string dir, DistanceOptions.Values options, TrainingState state, ITrialTask task, IEnsembleBackend backend, int[] selected, int[] skipped)
    {
        Dir = dir;
        Options = options;
        State = state;
        Task = task;
        _backend = backend;
        Selected = selected;
        Skipped = skipped;
        OutDir = Path.GetFullPath(options.Out ?? Path.Combine(dir, "distances"));
        _stage = new OutputStage(OutDir);
    }

    public string Dir { get; }

    public string OutDir { get; }

    public DistanceOptions.Values Options { get; }

    public TrainingState State { get; }

    public ITrialTask Task { get; }

    public int[] Selected { get; }

    /// <summary>Networks left out because they diverged (non-finite parameters, or diverged in training).</summary>
    public int[] Skipped { get; }

    /// <summary>The staged path of an output file (moved into <see cref="OutDir"/> by <see cref="Commit"/>).</summary>
    public string Out(string name) => _stage.PathOf(name);

    /// <summary>Moves every staged output into <see cref="OutDir"/>: a command writes all its files or none.</summary>
    public void Commit() => _stage.Commit();

    public static DistanceContext Open(string dir, DistanceOptions.Values o)
    {
        o.Validate();
        var run = new RunDirectory(RunPaths.Existing(dir, "DIR"));
        if (!(o.Alpha >= 0 && o.Alpha <= 1))
        {
            throw new ArgumentException($"--alpha must be in [0, 1], got {o.Alpha}.", "--alpha");
        }

        if (o.Score is not ("angular" or "euclidean" or "wasserstein"))
        {
            throw new ArgumentException($"Unknown --score '{o.Score}'; expected angular, euclidean or wasserstein.", "--score");
        }

        o.Dsa.Validate();
        var state = Checkpoint.Load(run.CheckpointPath);
        var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
        var problems = Engine.Analysis.NetworkHealth.Problems(state);
        var skipped = Enumerable.Range(0, problems.Length).Where(e => problems[e] is not null).ToArray();
        foreach (int e in skipped)
        {
            Console.WriteLine(Engine.Analysis.NetworkHealth.SkipLine(e, problems[e]!));
        }

        var selected = Enumerable.Range(0, state.Ensemble.Spec.Networks)
            .Where(e => problems[e] is null && (o.All || state.Networks[e].Status == NetworkStatus.Converged)).ToArray();
        if (selected.Length == 0 && o.All)
        {
            throw new ArgumentException($"{run.Path}: every network diverged ({string.Join(", ", skipped)}); nothing to compare.", "dir");
        }

        if (selected.Length == 0)
        {
            throw new ArgumentException($"{run.Path}: no converged networks to compare (pass --all to include every network).", "dir");
        }

        var backend = BackendFactory.Create(o.Backend, o.Threads);
        Console.WriteLine($"backend: {backend.Name} ({backend.Device}); {selected.Length} of {state.Ensemble.Spec.Networks} networks ({(o.All ? "all" : "converged")})");
        return new DistanceContext(run.Path, o, state, task, backend, selected, skipped);
    }

    /// <summary>States of the selected networks on shared in-distribution probe trials (recorded once).</summary>
    public StateSet States
    {
        get
        {
            if (_states is null)
            {
                int steps = Options.Steps ?? State.Options.StepsFor(Task);
                int trials = Options.Trials ?? 32;
                _states = StateSet.Record(_backend, State.Ensemble, Task, trials, steps, Options.Seed, Selected);
                Console.WriteLine($"recorded states: {trials} trials × {steps} steps × {State.Ensemble.Spec.Hidden} units per network");
            }

            return _states;
        }
    }

    /// <summary>Computes, writes and prints one metric; returns the matrix and its level's degeneracy value.</summary>
    public (PairwiseMatrix Matrix, double Degeneracy) Compare(string metric)
    {
        var clock = Stopwatch.StartNew();
        var progress = Progress(metric);
        PairwiseMatrix m;
        double degeneracy;
        string level;
        object? extra = null;
        switch (metric)
        {
            case "cka":
                m = Cka.Compute(_backend, States, progress);
                (degeneracy, level) = (m.Mean(), "representational (mean arccos CKA)");
                break;
            case "shape":
                m = ShapeMetric.Compute(_backend, States, Options.Alpha, progress);
                (degeneracy, level) = (m.Mean(), "representational (mean shape distance)");
                extra = new { alpha = Options.Alpha };
                break;
            case "dsa":
            {
                var r = Dsa.Compute(_backend, States, Options.Dsa, progress);
                m = Options.Score switch { "euclidean" => r.Euclidean, "wasserstein" => r.Wasserstein, _ => r.Angular };
                (degeneracy, level) = (m.Mean(), $"dynamical (mean DSA, {Options.Score})");
                extra = new
                {
                    score = Options.Score,
                    rank = Options.Dsa.Rank,
                    delays = Options.Dsa.Delays,
                    delay_interval = Options.Dsa.DelayInterval,
                    ridge = Options.Dsa.Ridge,
                    iterations = Options.Dsa.Iterations,
                    learning_rate = Options.Dsa.LearningRate,
                    mean_angular = r.Angular.Mean(),
                    mean_euclidean = r.Euclidean.Mean(),
                    mean_wasserstein = r.Wasserstein.Mean(),
                };
                r.Angular.WriteNpy(Out("dsa_angular.npy"));
                r.Euclidean.WriteNpy(Out("dsa_euclidean.npy"));
                r.Wasserstein.WriteNpy(Out("dsa_wasserstein.npy"));
                break;
            }

            case "pif":
            {
                var perms = new int[Selected.Length * (Selected.Length - 1) / 2][];
                m = WeightDistance.Matrix(_backend, State.Ensemble, Selected, permutations: perms, progress: progress);
                (degeneracy, level) = (m.Mean(), "weight (mean d_PIF)");
                WritePermutations(perms, State.Ensemble.Spec.Hidden);
                break;
            }

            case "behavior":
            {
                int trials = Options.Trials ?? 64;
                var r = Behavior.Compute(_backend, State, Task, trials, Options.Seed, Selected);
                m = r.Distances;
                (degeneracy, level) = (r.Evaluation.SigmaOod, "behavioural (sigma_OOD over converged networks)");
                extra = new
                {
                    trials,
                    ood_steps = r.Evaluation.OodSteps,
                    converged = r.Evaluation.Converged,
                    ood_mse = Selected.Select(e => r.Evaluation.OodMse[e]).ToArray(),
                    mean_ood_mse = Selected.Average(e => r.Evaluation.OodMse[e]),
                };
                break;
            }

            default:
                throw new ArgumentException($"Unknown metric '{metric}'.", "--metric");
        }

        Write(m, metric, degeneracy, level, extra, clock.Elapsed.TotalSeconds);
        return (m, degeneracy);
    }

    private void WritePermutations(int[][] perms, int n)
    {
        int e = Selected.Length;
        var data = new float[e * e * n];
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

        Npy.Write(Out("pif_permutations.npy"), data, e, e, n);
    }

    private void Write(PairwiseMatrix m, string metric, double degeneracy, string level, object? extra, double seconds)
    {
        string name = m.Metric;
        m.WriteNpy(Out($"{name}.npy"));
        m.WriteCsv(Out($"{name}.csv"));
        var values = m.PairValues();
        var summary = new
        {
            metric = name,
            run = Dir,
            task = Task.Name,
            networks = m.Size,
            ids = m.Ids,
            diverged = Skipped,
            pairs = values.Length,
            mean = m.Mean(),
            spread = m.Spread(),
            min = values.Length > 0 ? values.Min() : (double?)null,
            max = values.Length > 0 ? values.Max() : (double?)null,
            degeneracy = new { level, value = degeneracy },
            options = extra,
            seconds,
        };
        JsonOutput.Write(Out($"{name}_summary.json"), summary);
        DistanceFigures.Heatmap(m, Out($"{name}_heatmap.png"), $"{metric}: {m.Size} networks, mean {m.Mean():G3}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {m.Size} networks, {values.Length} pairs, mean {m.Mean():G4}, spread {m.Spread():G4}; {level} = {degeneracy:G4} ({seconds:F2} s); wrote {name}.npy/.csv, {name}_summary.json, {name}_heatmap.png to {OutDir}"));
    }

    private static Action<int, int> Progress(string metric)
    {
        var since = Stopwatch.StartNew();
        var gate = new object();
        return (done, total) =>
        {
            lock (gate)
            {
                if (since.Elapsed.TotalSeconds >= 1 && done < total)
                {
                    since.Restart();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{metric}: {done}/{total} pairs ({100.0 * done / total:F0}%)"));
                }
            }
        };
    }

    public void Dispose()
    {
        _stage.Dispose();
        _backend.Dispose();
    }
}
