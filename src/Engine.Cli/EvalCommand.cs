using System.CommandLine;
using System.Globalization;
using System.Text;
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
        Util.Guard.AtLeast(trials, 1, "--trials");
        var run = new RunDirectory(RunPaths.Existing(dir, "--ood"));
        var state = Checkpoint.Load(run.CheckpointPath);
        var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
        using var backend = BackendFactory.Create(backendName);
        Console.WriteLine($"backend: {backend.Name} ({backend.Device})");
        var result = Evaluation.Run(backend, state, task, trials, seed);
        var healthy = Enumerable.Range(0, result.OodMse.Length).Where(e => result.Diverged[e] is null).ToArray();

        // Everything is computed before anything is written: a failure leaves no half set of files.
        var csv = new StringBuilder("network,seed,status,id_mse,ood_mse\n");
        for (int e = 0; e < result.OodMse.Length; e++)
        {
            string status = result.Diverged[e] is null ? RunDirectory.StatusName(state.Networks[e].Status) : NetworkHealth.DivergedName;
            csv.Append(CultureInfo.InvariantCulture, $"{e},{state.Ensemble.Seeds[e]},{status},{Csv(result.InDistributionMse[e])},{Csv(result.OodMse[e])}\n");
            Console.WriteLine(result.Diverged[e] is { } why
                ? NetworkHealth.SkipLine(e, why)
                : string.Create(CultureInfo.InvariantCulture, $"  network {e,3}  {status,-13}  id {result.InDistributionMse[e]:E3}  ood {result.OodMse[e]:E3}"));
        }

        var json = new
        {
            task = task.Name,
            trials,
            seed,
            steps = result.Steps,
            ood_steps = result.OodSteps,
            converged = result.Converged,
            diverged = Enumerable.Range(0, result.OodMse.Length).Where(e => result.Diverged[e] is not null).ToArray(),
            sigma_ood = result.SigmaOod,
            mean_ood_mse = healthy.Length > 0 ? healthy.Average(e => result.OodMse[e]) : double.NaN,
            mean_id_mse = healthy.Length > 0 ? healthy.Average(e => result.InDistributionMse[e]) : double.NaN,
            id_mse = Masked(result.InDistributionMse, result.Diverged),
            ood_mse = Masked(result.OodMse, result.Diverged),
        };

        var oodTask = task.OutOfDistribution();
        using var stage = new OutputStage(run.Path);
        AtomicFile.WriteText(stage.PathOf("eval.csv"), csv.ToString());
        JsonOutput.Write(stage.PathOf("eval.json"), json);
        string png = Path.Combine(run.Path, "examples_ood.png");
        if (healthy.Length > 0)
        {
            // The examples show the first network that did not diverge, alone, so NaN from another cannot reach the figure.
            int shown = healthy[0];
            var one = state.Ensemble.Network(shown);
            var batch = Evaluation.SharedTrials(one, oodTask, 3, result.OodSteps, seed + 1);
            var (outputs, _) = one.Run(backend, batch, keepStates: false);
            TrialFigures.Examples(batch, outputs, 0, stage.PathOf("examples_ood.png"), $"{task.Name} OOD ({result.OodSteps} steps), network {shown}");
        }
        else
        {
            Console.WriteLine("every network diverged: no examples_ood.png");
        }

        var written = stage.Commit();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sigma_ood {result.SigmaOod:E3} over {result.Converged} converged networks ({result.OodMse.Length - healthy.Length} diverged, skipped); wrote {string.Join(", ", written.Select(Path.GetFileName))} to {run.Path}"));
        return 0;
    }

    private static string Csv(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";

    private static double[] Masked(double[] values, IReadOnlyList<string?> diverged)
        => values.Select((v, e) => diverged[e] is null ? v : double.NaN).ToArray();
}
