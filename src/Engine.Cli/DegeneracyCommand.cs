using System.CommandLine;
using Engine.Distances;

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
            using var ctx = DistanceContext.Open(r.GetValue(dir)!.FullName, o, r);
            var result = new DegeneracyResult(ctx.Compare("behavior"), ctx.Compare("dsa"), ctx.Compare("pif"));
            ctx.Comparison.WriteDegeneracy(result, ctx.Out("degeneracy.json"), ctx.Dir);
            ctx.Commit();
            Console.WriteLine($"degeneracy: sigma_OOD {result.Behavior.Degeneracy:G4}, mean DSA {result.Dynamics.Degeneracy:G4}, mean d_PIF {result.Weights.Degeneracy:G4}; wrote degeneracy.json to {ctx.OutDir}");
            return 0;
        }));
        return cmd;
    }
}
