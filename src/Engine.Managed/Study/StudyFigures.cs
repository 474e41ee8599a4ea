using System.Globalization;
using Engine.Distances;
using Engine.Plotting;

namespace Engine.Study;

/// <summary>Figures of a study report: a statistic against a factor's levels with its interval as a band, and per-condition distance heatmaps.</summary>
public static class StudyFigures
{
    /// <summary>The statistic of each level as a line with markers, its bootstrap 95% interval as a shaded band.</summary>
    /// <remarks>
    /// The x axis is log10 when <see cref="UseLogX"/> says so. A zero level (no ℓ1, say) cannot sit on a log axis: it is
    /// drawn one decade below the smallest positive level and labelled "0", and the ticks are the levels themselves.
    /// Points with a non-finite value are left out; a missing interval end is drawn at the value.
    /// </remarks>
    public static void Trend(IReadOnlyList<(double Level, Estimate Estimate)> points, string factor, string metricLabel, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(points);
        var finite = points.Where(p => double.IsFinite(p.Level) && double.IsFinite(p.Estimate.Value)).OrderBy(p => p.Level).ToArray();
        var levels = finite.Select(p => p.Level).ToArray();
        bool log = UseLogX(levels);
        var xs = levels.Select(l => XPosition(l, levels, log)).ToArray();
        var ys = finite.Select(p => p.Estimate.Value).ToArray();
        var lo = finite.Select(p => double.IsFinite(p.Estimate.Low) ? p.Estimate.Low : p.Estimate.Value).ToArray();
        var hi = finite.Select(p => double.IsFinite(p.Estimate.High) ? p.Estimate.High : p.Estimate.Value).ToArray();

        var plot = Figures.NewPlot();
        if (xs.Length > 0)
        {
            var band = plot.Add.FillY(xs, lo, hi);
            band.FillColor = ScottPlot.Colors.C0.WithAlpha(0.25);
            band.LineStyle.Width = 0;
            band.LegendText = "bootstrap 95% interval";
            var line = plot.Add.Scatter(xs, ys);
            line.Color = ScottPlot.Colors.C0;
            line.LineWidth = 2;
            line.MarkerSize = 8;
            line.LegendText = "over converged seeds";
            plot.ShowLegend(ScottPlot.Edge.Bottom);
        }

        if (log && xs.Length > 0)
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                levels.Select((l, k) => new ScottPlot.Tick(xs[k], FormatLevel(l))).ToArray());
        }

        plot.Title(title);
        plot.XLabel(log ? $"{factor} (log scale)" : factor);
        plot.YLabel(metricLabel);
        Figures.SavePng(plot, pngPath, 760, 520);
    }

    /// <summary>True when the levels are all ≥ 0, at least two are positive and the positive ones span a decade or more.</summary>
    public static bool UseLogX(IReadOnlyList<double> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        var positive = levels.Where(l => l > 0).ToArray();
        return levels.All(l => l >= 0) && positive.Length >= 2 && positive.Max() / positive.Min() >= 10;
    }

    /// <summary>A distance heatmap of one condition and metric, rebuilt from its pair rows (ids = network indices present).</summary>
    /// <returns>False (nothing written) with fewer than 2 networks.</returns>
    public static bool Heatmap(IEnumerable<PairRow> rows, string metric, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var table = PairTable.FromRows(rows);
        if (table.Size < 2)
        {
            return false;
        }

        var matrix = new PairwiseMatrix(table.Ids, metric);
        for (int i = 0; i < table.Size; i++)
        {
            for (int j = i + 1; j < table.Size; j++)
            {
                // An unmeasured pair draws as 0 rather than poisoning the clustering with NaN.
                double d = table[i, j];
                matrix.Set(i, j, double.IsFinite(d) ? d : 0);
            }
        }

        DistanceFigures.Heatmap(matrix, pngPath, title);
        return true;
    }

    private static double XPosition(double level, double[] levels, bool log)
    {
        if (!log)
        {
            return level;
        }

        return level > 0 ? Math.Log10(level) : Math.Log10(levels.Where(l => l > 0).Min()) - 1;
    }

    private static string FormatLevel(double level) => level.ToString("G3", CultureInfo.InvariantCulture);
}
