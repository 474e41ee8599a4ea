using System.CommandLine;
using Engine.IO;

namespace Engine.Cli;

/// <summary><c>degeneracy DIR</c>: the three levels of Huang et al. (2025) in one go: σ_OOD, mean DSA, mean d_PIF.</summary>
internal static class DegeneracyCommand
{
    public static Command Create()
    {
        var dir = new Argument<DirectoryInfo>("dir") { Description = "Run directory with checkpoint.rnn." };
        var o = new DistanceOptions();
        var cmd = new Command("degeneracy", "Behavioural (sigma_OOD), dynamical (mean DSA) and weight (mean d_PIF) degeneracy of a run; writes the three matrices and degeneracy.json.")
        {
            dir,
        };
        o.AddTo(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            using var ctx = DistanceContext.Open(r.GetValue(dir)!.FullName, o.Read(r));
            var (behavior, sigma) = ctx.Compare("behavior");
            var (dsa, meanDsa) = ctx.Compare("dsa");
            var (pif, meanPif) = ctx.Compare("pif");
            var json = new
            {
                run = ctx.Dir,
                task = ctx.Task.Name,
                networks = ctx.Selected.Length,
                ids = ctx.Selected,
                diverged = ctx.Skipped,
                behavioral = new { sigma_ood = sigma, mean_pairwise_output_rms = behavior.Mean() },
                dynamical = new { mean_dsa = meanDsa, score = ctx.Options.Score, spread = dsa.Spread() },
                weight = new { mean_pif = meanPif, spread = pif.Spread() },
            };
            JsonOutput.Write(ctx.Out("degeneracy.json"), json);
            ctx.Commit();
            Console.WriteLine($"degeneracy: sigma_OOD {sigma:G4}, mean DSA {meanDsa:G4}, mean d_PIF {meanPif:G4}; wrote degeneracy.json to {ctx.OutDir}");
            return 0;
        }));
        return cmd;
    }
}
