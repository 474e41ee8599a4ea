using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Engine.Analysis;
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
            if (!RunComparison.Metrics.Contains(m))
            {
                throw new ArgumentException($"Unknown metric '{m}'; expected one of {string.Join(", ", RunComparison.Metrics)}.", "--metric");
            }

            using var ctx = DistanceContext.Open(r.GetValue(dir)!.FullName, o, r);
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
    private readonly Option<string> _optimizer = new("--dsa-optimizer") { Description = "DSA alignment: optimal (multi-start Riemannian ascent that reaches the optimum) or published (Adam on a Cayley parameter from the identity, as the DSA package; default optimal).", DefaultValueFactory = _ => "optimal" };
    private readonly Option<int> _iterations = new("--iterations") { Description = "DSA, published optimiser: Adam iterations per pair (default 1500).", DefaultValueFactory = _ => 1500 };
    private readonly Option<double> _lr = new("--lr") { Description = "DSA, published optimiser: Adam learning rate (default 5e-3).", DefaultValueFactory = _ => 5e-3 };
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
        foreach (var o in new Option[] { _alpha, _rank, _delays, _interval, _ridge, _optimizer, _iterations, _lr, _score, _trials, _steps, _seed, _backend, _threads, _all, _out })
        {
            cmd.Options.Add(o);
        }
    }

    public ComparisonOptions Read(ParseResult r) => new()
    {
        Alpha = r.GetValue(_alpha),
        Dsa = new DsaOptions
        {
            Rank = r.GetValue(_rank),
            Delays = r.GetValue(_delays),
            DelayInterval = r.GetValue(_interval),
            Ridge = r.GetValue(_ridge),
            Iterations = r.GetValue(_iterations),
            LearningRate = r.GetValue(_lr),
            Optimizer = DsaOptions.ParseOptimizer(r.GetValue(_optimizer)!, "--dsa-optimizer"),
        },
        Score = r.GetValue(_score)!.ToLowerInvariant(),
        Trials = r.GetValue(_trials),
        Steps = r.GetValue(_steps),
        Seed = r.GetValue(_seed),
        All = r.GetValue(_all),
    };

    public string Backend(ParseResult r) => r.GetValue(_backend)!;

    public int Threads(ParseResult r)
    {
        int threads = r.GetValue(_threads);
        if (threads < 0)
        {
            throw new ArgumentOutOfRangeException("--threads", threads, $"--threads must be at least 0 (0: all cores), got {threads}.");
        }

        return threads;
    }

    public string? Out(ParseResult r) => r.GetValue(_out);
}

/// <summary>The CLI's side of a comparison: the run directory, the backend, printing, and a staging folder so a command writes all its files or none.</summary>
internal sealed class DistanceContext : IDisposable
{
    private readonly IEnsembleBackend _backend;
    private readonly OutputStage _stage;

    private DistanceContext(string dir, string outDir, RunComparison comparison, IEnsembleBackend backend)
    {
        Dir = dir;
        OutDir = outDir;
        Comparison = comparison;
        _backend = backend;
        _stage = new OutputStage(OutDir);
    }

    public string Dir { get; }

    public string OutDir { get; }

    public RunComparison Comparison { get; }

    /// <summary>The staged path of an output file (moved into <see cref="OutDir"/> by <see cref="Commit"/>).</summary>
    public string Out(string name) => _stage.PathOf(name);

    /// <summary>Moves every staged output into <see cref="OutDir"/>: a command writes all its files or none.</summary>
    public void Commit() => _stage.Commit();

    public static DistanceContext Open(string dir, DistanceOptions o, ParseResult r)
    {
        var options = o.Read(r).Validate();
        int threads = o.Threads(r);
        var run = new RunDirectory(RunPaths.Existing(dir, "DIR"));
        var state = Checkpoint.Load(run.CheckpointPath);
        var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
        var backend = BackendFactory.Create(o.Backend(r), threads);
        try
        {
            var comparison = new RunComparison(backend, state, task, options, run.Path) { Log = Console.WriteLine };
            foreach (int e in comparison.Skipped)
            {
                Console.WriteLine(NetworkHealth.SkipLine(e, comparison.Problems[e]!));
            }

            Console.WriteLine($"backend: {backend.Name} ({backend.Device}); {comparison.Selected.Length} of {state.Ensemble.Spec.Networks} networks ({(options.All ? "all" : "converged")})");
            return new DistanceContext(run.Path, Path.GetFullPath(o.Out(r) ?? Path.Combine(run.Path, "distances")), comparison, backend);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Computes, writes and prints one metric; returns the result.</summary>
    public ComparisonResult Compare(string metric)
    {
        var result = Comparison.Compute(metric, Progress(metric));
        Comparison.Write(result, metric, Out, Dir);
        var m = result.Matrix;
        string name = m.Metric;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {m.Size} networks, {m.PairValues().Length} pairs, mean {m.Mean():G4}, spread {m.Spread():G4}; {result.Level} = {result.Degeneracy:G4} ({result.Seconds:F2} s); wrote {name}.npy/.csv, {name}_summary.json, {name}_heatmap.png to {OutDir}"));
        return result;
    }

    public static Action<int, int> Progress(string metric)
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
