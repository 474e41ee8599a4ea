using System.Globalization;
using System.Text;
using Engine.IO;
using Engine.Plotting;
using ScottPlot;

namespace Engine.Analysis.PathIntegration;

/// <summary>Writes a <see cref="PathIntegrationResult"/>: units.csv, summary.json, rate maps as .npy, and three figures.</summary>
/// <remarks>
/// Files: <c>units.csv</c> (one row per unit: scores, class, tuning), <c>summary.json</c>, <c>rate_maps.npy</c> float32 [E][N][n][n]
/// (grid-score resolution; row = y bin from −extent up), <c>rate_maps_band.npy</c> [E][N][m][m], <c>occupancy.npy</c> int64 [n][n],
/// <c>null_grid.npy</c> / <c>null_band.npy</c> float64, <c>rate_maps.png</c> (top units per class), <c>scores_grid.png</c> and <c>scores_band.png</c>
/// (score distributions against the shuffle null), <c>pruning.png</c> (error per condition against its random control).
/// </remarks>
public static class PathIntegrationOutput
{
    /// <summary>Writes every file into <paramref name="folder"/>; <paramref name="context"/> is added to the JSON (source, backend…).</summary>
    public static void Write(string folder, PathIntegrationResult r, IReadOnlyDictionary<string, object> context)
    {
        ArgumentNullException.ThrowIfNull(r);
        int n = r.Options.Bins, m = r.Options.BandBins;
        Npy.Write(Path.Combine(folder, "rate_maps.npy"), r.RateMaps, r.Networks, r.Units, n, n);
        Npy.Write(Path.Combine(folder, "rate_maps_band.npy"), r.BandMaps, r.Networks, r.Units, m, m);
        Npy.Write(Path.Combine(folder, "occupancy.npy"), r.Occupancy, n, n);
        Npy.Write(Path.Combine(folder, "null_grid.npy"), r.NullGrid, r.NullGrid.Length);
        Npy.Write(Path.Combine(folder, "null_band.npy"), r.NullBand, r.NullBand.Length);
        AtomicFile.WriteText(Path.Combine(folder, "units.csv"), Csv(r));
        JsonOutput.Write(Path.Combine(folder, "summary.json"), Summary(r, context));
        RateMapFigure(Path.Combine(folder, "rate_maps.png"), r);
        ScoreFigure(Path.Combine(folder, "scores_grid.png"), r, band: false);
        ScoreFigure(Path.Combine(folder, "scores_band.png"), r, band: true);
        PruningFigure(Path.Combine(folder, "pruning.png"), r);
    }

    /// <summary>Class counts under the paper's fixed thresholds (grid 0.88 in the classifying form, band 5.8).</summary>
    public static Dictionary<string, int> PaperCounts(PathIntegrationResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var classes = r.UnitScores.Select(u => PathIntegrationAnalysis.Classify(
            (r.Options.Form == GridScoreForm.Mean ? u.Grid : u.GridMinMax) > PathIntegrationOptions.PaperGridThreshold,
            u.Band.Score > PathIntegrationOptions.PaperBandThreshold)).ToArray();
        return Counts(classes);
    }

    /// <summary>Class counts under the thresholds used.</summary>
    public static Dictionary<string, int> Counts(PathIntegrationResult r) => Counts(r.UnitScores.Select(u => u.Class).ToArray());

    private static Dictionary<string, int> Counts(UnitClass[] classes)
        => new() { ["band"] = classes.Count(c => c == UnitClass.Band), ["grid"] = classes.Count(c => c == UnitClass.Grid), ["neither"] = classes.Count(c => c == UnitClass.Neither) };

    /// <summary>Units whose band fit sits at k0's lower bound 0.2 (the longest period the fit allows: a ramp across the map more than a band).</summary>
    public static int KAtLowerBound(PathIntegrationResult r) => r.UnitScores.Count(u => u.Band.K0 <= 0.2 + 1e-6);

    private static string Csv(PathIntegrationResult r)
    {
        var sb = new StringBuilder("network,unit,class,grid_score,grid_score_minmax,band_score,band_cosine,band_k0,band_phi,band_sigma,band_orientation,band_spacing,speed_correlation,heading_tuning,preferred_heading,passes_grid,passes_band\n");
        foreach (var u in r.UnitScores)
        {
            sb.AppendLine(string.Join(',', u.Network.ToString(CultureInfo.InvariantCulture), u.Unit.ToString(CultureInfo.InvariantCulture), Pruning.NameOf(u.Class),
                F(u.Grid), F(u.GridMinMax), F(u.Band.Score), F(u.Band.Cosine), F(u.Band.K0), F(u.Band.Phi), F(u.Band.Sigma), F(u.Band.Orientation), F(u.Spacing),
                F(u.SpeedCorrelation), F(u.HeadingTuning), F(u.PreferredHeading), u.PassesGrid ? "1" : "0", u.PassesBand ? "1" : "0"));
        }

        return sb.ToString();
    }

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static Dictionary<string, object?> Summary(PathIntegrationResult r, IReadOnlyDictionary<string, object> context)
    {
        var d = new Dictionary<string, object?>(context.ToDictionary(k => k.Key, k => (object?)k.Value))
        {
            ["options"] = r.Options,
            ["networks"] = r.Networks, ["units"] = r.Units, ["steps"] = r.Steps, ["samples_per_network"] = r.Samples,
            ["extent"] = r.Extent, ["arena_side"] = r.ArenaSide, ["coverage"] = r.Coverage,
            ["empty_bins"] = "0 (the authors' convention; occupancy.npy tells which)",
            ["thresholds"] = new Dictionary<string, object?>
            {
                ["used"] = r.Options.Thresholds.ToString().ToLowerInvariant(),
                ["grid"] = r.GridThreshold, ["band"] = r.BandThreshold,
                ["shuffle_grid"] = JsonOutput.Finite(r.ShuffleGridThreshold), ["shuffle_band"] = JsonOutput.Finite(r.ShuffleBandThreshold),
                ["paper_grid"] = PathIntegrationOptions.PaperGridThreshold, ["paper_band"] = PathIntegrationOptions.PaperBandThreshold,
            },
            ["classes"] = Counts(r), ["classes_paper_thresholds"] = PaperCounts(r),
            ["both_pass"] = r.UnitScores.Count(u => u.PassesBand && u.PassesGrid),
            ["band_fits_at_k0_lower_bound"] = KAtLowerBound(r),
            ["pruning"] = r.Pruning.Select(c => new Dictionary<string, object?>
            {
                ["label"] = c.Label, ["kind"] = c.Kind, ["from"] = c.From, ["to"] = c.To, ["connections"] = c.Connections,
                ["error"] = c.Error, ["random_error"] = c.RandomError, ["mean_error"] = JsonOutput.Finite(c.MeanError),
                ["mean_random_error"] = JsonOutput.Finite(c.MeanRandomError),
                ["mean_error_percent_side"] = JsonOutput.Finite(100 * c.MeanError / r.ArenaSide),
                ["mean_random_error_percent_side"] = JsonOutput.Finite(100 * c.MeanRandomError / r.ArenaSide),
            }).ToList(),
            ["summary"] = r.Summary,
            ["left_out"] = r.LeftOut.ToDictionary(kv => kv.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), kv => kv.Value),
            ["seconds"] = new Dictionary<string, double> { ["run"] = r.RunTime.TotalSeconds, ["maps_and_scores"] = r.ScoreTime.TotalSeconds, ["pruning"] = r.PruneTime.TotalSeconds },
        };
        return d;
    }

    /// <summary>Rate maps of the top-scoring units of each class (rows: band, grid, neither; each map scaled to its own range).</summary>
    public static void RateMapFigure(string path, PathIntegrationResult r, int perClass = 6)
    {
        ArgumentNullException.ThrowIfNull(r);
        int n = r.Options.Bins;
        var plot = Figures.NewPlot();
        UnitClass[] rows = [UnitClass.Band, UnitClass.Grid, UnitClass.Neither];
        for (int row = 0; row < rows.Length; row++)
        {
            var c = rows[row];
            var top = r.UnitScores.Where(u => u.Class == c)
                .OrderByDescending(u => c == UnitClass.Band ? u.Band.Score : c == UnitClass.Grid ? u.Grid : -Math.Abs(u.Grid)).Take(perClass).ToList();
            if (top.Count == 0)
            {
                plot.Add.Text($"no {Pruning.NameOf(c)} units", 0, (rows.Length - 1 - row) * 1.3 + 0.5).LabelFontSize = 14;
            }

            for (int k = 0; k < top.Count; k++)
            {
                var u = top[k];
                var map = r.RateMaps.AsSpan((u.Network * r.Units + u.Unit) * n * n, n * n);
                float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
                foreach (float v in map)
                {
                    lo = Math.Min(lo, v);
                    hi = Math.Max(hi, v);
                }

                var data = new double[n, n];
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        data[i, j] = hi > lo ? (map[(n - 1 - i) * n + j] - lo) / (hi - lo) : 0; // row 0 of the data is drawn on top
                    }
                }

                var hm = plot.Add.Heatmap(data);
                hm.Colormap = new ScottPlot.Colormaps.Viridis();
                double x0 = k * 1.15, y0 = (rows.Length - 1 - row) * 1.3;
                hm.Extent = new CoordinateRect(x0, x0 + 1, y0, y0 + 1);
                var t = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"{Pruning.NameOf(c)} e{u.Network} u{u.Unit}: g {u.Grid:F2} b {u.Band.Score:F1}"), x0, y0 + 1.15);
                t.LabelFontSize = 9;
            }
        }

        plot.HideGrid();
        plot.Axes.Frameless();
        plot.Axes.SetLimits(-0.1, perClass * 1.15, -0.1, rows.Length * 1.3);
        plot.Title("rate maps of the top units per class (rows: band, grid, neither)");
        Figures.SavePng(plot, path, 1200, 700);
    }

    /// <summary>Distribution of the grid (<paramref name="band"/> false) or band scores of the units against the shuffle null, with the thresholds.</summary>
    public static void ScoreFigure(string path, PathIntegrationResult r, bool band)
    {
        ArgumentNullException.ThrowIfNull(r);
        var plot = Figures.NewPlot();
        var real = band ? r.UnitScores.Select(u => u.Band.Score).ToArray()
            : r.UnitScores.Select(u => r.Options.Form == GridScoreForm.Mean ? u.Grid : u.GridMinMax).ToArray();
        string name = band ? "band score" : $"grid score ({(r.Options.Form == GridScoreForm.Mean ? "mean" : "min/max")} form)";
        AddHistogram(plot, real, band ? r.NullBand : r.NullGrid, 0, 1, name);
        double shuffle = band ? r.ShuffleBandThreshold : r.ShuffleGridThreshold;
        double paper = band ? PathIntegrationOptions.PaperBandThreshold : PathIntegrationOptions.PaperGridThreshold;
        foreach (var (x, label, pattern) in new[] { (shuffle, $"shuffle {r.Options.Percentile:G3}th percentile", LinePattern.Solid), (paper, $"paper {paper:G3}", LinePattern.Dashed) })
        {
            if (double.IsFinite(x))
            {
                var line = plot.Add.VerticalLine(x);
                line.LegendText = label;
                line.LinePattern = pattern;
            }
        }

        plot.ShowLegend(Alignment.UpperRight);
        plot.Title($"{name}: units (solid) vs circularly shifted activity (dotted)");
        plot.XLabel(name);
        plot.YLabel("fraction of units");
        Figures.SavePng(plot, path, 900, 550);
    }

    private static void AddHistogram(Plot plot, double[] real, double[] shuffled, double offset, double scale, string name)
    {
        var all = real.Concat(shuffled).Where(double.IsFinite).Select(v => v * scale).ToArray();
        if (all.Length == 0)
        {
            return;
        }

        double lo = all.Min(), hi = Math.Max(all.Max(), lo + 1e-9);
        const int bins = 30;
        double[] Density(double[] v)
        {
            var h = new double[bins];
            var f = v.Where(double.IsFinite).ToArray();
            foreach (double x in f)
            {
                h[Math.Clamp((int)((x * scale - lo) / (hi - lo) * bins), 0, bins - 1)]++;
            }

            return h.Select(c => f.Length > 0 ? c / f.Length : 0).ToArray();
        }

        var xs = Enumerable.Range(0, bins).Select(k => offset + lo + (k + 0.5) * (hi - lo) / bins).ToArray();
        var a = plot.Add.Scatter(xs, Density(real));
        a.LegendText = name + " units";
        if (shuffled.Length > 0)
        {
            var b = plot.Add.Scatter(xs, Density(shuffled));
            b.LegendText = name + " shuffled";
            b.LinePattern = LinePattern.Dotted;
        }
    }

    /// <summary>Error (% of the arena side) of every pruning condition with connections, beside its random control.</summary>
    public static void PruningFigure(string path, PathIntegrationResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var conds = r.Pruning.Where(c => c.Connections.Sum() > 0).ToList();
        var plot = Figures.NewPlot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (int k = 0; k < conds.Count; k++)
        {
            bars.Add(new Bar { Position = 3 * k, Value = 100 * conds[k].MeanError / r.ArenaSide, FillColor = Colors.SteelBlue });
            bars.Add(new Bar { Position = 3 * k + 1, Value = 100 * conds[k].MeanRandomError / r.ArenaSide, FillColor = Colors.LightGray });
            ticks.Add(new Tick(3 * k + 0.5, conds[k].Label));
        }

        plot.Add.Bars(bars);
        foreach (var (kind, label) in new[] { ("intact", "intact"), ("untrained", "untrained") })
        {
            var c = r.Pruning.First(p => p.Kind == kind);
            var line = plot.Add.HorizontalLine(100 * c.MeanError / r.ArenaSide);
            line.LegendText = label;
            line.LinePattern = LinePattern.Dashed;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 130;
        plot.ShowLegend();
        plot.Title("pruning: error by condition (blue) vs as many random connections (grey)");
        plot.YLabel("position error, % of arena side");
        Figures.SavePng(plot, path, 1200, 650);
    }
}
