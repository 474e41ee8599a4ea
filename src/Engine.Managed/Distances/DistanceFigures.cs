using Engine.Plotting;

namespace Engine.Distances;

/// <summary>Heatmaps of distance matrices.</summary>
public static class DistanceFigures
{
    /// <summary>The matrix as a heatmap with rows and columns in average-linkage leaf order, labelled by network id.</summary>
    public static void Heatmap(PairwiseMatrix matrix, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var order = Clustering.LeafOrder(matrix);
        int n = matrix.Size;
        var data = new double[n, n];
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                data[r, c] = matrix[order[r], order[c]];
            }
        }

        var plot = Figures.NewPlot();
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        // Row 0 of the data is drawn at the top of the extent: row r sits at y = n − 1 − r.
        hm.Extent = new ScottPlot.CoordinateRect(-0.5, n - 0.5, -0.5, n - 0.5);
        var bar = plot.Add.ColorBar(hm);
        bar.Label = matrix.Metric;
        if (n <= 40)
        {
            string Id(int k) => matrix.Ids[order[k]].ToString(System.Globalization.CultureInfo.InvariantCulture);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, n).Select(k => new ScottPlot.Tick(k, Id(k))).ToArray());
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, n).Select(k => new ScottPlot.Tick(n - 1 - k, Id(k))).ToArray());
        }

        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Title(title);
        plot.XLabel("network (average-linkage order)");
        plot.YLabel("network");
        Figures.SavePng(plot, pngPath, 760, 640);
    }
}
