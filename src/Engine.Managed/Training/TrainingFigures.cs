using System.Globalization;
using Engine.Plotting;

namespace Engine.Training;

/// <summary>Figures of a training run.</summary>
public static class TrainingFigures
{
    /// <summary>Loss curves of every network (log10 scale) with the stop threshold, read from a run's metrics.csv.</summary>
    /// <remarks>metrics.csv columns: network, epoch, loss, learning_rate. Non-finite losses (diverged networks) are skipped.</remarks>
    public static void LossCurves(string metricsCsv, double threshold, string pngPath, string title)
    {
        var curves = new SortedDictionary<int, (List<double> X, List<double> Y)>();
        foreach (var line in File.ReadLines(metricsCsv).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length < 3
                || !int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int net)
                || !int.TryParse(f[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch)
                || !double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double loss)
                || !(loss > 0) || !double.IsFinite(loss))
            {
                continue;
            }

            if (!curves.TryGetValue(net, out var c))
            {
                curves[net] = c = ([], []);
            }

            c.X.Add(epoch);
            c.Y.Add(Math.Log10(loss));
        }

        var plot = Figures.NewPlot();
        foreach (var (net, c) in curves)
        {
            var s = plot.Add.ScatterLine(c.X.ToArray(), c.Y.ToArray());
            s.LineWidth = 1;
            s.Color = ScottPlot.Colors.Category10[net % 10].WithAlpha(0.6);
        }

        if (threshold > 0)
        {
            var h = plot.Add.HorizontalLine(Math.Log10(threshold));
            h.Color = ScottPlot.Colors.Black;
            h.LinePattern = ScottPlot.LinePattern.Dashed;
            h.LegendText = $"threshold {threshold:G3}";
            plot.ShowLegend();
        }

        Figures.UseLog10Ticks(plot.Axes.Left);
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("training MSE (log scale)");
        Figures.SavePng(plot, pngPath);
    }
}
