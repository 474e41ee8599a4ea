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

    /// <summary>
    /// CKA to the guide and predictability from the earlier networks over training, one faint line per network and the
    /// mean in bold, read from a run's representation.csv (columns network, epoch, guide_cka, predictability).
    /// </summary>
    public static void RepresentationCurves(string representationCsv, string pngPath, string title)
    {
        var series = new[] { (Column: 2, Name: "CKA to the guide"), (Column: 3, Name: "predictability of earlier networks (ridge ρ)") };
        var plot = Figures.NewPlot();
        bool any = false;
        var rows = File.ReadLines(representationCsv).Skip(1).Select(l => l.Split(',')).Where(f => f.Length == 4).ToArray();
        foreach (var (column, name) in series)
        {
            var byNet = new SortedDictionary<int, (List<double> X, List<double> Y)>();
            var byEpoch = new SortedDictionary<int, List<double>>();
            foreach (var f in rows)
            {
                if (!int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int net)
                    || !int.TryParse(f[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch)
                    || !double.TryParse(f[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                {
                    continue;
                }

                if (!byNet.TryGetValue(net, out var c))
                {
                    byNet[net] = c = ([], []);
                }

                c.X.Add(epoch);
                c.Y.Add(v);
                (byEpoch.TryGetValue(epoch, out var list) ? list : byEpoch[epoch] = []).Add(v);
            }

            if (byEpoch.Count == 0)
            {
                continue;
            }

            any = true;
            var color = column == 2 ? ScottPlot.Colors.Category10[0] : ScottPlot.Colors.Category10[3];
            foreach (var (_, c) in byNet)
            {
                var s = plot.Add.ScatterLine(c.X.ToArray(), c.Y.ToArray());
                s.LineWidth = 1;
                s.Color = color.WithAlpha(0.2);
            }

            var mean = plot.Add.ScatterLine(byEpoch.Keys.Select(k => (double)k).ToArray(), byEpoch.Values.Select(v => v.Average()).ToArray());
            mean.LineWidth = 3;
            mean.Color = color;
            mean.LegendText = name + " (mean)";
        }

        if (!any)
        {
            return;
        }

        plot.ShowLegend();
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("similarity");
        Figures.SavePng(plot, pngPath);
    }
}
