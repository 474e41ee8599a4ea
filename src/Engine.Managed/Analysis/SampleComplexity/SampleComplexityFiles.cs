using System.Globalization;
using System.Text;
using Engine.IO;
using Engine.Plotting;
using Engine.Training;

namespace Engine.Analysis.SampleComplexity;

/// <summary>Writes a sample-complexity sweep: networks.csv, nstar.csv, summary.json, nstar.png and error.png (each atomically).</summary>
public static class SampleComplexityFiles
{
    /// <summary>Writes every file into <paramref name="folder"/> (created if missing) and returns their paths.</summary>
    /// <param name="result">The sweep.</param>
    /// <param name="folder">Output folder.</param>
    /// <param name="timings">Optional extra fields for summary.json (e.g. the batched and sequential wall times).</param>
    public static IReadOnlyList<string> Write(SampleComplexityResult result, string folder, object? timings = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(folder);
        var inv = CultureInfo.InvariantCulture;
        var nets = new StringBuilder("variant,q,length,size,seed,status,epochs,train_mse,test_mse,best_test_mse,normalized_error\n");
        var nstar = new StringBuilder("variant,q,length,target_variance,nstar,seconds\n");
        foreach (var c in result.Conditions)
        {
            string v = SampleComplexitySweep.Name(c.Variant);
            foreach (var n in c.Networks)
            {
                nets.Append(inv, $"{v},{c.Q},{c.Length},{n.Size},{n.Seed},{RunDirectory.StatusName(n.Status)},{n.Epochs},{n.TrainLoss:R},{n.TestMse:R},{n.BestTestMse:R},{n.NormalizedError:R}\n");
            }

            nstar.Append(inv, $"{v},{c.Q},{c.Length},{c.TargetVariance:R},{c.SamplesToThreshold?.ToString(inv) ?? ""},{c.Seconds:F2}\n");
        }

        string netsPath = Path.Combine(folder, "networks.csv"), nstarPath = Path.Combine(folder, "nstar.csv");
        AtomicFile.WriteText(netsPath, nets.ToString());
        AtomicFile.WriteText(nstarPath, nstar.ToString());
        string json = Path.Combine(folder, "summary.json");
        JsonOutput.Write(json, new
        {
            threshold = result.Options.ErrorThreshold,
            width = result.Options.Width,
            dimension = result.Options.Dimension,
            seeds = result.Options.Seeds,
            sizes = result.Sizes,
            trials = result.Options.Trials,
            learning_rate = result.Options.LearningRate,
            max_epochs = result.Options.MaxEpochs,
            test_every = result.Options.TestEvery,
            test_trials = result.Options.TestTrials,
            test_patience = result.Options.TestPatience,
            sequential = result.Sequential,
            seconds = result.Seconds,
            cpu_seconds = result.CpuSeconds,
            timings,
            conditions = result.Conditions.Select(c => new
            {
                variant = SampleComplexitySweep.Name(c.Variant),
                q = c.Q,
                length = c.Length,
                target_variance = c.TargetVariance,
                median_error = c.MedianError.Select(JsonOutput.Finite).ToArray(),
                nstar = c.SamplesToThreshold,
                seconds = c.Seconds,
            }).ToArray(),
            slopes = result.Slopes.Select(s => new { variant = SampleComplexitySweep.Name(s.Variant), q = s.Q, slope = JsonOutput.Finite(s.Slope), points = s.Points }).ToArray(),
        });
        string nstarPng = Path.Combine(folder, "nstar.png"), errorPng = Path.Combine(folder, "error.png");
        NStarFigure(result, nstarPng);
        ErrorFigure(result, errorPng);
        return [netsPath, nstarPath, json, nstarPng, errorPng];
    }

    /// <summary>log2 n* against log2 N, a curve per (variant, q); a length without n* is drawn at log2 of twice the largest size (open marker).</summary>
    public static void NStarFigure(SampleComplexityResult result, string png)
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = Figures.NewPlot();
        double ceiling = Math.Log2(2.0 * result.Sizes[^1]);
        foreach (var group in result.Conditions.GroupBy(c => (c.Variant, c.Q)))
        {
            var list = group.OrderBy(c => c.Length).ToArray();
            var xs = list.Select(c => Math.Log2(c.Length)).ToArray();
            var ys = list.Select(c => c.SamplesToThreshold is { } n ? Math.Log2(n) : ceiling).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            var slope = result.Slopes.FirstOrDefault(s => s.Variant == group.Key.Variant && s.Q == group.Key.Q);
            line.LegendText = $"{SampleComplexitySweep.Name(group.Key.Variant)} q={group.Key.Q} (slope {(slope is { } sl && double.IsFinite(sl.Slope) ? sl.Slope.ToString("F2", CultureInfo.InvariantCulture) : "n/a: < 2 lengths with n*")})";
            line.MarkerSize = 8;
            line.LinePattern = group.Key.Variant == Tasks.QSparseVariant.Full ? ScottPlot.LinePattern.Solid : ScottPlot.LinePattern.Dashed;
        }

        plot.Add.HorizontalLine(ceiling).LinePattern = ScottPlot.LinePattern.Dotted;
        plot.ShowLegend();
        plot.Title($"samples to test error ≤ {result.Options.ErrorThreshold:G3}·Var(y), RNN width {result.Options.Width} (dotted: not reached)");
        plot.XLabel("log2 N (sequence length)");
        plot.YLabel("log2 n*");
        Figures.SavePng(plot, png);
    }

    /// <summary>Median normalised test error against log2 n, a curve per condition.</summary>
    public static void ErrorFigure(SampleComplexityResult result, string png)
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = Figures.NewPlot();
        var xs = result.Sizes.Select(s => Math.Log2(s)).ToArray();
        foreach (var c in result.Conditions)
        {
            var ys = c.MedianError.Select(m => Math.Log10(Math.Clamp(m, 1e-4, 1e4))).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = $"{SampleComplexitySweep.Name(c.Variant)} q={c.Q} N={c.Length}";
            line.LinePattern = c.Variant == Tasks.QSparseVariant.Full ? ScottPlot.LinePattern.Solid : ScottPlot.LinePattern.Dashed;
        }

        plot.Add.HorizontalLine(Math.Log10(result.Options.ErrorThreshold)).LinePattern = ScottPlot.LinePattern.Dotted;
        Figures.UseLog10Ticks(plot.Axes.Left);
        plot.ShowLegend();
        plot.Title("median held-out test MSE / Var(y) against training-set size");
        plot.XLabel("log2 n (training samples)");
        plot.YLabel("test MSE / Var(y)");
        Figures.SavePng(plot, png, 1000, 650);
    }
}
