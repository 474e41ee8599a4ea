using System.Globalization;
using Engine.IO;

namespace Engine.Study;

/// <summary>Turns a study's results into its report: statistics, tidy CSV/JSON, figures, report.md and a self-contained report.html.</summary>
/// <remarks>
/// Layout under the output folder: <c>networks.csv</c>, <c>pairs.csv</c>, <c>conditions.csv</c>, <c>trends.csv</c>,
/// <c>timings.csv</c>, <c>study.json</c> (see <see cref="StudyTables"/>); <c>figures/{task}-{factor}-{metric}.png</c>
/// (statistic against level, interval band; see <see cref="StudyFigures.Trend"/>) and
/// <c>figures/heatmaps/{condition}-{metric}.png</c>; <c>report.md</c> and <c>report.html</c>. Everything in the report
/// before its last section, <c>## Cost</c>, is a function of the results other than their timings (no dates, wall times
/// or absolute paths), so a resumed study writes the same text as an uninterrupted one.
/// </remarks>
public static class StudyReport
{
    /// <summary>The line that starts the cost section, the last of the report.</summary>
    public const string CostHeading = "## Cost";

    /// <summary>How many of the slowest units the cost section lists.</summary>
    public const int SlowestUnits = 10;

    /// <summary>Computes everything and writes it under <paramref name="outDir"/> (created); returns the summaries it wrote.</summary>
    public static StudyReportSummary Write(StudyResults results, string outDir)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentException.ThrowIfNullOrWhiteSpace(outDir);
        string dir = Path.GetFullPath(outDir);
        Directory.CreateDirectory(dir);

        var summaries = StudySummaries.Conditions(results);
        var trends = StudySummaries.Trends(results);
        StudyTables.Write(results, summaries, trends, dir);

        var trendFigures = WriteTrendFigures(results, summaries, trends, dir);
        var heatmaps = WriteHeatmaps(results, dir);

        var doc = Build(results, summaries, trends, trendFigures, heatmaps);
        string md = Path.Combine(dir, "report.md"), html = Path.Combine(dir, "report.html");
        AtomicFile.WriteText(md, doc.ToMarkdown());
        AtomicFile.WriteText(html, doc.ToHtml($"Study report: {results.Name}", dir));
        return new StudyReportSummary(summaries, trends, md, html);
    }

    /// <summary>The per-condition estimate a trend metric is computed from (sigma_ood, dsa, pif, cka, shape).</summary>
    public static Estimate StatisticOf(ConditionSummary summary, string metric)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return metric switch
        {
            "sigma_ood" => summary.SigmaOod,
            "dsa" => summary.MeanDsa,
            "pif" => summary.MeanPif,
            "cka" => summary.MeanCka,
            "shape" => summary.MeanShape,
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be sigma_ood, dsa, pif, cka or shape."),
        };
    }

    /// <summary>A human label of a trend metric.</summary>
    public static string MetricLabel(string metric) => metric switch
    {
        "sigma_ood" => "σ_OOD (std of OOD MSE over seeds)",
        "dsa" => "mean DSA distance",
        "pif" => "mean d_PIF (weight space)",
        "cka" => "mean CKA distance",
        "shape" => "mean shape distance",
        _ => metric,
    };

    /// <summary>An estimate as <c>value [low, high]</c> with 3 significant digits; "—" when not computable.</summary>
    public static string Format(Estimate e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (double.IsNaN(e.Value))
        {
            return "—";
        }

        return double.IsNaN(e.Low) || double.IsNaN(e.High) ? G3(e.Value) : $"{G3(e.Value)} [{G3(e.Low)}, {G3(e.High)}]";
    }

    private static string G3(double v) => v.ToString("G3", CultureInfo.InvariantCulture);

    private static string Safe(string name)
        => new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());

    private static string TrendFigurePath(TrendRow t) => $"figures/{Safe(t.Task)}-{Safe(t.Factor)}-{t.Metric}.png";

    private static Dictionary<TrendRow, string> WriteTrendFigures(
        StudyResults results, IReadOnlyList<ConditionSummary> summaries, IReadOnlyList<TrendRow> trends, string dir)
    {
        var byId = summaries.ToDictionary(s => s.Condition, StringComparer.Ordinal);
        var series = StudySummaries.Series(results).ToDictionary(s => (s.Task, s.Factor));
        var paths = new Dictionary<TrendRow, string>(ReferenceEqualityComparer.Instance);
        foreach (var t in trends)
        {
            var points = series[(t.Task, t.Factor)].Points
                .Where(p => byId.ContainsKey(p.Condition))
                .Select(p => (p.Level, StatisticOf(byId[p.Condition], t.Metric)))
                .ToArray();
            string path = TrendFigurePath(t);
            StudyFigures.Trend(points, t.Factor, MetricLabel(t.Metric), Path.Combine(dir, path),
                $"{t.Task}: {MetricLabel(t.Metric)} vs {t.Factor} (ρ = {Format(t.Rho)})");
            paths[t] = path;
        }

        return paths;
    }

    private static Dictionary<string, List<(string Metric, string Path)>> WriteHeatmaps(StudyResults results, string dir)
    {
        var pairs = results.Pairs.ToLookup(p => p.Condition);
        var maps = new Dictionary<string, List<(string, string)>>(StringComparer.Ordinal);
        foreach (var c in results.Conditions)
        {
            foreach (var g in pairs[c.Id].GroupBy(p => p.Metric).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                string path = $"figures/heatmaps/{Safe(c.Id)}-{Safe(g.Key)}.png";
                if (StudyFigures.Heatmap(g, g.Key, Path.Combine(dir, path), $"{c.Id}: {g.Key} distance"))
                {
                    if (!maps.TryGetValue(c.Id, out var list))
                    {
                        maps[c.Id] = list = [];
                    }

                    list.Add((g.Key, path));
                }
            }
        }

        return maps;
    }

    private static ReportDocument Build(StudyResults results, IReadOnlyList<ConditionSummary> summaries, IReadOnlyList<TrendRow> trends,
        Dictionary<TrendRow, string> trendFigures, Dictionary<string, List<(string Metric, string Path)>> heatmaps)
    {
        var doc = new ReportDocument();
        doc.Add(new ReportDocument.Heading(1, $"Study report: {results.Name}"));
        doc.Add(new ReportDocument.Heading(2, "How to read"));
        doc.Add(new ReportDocument.Paragraph(
            "Each task varies one factor at a time around a baseline; every condition trains several seeds, and all statistics use " +
            "the converged networks only. Degeneracy is measured at four levels: behaviour (σ_OOD, the population standard deviation " +
            "of the OOD MSE over seeds), dynamics (mean pairwise DSA distance), weights (mean pairwise d_PIF) and representation " +
            "(mean pairwise CKA distance); higher means more degenerate. Each number is shown as `value [low, high]`, the estimate " +
            $"and its bootstrap 95% percentile interval over seeds ({results.BootstrapSamples} resamples, seed {results.BootstrapSeed}). " +
            "A trend is Spearman's ρ between the factor's value and the statistic, with an interval from resampling the seeds of " +
            "every condition; it agrees with Huang et al. 2025 when the interval excludes 0 on the published side (↑: degeneracy " +
            "rises with the factor, ↓: falls, —: no published direction), and is inconclusive when the interval contains 0. " +
            "Fewer than 3 levels with data are reported as too few levels."));

        var byId = summaries.ToDictionary(s => s.Condition, StringComparer.Ordinal);
        bool fixedPoints = summaries.Any(s => double.IsFinite(s.FixedPoints.Value));
        bool shape = summaries.Any(s => double.IsFinite(s.MeanShape.Value));
        var series = StudySummaries.Series(results);
        foreach (var task in series.Select(s => s.Task).Distinct())
        {
            doc.Add(new ReportDocument.Heading(2, $"Task: {task}"));
            foreach (var (_, factor, points) in series.Where(s => s.Task == task))
            {
                doc.Add(new ReportDocument.Heading(3, $"{task}: {factor}"));
                var header = new List<string> { factor, "condition", "converged n/N", "σ_OOD", "mean DSA", "mean d_PIF", "mean CKA distance" };
                if (shape)
                {
                    header.Add("mean shape distance");
                }

                header.AddRange(["‖W_T−W_0‖", "kernel alignment"]);
                if (fixedPoints)
                {
                    header.Add("fixed points");
                }

                var rows = new List<IReadOnlyList<string>>();
                foreach (var p in points.Where(p => byId.ContainsKey(p.Condition)))
                {
                    var s = byId[p.Condition];
                    var row = new List<string>
                    {
                        G3(p.Level), s.Failed ? $"`{s.Condition}` (failed)" : $"`{s.Condition}`", $"{s.Converged}/{s.Networks}",
                        Format(s.SigmaOod), Format(s.MeanDsa), Format(s.MeanPif), Format(s.MeanCka),
                    };
                    if (shape)
                    {
                        row.Add(Format(s.MeanShape));
                    }

                    row.AddRange([Format(s.WeightChange), Format(s.KernelAlignment)]);
                    if (fixedPoints)
                    {
                        row.Add(Format(s.FixedPoints));
                    }

                    rows.Add(row);
                }

                doc.Add(new ReportDocument.Table(header, rows));
                var seriesTrends = trends.Where(t => t.Task == task && t.Factor == factor).ToArray();
                if (seriesTrends.Length == 0)
                {
                    doc.Add(new ReportDocument.Paragraph("No degeneracy statistic could be computed for this series."));
                    continue;
                }

                doc.Add(new ReportDocument.Paragraph($"Trends along {factor}:"));
                doc.Add(new ReportDocument.Table(
                    ["level", "metric", "levels", "ρ [low, high]", "paper direction", "verdict"],
                    seriesTrends.Select(t => (IReadOnlyList<string>)
                    [
                        t.Level, t.Metric, t.Points.ToString(CultureInfo.InvariantCulture), Format(t.Rho), Arrow(t.PaperDirection), t.Verdict,
                    ]).ToArray()));
                foreach (var t in seriesTrends)
                {
                    doc.Add(new ReportDocument.Image($"{task}: {MetricLabel(t.Metric)} vs {factor}", trendFigures[t]));
                }
            }
        }

        if (heatmaps.Count > 0)
        {
            doc.Add(new ReportDocument.Heading(2, "Distance heatmaps"));
            doc.Add(new ReportDocument.Paragraph("Pairwise distances between the converged networks of each condition, rows and columns in average-linkage order."));
            foreach (var c in results.Conditions.Where(c => heatmaps.ContainsKey(c.Id)))
            {
                doc.Add(new ReportDocument.Gallery($"`{c.Id}`", heatmaps[c.Id].Select(h => (h.Metric, h.Path)).ToArray()));
            }
        }

        doc.Add(new ReportDocument.Heading(2, "Failed conditions"));
        var failed = results.Conditions
            .Select(c => results.Outcomes.LastOrDefault(o => o.Condition == c.Id))
            .Where(o => o is { Failed: true })
            .Select(o => $"`{o!.Condition}`: {o.Reason ?? "no reason given"}")
            .ToArray();
        if (failed.Length == 0)
        {
            doc.Add(new ReportDocument.Paragraph("None."));
        }
        else
        {
            doc.Add(new ReportDocument.Paragraph("These conditions are listed with whatever data they have; the others are reported in full."));
            doc.Add(new ReportDocument.Bullets(failed));
        }

        doc.Add(new ReportDocument.Heading(2, "Recipe"));
        doc.Add(string.IsNullOrWhiteSpace(results.RecipeMarkdown)
            ? new ReportDocument.Paragraph("No recipe recorded.")
            : new ReportDocument.RawMarkdown(results.RecipeMarkdown));
        doc.Add(new ReportDocument.Heading(2, "Config"));
        doc.Add(new ReportDocument.Code("json", results.ConfigJson));
        doc.Add(new ReportDocument.Heading(2, "Engine and machine"));
        doc.Add(new ReportDocument.Bullets([$"Engine: {results.EngineVersion}", $"Machine: {results.Machine}", $"Analyses: {string.Join(", ", results.Analyses)}"]));

        AddCost(doc, results.Timings);
        return doc;
    }

    private static void AddCost(ReportDocument doc, IReadOnlyList<StageTiming> timings)
    {
        doc.Add(new ReportDocument.Heading(2, CostHeading[3..]));
        if (timings.Count == 0)
        {
            doc.Add(new ReportDocument.Paragraph("No timings recorded."));
            return;
        }

        double total = timings.Sum(t => t.Seconds);
        doc.Add(new ReportDocument.Paragraph($"Wall time as recorded when each stage ran: {G3(total)} s in all. This is the only section that differs between runs."));
        doc.Add(new ReportDocument.Table(["stage", "units", "total s", "mean s", "max s"],
            timings.GroupBy(t => t.Stage).OrderByDescending(g => g.Sum(t => t.Seconds)).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (IReadOnlyList<string>)
                [
                    g.Key, g.Count().ToString(CultureInfo.InvariantCulture), G3(g.Sum(t => t.Seconds)), G3(g.Average(t => t.Seconds)), G3(g.Max(t => t.Seconds)),
                ]).ToArray()));
        doc.Add(new ReportDocument.Paragraph($"Slowest units (at most {SlowestUnits}):"));
        doc.Add(new ReportDocument.Table(["stage", "unit", "seconds"],
            timings.OrderByDescending(t => t.Seconds).ThenBy(t => t.Stage, StringComparer.Ordinal).ThenBy(t => t.Unit, StringComparer.Ordinal)
                .Take(SlowestUnits).Select(t => (IReadOnlyList<string>)[t.Stage, $"`{t.Unit}`", G3(t.Seconds)]).ToArray()));
    }

    private static string Arrow(int direction) => direction switch
    {
        > 0 => "↑",
        < 0 => "↓",
        _ => "—",
    };
}
