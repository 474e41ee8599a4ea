using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Engine.Analysis;
using Engine.Backends;
using Engine.IO;
using Engine.Plotting;
using Engine.Tasks;
using Engine.Training;

namespace Engine.Cli;

/// <summary><c>eval --ood DIR</c>: in-distribution and OOD MSE per network, σ_OOD, and example-trial figures.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var ood = new Option<DirectoryInfo>("--ood") { Description = "Run directory to evaluate in and out of distribution.", Required = true };
        var trials = new Option<int>("--trials") { Description = "Fresh trials per evaluation (default 64).", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "Seed of the evaluation trials (default 12345).", DefaultValueFactory = _ => 12345 };
        var backend = new Option<string>("--backend") { Description = "Backend (default auto).", DefaultValueFactory = _ => "auto" };
        var cmd = new Command("eval", "Evaluate every network on fresh in-distribution and OOD trials; writes eval.csv, eval.json and examples_ood.png.")
        {
            ood, trials, seed, backend,
        };
        cmd.SetAction(r => CliErrors.Run(() => Execute(r.GetValue(ood)!.FullName, r.GetValue(trials), r.GetValue(seed), r.GetValue(backend)!)));
        return cmd;
    }

    private static int Execute(string dir, int trials, long seed, string backendName)
    {
        var run = new RunDirectory(dir);
        if (!run.HasCheckpoint)
        {
            throw new ArgumentException($"{run.Path}: no {Checkpoint.FileName} to evaluate.", "--ood");
        }

        var state = Checkpoint.Load(run.CheckpointPath);
        var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
        using var backend = BackendFactory.Create(backendName);
        Console.WriteLine($"backend: {backend.Name} ({backend.Device})");
        var result = Evaluation.Run(backend, state, task, trials, seed);

        var csv = new StringBuilder("network,seed,status,id_mse,ood_mse\n");
        for (int e = 0; e < result.OodMse.Length; e++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{e},{state.Ensemble.Seeds[e]},{RunDirectory.StatusName(state.Networks[e].Status)},{result.InDistributionMse[e]:R},{result.OodMse[e]:R}\n");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  network {e,3}  {RunDirectory.StatusName(state.Networks[e].Status),-13}  id {result.InDistributionMse[e]:E3}  ood {result.OodMse[e]:E3}"));
        }

        AtomicFile.WriteText(Path.Combine(run.Path, "eval.csv"), csv.ToString());
        var json = new
        {
            task = task.Name,
            trials,
            seed,
            steps = result.Steps,
            ood_steps = result.OodSteps,
            converged = result.Converged,
            sigma_ood = double.IsFinite(result.SigmaOod) ? (double?)result.SigmaOod : null,
            mean_ood_mse = result.OodMse.Average(),
            mean_id_mse = result.InDistributionMse.Average(),
            id_mse = result.InDistributionMse,
            ood_mse = result.OodMse,
        };
        AtomicFile.WriteText(Path.Combine(run.Path, "eval.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));

        var oodTask = task.OutOfDistribution();
        var batch = Evaluation.SharedTrials(state.Ensemble, oodTask, 3, result.OodSteps, seed + 1);
        var (outputs, _) = state.Ensemble.Run(backend, batch, keepStates: false);
        string png = Path.Combine(run.Path, "examples_ood.png");
        TrialFigures.Examples(batch, outputs, 0, png, $"{task.Name} OOD ({result.OodSteps} steps), network 0");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sigma_ood {result.SigmaOod:E3} over {result.Converged} converged networks; wrote eval.csv, eval.json, {Path.GetFileName(png)} to {run.Path}"));
        return 0;
    }
}
