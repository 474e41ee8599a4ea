using System.Globalization;
using Engine.Plotting;

namespace Engine.Analysis.Chunks;

/// <summary>Figures of a chunk analysis: prototypes as a heatmap, a raster of chunk labels over trials, the grafting effect.</summary>
public static class ChunkFigures
{
    /// <summary>Chunk indices by decreasing step count (chunks with no step left out).</summary>
    public static int[] ByFrequency(ChunkExtraction chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var counts = chunks.Counts();
        return Enumerable.Range(0, chunks.Count).Where(c => counts[c] > 0).OrderByDescending(c => counts[c]).ThenBy(c => c).ToArray();
    }

    /// <summary>The <paramref name="maxChunks"/> most frequent prototypes (rows, with their latent) against units (columns).</summary>
    public static void Prototypes(ChunkExtraction chunks, IReadOnlyList<string> rowLabels, string pngPath, string title, int maxChunks = 32)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var order = ByFrequency(chunks).Take(maxChunks).ToArray();
        int rows = order.Length, n = chunks.Width;
        var data = new double[Math.Max(1, rows), n];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < n; j++)
            {
                data[r, j] = chunks.Prototypes[order[r]][j];
            }
        }

        var plot = Figures.NewPlot();
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.MellowRainbow();
        hm.Extent = new ScottPlot.CoordinateRect(-0.5, n - 0.5, -0.5, Math.Max(1, rows) - 0.5);
        plot.Add.ColorBar(hm).Label = "mean state";
        if (rows <= 40)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                Enumerable.Range(0, rows).Select(r => new ScottPlot.Tick(rows - 1 - r, rowLabels[order[r]])).ToArray());
        }

        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, Math.Max(1, rows) - 0.5);
        plot.Title(title);
        plot.XLabel("unit");
        plot.YLabel("chunk (most frequent first)");
        Figures.SavePng(plot, pngPath, 900, 120 + 22 * Math.Max(rows, 10));
    }

    /// <summary>Chunk labels over the first <paramref name="maxTrials"/> trials (rows; colour = frequency rank), with the latent label row under each.</summary>
    public static void Raster(ChunkExtraction chunks, int[]? latents, int trials, int steps, string pngPath, string title, int maxTrials = 6)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var rank = new int[chunks.Count];
        var order = ByFrequency(chunks);
        Array.Fill(rank, -1);
        for (int i = 0; i < order.Length; i++)
        {
            rank[order[i]] = i;
        }

        int shown = Math.Min(maxTrials, trials), per = latents is null ? 1 : 2;
        var data = new double[shown * per, steps];
        for (int b = 0; b < shown; b++)
        {
            for (int t = 0; t < steps; t++)
            {
                int s = b * steps + t, l = chunks.Labels[s];
                data[b * per, t] = l < 0 ? double.NaN : Math.Min(rank[l], 20);
                if (latents is not null)
                {
                    data[b * per + 1, t] = latents[s] < 0 ? double.NaN : latents[s];
                }
            }
        }

        var plot = Figures.NewPlot();
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Turbo();
        int rows = shown * per;
        hm.Extent = new ScottPlot.CoordinateRect(-0.5, steps - 0.5, -0.5, rows - 0.5);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, rows)
            .Select(r => new ScottPlot.Tick(rows - 1 - r, string.Create(CultureInfo.InvariantCulture, $"trial {r / per} {(r % per == 0 ? "chunk" : "latent")}"))).ToArray());
        plot.Axes.SetLimits(-0.5, steps - 0.5, -0.5, rows - 0.5);
        plot.Title(title);
        plot.XLabel("step (chunk colour: frequency rank, 20+ shared; latent colour: its value)");
        Figures.SavePng(plot, pngPath, 1100, 140 + 40 * rows);
    }

    /// <summary>Per grafted chunk, the share of outputs that decode to its continuation after grafting and without.</summary>
    public static void Graft(GraftResult graft, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(graft);
        var plot = Figures.NewPlot();
        var bars = new List<ScottPlot.Bar>();
        var grafted = ScottPlot.Colors.Category10[0];
        var baseline = ScottPlot.Colors.Category10[7];
        for (int i = 0; i < graft.Chunks.Count; i++)
        {
            bars.Add(new ScottPlot.Bar { Position = 3 * i, Value = graft.Chunks[i].Grafted, FillColor = grafted });
            bars.Add(new ScottPlot.Bar { Position = 3 * i + 1, Value = graft.Chunks[i].Baseline, FillColor = baseline });
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(graft.Chunks
            .Select((c, i) => new ScottPlot.Tick(3 * i + 0.5, $"{c.Name}→{c.ExpectedName}")).ToArray());
        plot.Axes.Bottom.TickLabelStyle.FontSize = 10;
        plot.XLabel("chunk → its continuation");
        plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = "grafted", FillColor = grafted });
        plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = "baseline (no graft)", FillColor = baseline });
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.Axes.SetLimits(-1, Math.Max(2, 3 * graft.Chunks.Count), 0, 1.15);
        plot.Title(title);
        plot.YLabel("share of outputs at the chunk's continuation");
        Figures.SavePng(plot, pngPath, 1000, 520);
    }
}
