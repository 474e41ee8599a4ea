using System.CommandLine;
using System.Globalization;
using System.Text;
using Engine.Backends;
using Engine.Distances;
using Engine.IO;
using Engine.Plotting;
using Engine.Training;
using ScottPlot;

namespace Engine.Cli;

/// <summary><c>compare-runs RUN… [--reference RUN[:k]]</c>: how alike several runs' networks are, within each run, to a reference network and across runs.</summary>
internal static class CompareRunsCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run directories of one task (e.g. unguided, guided, diversity-trained).", Arity = ArgumentArity.OneOrMore };
        var reference = new Option<string?>("--reference") { Description = "A reference network, RUN or RUN:k (network k, default 0), e.g. the guide." };
        var trials = new Option<int>("--trials") { Description = "Shared probe trials (default 32).", DefaultValueFactory = _ => 32 };
        var seed = new Option<long>("--seed") { Description = "Seed of the probe trials (default 4242).", DefaultValueFactory = _ => 4242 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for compare_runs.csv/.json and compare_runs.png.", Required = true };
        var backend = new Option<string>("--backend") { Description = "auto | cpu | reference | ilgpu-cpu | cuda | opencl (default auto).", DefaultValueFactory = _ => "auto" };
        var cmd = new Command("compare-runs", "CKA and DSA between the networks of several runs of one task: within each run, to a reference network (e.g. a guide), across runs; with each run's task MSE.")
        {
            runs, reference, trials, seed, output, backend,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            Util.Guard.AtLeast(r.GetValue(trials), 2, "--trials");
            var named = r.GetValue(runs)!.Select(p => (Name: Path.GetFileName(Path.GetFullPath(p).TrimEnd('/')), Run: Checkpoint.Load(Path.Combine(RunPaths.Existing(p, "run"), Checkpoint.FileName)))).ToArray();
            (TrainingState, int)? refNet = null;
            if (r.GetValue(reference) is { } refText)
            {
                int colon = refText.LastIndexOf(':');
                string dir = colon > 0 && int.TryParse(refText[(colon + 1)..], out _) ? refText[..colon] : refText;
                int k = colon > 0 && int.TryParse(refText[(colon + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int kk) ? kk : 0;
                var state = Checkpoint.Load(Path.Combine(RunPaths.Existing(dir, "--reference"), Checkpoint.FileName));
                Util.Guard.InRange(k, 0, state.Ensemble.Spec.Networks - 1, "--reference network");
                refNet = (state, k);
            }

            string outDir = r.GetValue(output)!.FullName;
            Directory.CreateDirectory(outDir);
            using var be = BackendFactory.Create(r.GetValue(backend)!);
            Console.WriteLine($"backend: {be.Name} ({be.Device}); {named.Length} runs, {named.Sum(n => n.Run.Ensemble.Spec.Networks)} networks{(refNet is null ? "" : " + the reference")}");
            var rows = CrossRunComparison.Compare(be, named, refNet, r.GetValue(trials), seed: r.GetValue(seed));
            var csv = new StringBuilder("run,networks,left_out,mse,cka_within,dsa_within,cka_to_reference,dsa_to_reference,cka_to_other_runs\n");
            foreach (var p in rows)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{p.Name},{p.Networks},{p.LeftOut},{p.Mse:R},{p.CkaWithin:R},{p.DsaWithin:R},{p.CkaToReference:R},{p.DsaToReference:R},{p.CkaToOthers:R}\n");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {p.Name,-24} networks {p.Networks,3} (left out {p.LeftOut})  mse {p.Mse:E2}  CKA within {p.CkaWithin:F3}  DSA within {p.DsaWithin:F3}  CKA to reference {p.CkaToReference:F3}  DSA to reference {p.DsaToReference:F3}  CKA to other runs {p.CkaToOthers:F3}"));
            }

            AtomicFile.WriteText(Path.Combine(outDir, "compare_runs.csv"), csv.ToString());
            JsonOutput.Write(Path.Combine(outDir, "compare_runs.json"), new { trials = r.GetValue(trials), seed = r.GetValue(seed), reference = r.GetValue(reference), distances = "arccos(CKA) and angular DSA (radians)", runs = rows });
            Figure(rows, Path.Combine(outDir, "compare_runs.png"), refNet is not null);
            Console.WriteLine($"wrote {Path.Combine(outDir, "compare_runs.csv")}, compare_runs.json, compare_runs.png");
            return 0;
        }));
        return cmd;
    }

    private static void Figure(IReadOnlyList<RunPlacement> rows, string path, bool withReference)
    {
        var plot = Figures.NewPlot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        var series = new List<(string Name, Func<RunPlacement, double> Pick, Color Color)> { ("CKA within", p => p.CkaWithin, Colors.SteelBlue), ("DSA within", p => p.DsaWithin, Colors.DarkOrange) };
        if (withReference)
        {
            series.Add(("CKA to reference", p => p.CkaToReference, Colors.LightSteelBlue));
            series.Add(("DSA to reference", p => p.DsaToReference, Colors.Moccasin));
        }

        int width = series.Count + 1;
        for (int k = 0; k < rows.Count; k++)
        {
            for (int s = 0; s < series.Count; s++)
            {
                double v = series[s].Pick(rows[k]);
                bars.Add(new Bar { Position = width * k + s, Value = double.IsFinite(v) ? v : 0, FillColor = series[s].Color });
            }

            ticks.Add(new Tick(width * k + (series.Count - 1) / 2.0, rows[k].Name));
        }

        plot.Add.Bars(bars);
        for (int s = 0; s < series.Count; s++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name, FillColor = series[s].Color });
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.ShowLegend();
        plot.YLabel("distance (rad)");
        plot.Title("Networks within each run and to the reference");
        Figures.SavePng(plot, path);
    }
}
