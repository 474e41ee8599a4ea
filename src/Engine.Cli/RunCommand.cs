using System.CommandLine;
using Engine.Analysis;
using Engine.Backends;
using Engine.IO;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Cli;

/// <summary><c>run</c> / <c>record</c>: evaluates a checkpoint on fresh trials; writes .npy arrays and per-network MSE.</summary>
internal static class RunCommand
{
    public static Command Create(string name, string description)
    {
        var source = new Argument<string>("checkpoint") { Description = "A run directory or a checkpoint file." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where to write the .npy files.", Required = true };
        var trials = new Option<int>("--trials") { Description = "Trials (default 16).", DefaultValueFactory = _ => 16 };
        var steps = new Option<int?>("--steps") { Description = "Steps per trial (default: the training length)." };
        var seed = new Option<long>("--seed") { Description = "Seed of the evaluation trials (default 12345).", DefaultValueFactory = _ => 12345 };
        var backend = new Option<string>("--backend") { Description = "Backend (default auto).", DefaultValueFactory = _ => "auto" };
        var cmd = new Command(name, description) { source, output, trials, steps, seed, backend };
        cmd.SetAction(r => CliErrors.Run(() => Execute(
            r.GetValue(source)!, r.GetValue(output)!.FullName, r.GetValue(trials), r.GetValue(steps), r.GetValue(seed), r.GetValue(backend)!)));
        return cmd;
    }

    private static int Execute(string source, string outDir, int trials, int? steps, long seed, string backendName)
    {
        Guard.AtLeast(trials, 1, "--trials");
        if (steps is { } given)
        {
            Guard.AtLeast(given, 1, "--steps");
        }

        string path = Directory.Exists(source) ? Path.Combine(source, Checkpoint.FileName) : source;
        var state = Checkpoint.Load(path);
        var ensemble = state.Ensemble;
        var spec = ensemble.Spec;
        var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
        int t = steps ?? state.Options.StepsFor(task);
        Guard.AtLeast(t, 1, "--steps");

        // Every network sees the same trials (one shared set), so their states can be compared.
        var batch = Engine.Analysis.Evaluation.SharedTrials(ensemble, task, trials, t, seed);

        using var backend = BackendFactory.Create(backendName);
        Console.WriteLine($"backend: {backend.Name} ({backend.Device})");
        var (outputs, states) = ensemble.Run(backend, batch);
        int e_ = spec.Networks;
        var mse = new double[e_];
        var diverged = NetworkHealth.Problems(state);
        int perOut = trials * t * spec.Outputs, perState = trials * t * spec.Hidden;
        for (int e = 0; e < e_; e++)
        {
            mse[e] = Engine.Analysis.Evaluation.MaskedMse(outputs, batch, e);
            diverged[e] ??= !NetworkHealth.AllFinite(outputs.AsSpan(e * perOut, perOut)) || !NetworkHealth.AllFinite(states.AsSpan(e * perState, perState))
                ? "non-finite outputs or states" : null;
            Console.WriteLine(diverged[e] is { } why ? NetworkHealth.SkipLine(e, why) + " (its rows in the .npy files are kept as they came out)" : $"  network {e,3}  mse {mse[e]:E3}");
        }

        var summary = new
        {
            checkpoint = Path.GetFullPath(path), task = task.Name, trials, steps = t, seed, backend = backend.Name,
            diverged = Enumerable.Range(0, e_).Where(e => diverged[e] is not null).ToArray(),
            mse = mse.Select((v, e) => diverged[e] is null ? v : double.NaN).ToArray(),
        };
        using var stage = new OutputStage(outDir);
        Npy.Write(stage.PathOf("inputs.npy"), batch.Inputs, trials, t, spec.Inputs);
        Npy.Write(stage.PathOf("targets.npy"), batch.Targets, trials, t, spec.Outputs);
        Npy.Write(stage.PathOf("mask.npy"), batch.Mask, trials, t, spec.Outputs);
        Npy.Write(stage.PathOf("outputs.npy"), outputs, e_, trials, t, spec.Outputs);
        Npy.Write(stage.PathOf("states.npy"), states, e_, trials, t, spec.Hidden);
        JsonOutput.Write(stage.PathOf("run.json"), summary);
        stage.Commit();
        Console.WriteLine($"wrote inputs/targets/mask [B={trials},T={t},*], outputs [E={e_},B,T,O={spec.Outputs}], states [E,B,T,N={spec.Hidden}] .npy and run.json to {Path.GetFullPath(outDir)}");
        return 0;
    }
}
