using System.CommandLine;
using System.Globalization;
using Engine.Backends;
using Engine.FixedPoints;
using Engine.IO;
using Engine.IO.Import;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;

namespace Engine.Cli;

/// <summary><c>fixed-points SOURCE</c>: the fixed points of every network of a run (or of an imported PyTorch nn.RNN); and <c>bench fixed-points</c>.</summary>
internal static class FixedPointsCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "A run directory (checkpoint.rnn), a checkpoint file, or a PyTorch nn.RNN + nn.Linear .safetensors/.npz." };
        var output = new Option<string?>("--out") { Description = "Output folder (default: SOURCE/fixed-points, or FILE.fixed-points)." };
        var backend = new Option<string>("--backend") { Description = "Backend for trajectories and the search: auto, cpu, reference, ilgpu-cpu, cuda, opencl (default auto).", DefaultValueFactory = _ => "auto" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per network (default 256).", DefaultValueFactory = _ => 256 };
        var trials = new Option<int>("--trials") { Description = "Trials recorded per network for seeds and figures (default 32).", DefaultValueFactory = _ => 32 };
        var steps = new Option<int?>("--steps") { Description = "Steps per trial (default: the training length, or 100)." };
        var noise = new Option<double>("--noise") { Description = "Std of Gaussian noise added to the seeds (default 0).", DefaultValueFactory = _ => 0 };
        var input = new Option<string?>("--input") { Description = "Constant input u as comma-separated values (default zeros)." };
        var iterations = new Option<int>("--max-iterations") { Description = "Adam iterations (default 5000).", DefaultValueFactory = _ => 5000 };
        var tolerance = new Option<double>("--tolerance") { Description = "q tolerance (default 1e-12).", DefaultValueFactory = _ => 1e-12 };
        var lr = new Option<double>("--lr") { Description = "Initial Adam learning rate (default 1.0).", DefaultValueFactory = _ => 1.0 };
        var noPolish = new Option<bool>("--no-polish") { Description = "Skip the float64 Newton/LM polish." };
        var noDedup = new Option<bool>("--no-dedup") { Description = "Keep duplicate points." };
        var noOutliers = new Option<bool>("--no-outliers") { Description = "Keep outliers." };
        var activation = new Option<string>("--activation") { Description = "Nonlinearity of an imported nn.RNN: tanh or relu (default tanh).", DefaultValueFactory = _ => "tanh" };
        var seed = new Option<long>("--seed") { Description = "Seed of trials and sampling (default 0).", DefaultValueFactory = _ => 0 };
        var rounds = new Option<int>("--rounds")
        {
            Description = $"Seeding rounds after the first search that look for saddles (interpolations between found points, noisy and hull seeds); a network stops after a round with nothing new; 0 = the first search only (default {new SeedRoundOptions().MaxRounds}).",
            DefaultValueFactory = _ => new SeedRoundOptions().MaxRounds,
        };
        var roundSeeds = new Option<int>("--round-seeds") { Description = $"Seeds per network in each later round (default {new SeedRoundOptions().SeedsPerRound}).", DefaultValueFactory = _ => new SeedRoundOptions().SeedsPerRound };
        var eigenvectors = new Option<string>("--eigenvectors") { Description = "Right eigenvectors to write: unstable (the directions |λ| > 1 of each saddle), all, or none (default unstable).", DefaultValueFactory = _ => "unstable" };
        var cmd = new Command("fixed-points", "Find fixed points of every network (joint Adam search, float64 polish), their Jacobians and eigenvalues; writes .npy, JSON and PNGs.")
        {
            source, output, backend, seeds, trials, steps, noise, input, iterations, tolerance, lr, noPolish, noDedup, noOutliers, activation, seed, rounds, roundSeeds, eigenvectors,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var options = new FixedPointOptions
            {
                Search = new AdamSearchOptions { MaxIterations = r.GetValue(iterations), Tolerance = r.GetValue(tolerance), LearningRate = r.GetValue(lr) },
                Polish = !r.GetValue(noPolish),
                Deduplicate = !r.GetValue(noDedup),
                RemoveOutliers = !r.GetValue(noOutliers),
                Rounds = new SeedRoundOptions { MaxRounds = r.GetValue(rounds), SeedsPerRound = r.GetValue(roundSeeds), Seed = r.GetValue(seed) },
                Eigenvectors = r.GetValue(eigenvectors)!.Trim().ToLowerInvariant() switch
                {
                    "unstable" => EigenvectorMode.Unstable,
                    "all" => EigenvectorMode.All,
                    "none" => EigenvectorMode.None,
                    var other => throw new ArgumentException($"--eigenvectors must be unstable, all or none, got '{other}'.", "--eigenvectors"),
                },
            };
            return Execute(r.GetValue(source)!, r.GetValue(output), r.GetValue(backend)!, r.GetValue(seeds), r.GetValue(trials), r.GetValue(steps),
                r.GetValue(noise), r.GetValue(input), options, r.GetValue(activation)!, r.GetValue(seed));
        }));
        return cmd;
    }

    /// <summary><c>bench fixed-points</c>: the two sizes by default.</summary>
    public static Command CreateBench()
    {
        var backend = new Option<string>("--backend") { Description = "cpu, reference, ilgpu-cpu or cuda (default cpu).", DefaultValueFactory = _ => "cpu" };
        var networks = new Option<int?>("--networks") { Description = "E (default: runs 1×1024 and 32×256)." };
        var seeds = new Option<int>("--seeds") { Description = "S (with --networks; default 1024).", DefaultValueFactory = _ => 1024 };
        var hidden = new Option<int>("--hidden") { Description = "N (default 128).", DefaultValueFactory = _ => 128 };
        var iterations = new Option<int>("--iterations") { Description = "Adam iterations (default 1000).", DefaultValueFactory = _ => 1000 };
        var repeats = new Option<int>("--repeats") { Description = "Timed searches (default 3).", DefaultValueFactory = _ => 3 };
        var cmd = new Command("fixed-points", "Times the Adam fixed-point search (GFLOP/s), then polish + Jacobians + eigenvalues.") { backend, networks, seeds, hidden, iterations, repeats };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            using var b = BackendFactory.Create(r.GetValue(backend)!);
            using var search = b.CreateFixedPointSearch();
            Console.WriteLine($"search: {search.Name} ({b.Device})");
            var sizes = r.GetValue(networks) is { } count ? [(count, r.GetValue(seeds))] : new[] { (1, 1024), (32, 256) };
            foreach (var (e, s) in sizes)
            {
                FixedPointBenchmark.Run(search, e, s, r.GetValue(hidden), r.GetValue(iterations), r.GetValue(repeats), Console.WriteLine);
            }

            return 0;
        }));
        return cmd;
    }

    private static int Execute(string source, string? outDir, string backendName, int seedsPerNetwork, int trials, int? steps, double noise,
        string? inputText, FixedPointOptions options, string activationName, long seed)
    {
        Ensemble ensemble;
        ITrialTask? task = null;
        IReadOnlyList<string?>? problems = null;
        int defaultSteps = 100;
        string origin;
        string ext = Path.GetExtension(source).ToLowerInvariant();
        if (!Directory.Exists(source) && ext is ".safetensors" or ".npz")
        {
            var act = activationName.Trim().ToLowerInvariant() switch
            {
                "tanh" => ActivationKind.Tanh,
                "relu" => ActivationKind.Relu,
                _ => throw new ArgumentException($"--activation must be tanh or relu, got '{activationName}'.", "--activation"),
            };
            var imported = PyTorchRnnImport.Import(source, act);
            ensemble = imported.Ensemble;
            foreach (string note in imported.Notes)
            {
                Console.WriteLine($"note: {note}");
            }

            origin = "pytorch";
            outDir ??= source + ".fixed-points";
        }
        else
        {
            string path = Directory.Exists(source) ? Path.Combine(source, Checkpoint.FileName) : source;
            var state = Checkpoint.Load(path);
            ensemble = state.Ensemble;
            problems = Engine.Analysis.NetworkHealth.Problems(state);
            task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
            defaultSteps = state.Options.StepsFor(task);
            origin = "checkpoint";
            outDir ??= Path.Combine(Directory.Exists(source) ? source : Path.GetDirectoryName(Path.GetFullPath(source))!, "fixed-points");
        }

        var spec = ensemble.Spec;
        var u = new float[spec.Inputs];
        if (!string.IsNullOrWhiteSpace(inputText))
        {
            var parts = inputText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != spec.Inputs)
            {
                throw new ArgumentException($"--input has {parts.Length} values; the networks have {spec.Inputs} inputs.", "--input");
            }

            for (int i = 0; i < parts.Length; i++)
            {
                if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out u[i]) || !float.IsFinite(u[i]))
                {
                    throw new ArgumentException($"--input value '{parts[i]}' is not a finite number.", "--input");
                }
            }
        }

        int t = steps ?? defaultSteps;
        Util.Guard.AtLeast(seedsPerNetwork, 1, "--seeds");
        Util.Guard.AtLeast(trials, 1, "--trials");
        Util.Guard.AtLeast(t, 1, "--steps");
        Util.Guard.AtLeast(options.Search.MaxIterations, 1, "--max-iterations");
        Util.Guard.InRange(noise, 0, double.MaxValue, "--noise");
        using var backend = BackendFactory.Create(backendName);
        Console.WriteLine($"backend: {backend.Name} ({backend.Device}); search: {backend.Name}; {spec.Networks} network(s), N={spec.Hidden}, {seedsPerNetwork} seeds each");
        var (seeds, states) = FixedPointSeeds.FromTrajectories(ensemble, backend, task, trials, t, seedsPerNetwork, noise, seed);

        var problem = new FixedPointProblem(spec, ensemble.Parameters, FixedPointProblem.SharedInput(spec, u), seedsPerNetwork, seeds);
        var result = FixedPointAnalysis.Run(backend, problem, options);
        FixedPointAnalysis.MarkDiverged(result, states, problems);
        var context = new Dictionary<string, object>
        {
            ["source"] = Path.GetFullPath(source), ["origin"] = origin, ["task"] = task?.Name ?? "pulses", ["backend"] = backend.Name,
            ["search"] = backend.Name, ["input"] = u, ["seeds_per_network"] = seedsPerNetwork, ["trials"] = trials, ["steps"] = t,
            ["noise"] = noise, ["options"] = options,
        };
        // Everything is written into a staging folder first and moved into place at the end: all outputs or none.
        using var stage = new OutputStage(outDir);
        FixedPointOutput.Write(stage.Root, result, spec.Inputs, context);
        for (int e = 0; e < spec.Networks; e++)
        {
            var net = result.Networks[e];
            FixedPointOutput.PcaFigure(stage.PathOf($"network_{e:D3}.png"), net,
                states.AsSpan(e * trials * t * spec.Hidden, trials * t * spec.Hidden), trials, t, spec.Hidden, $"network {e}: fixed points on the top 2 PCs");
            if (net.Diverged is not null)
            {
                Console.WriteLine(Engine.Analysis.NetworkHealth.SkipLine(e, net.Diverged));
                continue;
            }

            int conv = net.Points.Count(p => p.Status == FixedPointStatus.Converged);
            int failed = net.Points.Count(p => p.Status == FixedPointStatus.LinearizationFailed);
            Console.WriteLine($"  network {e,3}: {conv} fixed points ({net.Points.Count(p => p.Status == FixedPointStatus.Converged && p.Stable)} stable), {net.Points.Count(p => p.Status is FixedPointStatus.MaxIterations or FixedPointStatus.NonFinite)} slow points, {net.NonFinite} non-finite seeds, {net.Duplicates} duplicates, {net.Outliers} outliers"
                + (failed > 0 ? $", {failed} points whose linearisation failed (status LinearizationFailed)" : "")
                + $"; census {CompleteSearch.CensusText(net.Census)} (by unstable directions)"
                + (net.Rounds.Count > 1 ? $"; new per round {string.Join('+', net.Rounds.Select(x => x.Found))}" : ""));
        }

        Console.WriteLine("census (converged points by number of unstable directions: stable/1/2/…): "
            + string.Join(", ", FixedPointOutput.Censuses(result.Networks).Select(c => $"{c.Key} in {c.Value} network(s)")));

        FixedPointOutput.SpectraFigure(stage.PathOf("spectra.png"), result.Networks, "Jacobian eigenvalues at the fixed points");
        stage.Commit();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"search {result.SearchTime.TotalSeconds:F2} s ({result.RoundsRun} round(s), the first {result.Search.TotalIterations} iterations), polish {result.PolishTime.TotalSeconds:F2} s, linearize {result.LinearizeTime.TotalSeconds:F2} s; wrote {Path.GetFullPath(outDir)}"));
        return 0;
    }
}
