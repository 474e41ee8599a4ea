using System.CommandLine;
using System.Text.Json;
using Engine.Backends;
using Engine.IO;
using Engine.Model;
using Engine.Tasks;
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
        string path = Directory.Exists(source) ? Path.Combine(source, Checkpoint.FileName) : source;
        var state = Checkpoint.Load(path);
        var ensemble = state.Ensemble;
        var spec = ensemble.Spec;
        var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
        int t = steps ?? state.Options.StepsFor(task);
        Guard.AtLeast(trials, 1, "--trials");
        Guard.AtLeast(t, 1, "--steps");

        // Every network sees the same trials (one shared set), so their states can be compared.
        var batch = Engine.Analysis.Evaluation.SharedTrials(ensemble, task, trials, t, seed);

        using var backend = BackendFactory.Create(backendName);
        Console.WriteLine($"backend: {backend.Name} ({backend.Device})");
        var (outputs, states) = ensemble.Run(backend, batch);
        Directory.CreateDirectory(outDir);
        int e_ = spec.Networks;
        Npy.Write(Path.Combine(outDir, "inputs.npy"), batch.Inputs, trials, t, spec.Inputs);
        Npy.Write(Path.Combine(outDir, "targets.npy"), batch.Targets, trials, t, spec.Outputs);
        Npy.Write(Path.Combine(outDir, "mask.npy"), batch.Mask, trials, t, spec.Outputs);
        Npy.Write(Path.Combine(outDir, "outputs.npy"), outputs, e_, trials, t, spec.Outputs);
        Npy.Write(Path.Combine(outDir, "states.npy"), states, e_, trials, t, spec.Hidden);

        var mse = new double[e_];
        for (int e = 0; e < e_; e++)
        {
            mse[e] = Engine.Analysis.Evaluation.MaskedMse(outputs, batch, e);
            Console.WriteLine($"  network {e,3}  mse {mse[e]:E3}");
        }

        var summary = new { checkpoint = Path.GetFullPath(path), task = task.Name, trials, steps = t, seed, backend = backend.Name, mse };
        AtomicFile.WriteText(Path.Combine(outDir, "run.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote inputs/targets/mask [B={trials},T={t},*], outputs [E={e_},B,T,O={spec.Outputs}], states [E,B,T,N={spec.Hidden}] .npy and run.json to {outDir}");
        return 0;
    }
}
