using System.CommandLine;
using System.Text.Json;
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
                behavioral = new { sigma_ood = Finite(sigma), mean_pairwise_output_rms = Finite(behavior.Mean()) },
                dynamical = new { mean_dsa = Finite(meanDsa), score = ctx.Options.Score, spread = Finite(dsa.Spread()) },
                weight = new { mean_pif = Finite(meanPif), spread = Finite(pif.Spread()) },
            };
            AtomicFile.WriteText(Path.Combine(ctx.OutDir, "degeneracy.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"degeneracy: sigma_OOD {sigma:G4}, mean DSA {meanDsa:G4}, mean d_PIF {meanPif:G4}; wrote degeneracy.json to {ctx.OutDir}");
            return 0;
        }));
        return cmd;
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
