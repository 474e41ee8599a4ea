namespace Engine.Study;

/// <summary>Computes the per-condition summaries and the per-factor trends of a study's results.</summary>
/// <remarks>
/// Everything runs over the converged networks of a condition only (status <c>converged</c>), in network-index order;
/// non-finite values (not measured) are skipped, and fixed-point counts of −1 (no census) likewise. Pair statistics
/// use the networks that appear in the condition's pair rows of that metric. Failed conditions are summarised from
/// whatever data they have and enter trends only with a finite statistic (one with no converged network has none).
/// </remarks>
public static class StudySummaries
{
    /// <summary>The status string of a converged network.</summary>
    public const string ConvergedStatus = "converged";

    /// <summary>One summary per condition of <paramref name="results"/>, in plan order.</summary>
    public static IReadOnlyList<ConditionSummary> Conditions(StudyResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var data = ConditionData.All(results);
        var outcomes = results.Outcomes.GroupBy(o => o.Condition).ToDictionary(g => g.Key, g => g.Last());
        return results.Conditions.Select(c => Summarize(results, data[c.Id], outcomes.GetValueOrDefault(c.Id))).ToArray();
    }

    /// <summary>One trend row per (task, factor) series of <paramref name="results"/> and degeneracy level with at least one finite statistic.</summary>
    /// <remarks>
    /// Series are grouped from <see cref="StudyResults.Levels"/> by task and factor (in order of first appearance) and
    /// ordered by level. ρ is Spearman's between level and the condition's statistic over the conditions where it is
    /// finite; each bootstrap resample redraws the networks of every such condition independently and recomputes each
    /// statistic, then ρ (resamples where a statistic or ρ is not finite are skipped).
    /// </remarks>
    public static IReadOnlyList<TrendRow> Trends(StudyResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var data = ConditionData.All(results);
        var rows = new List<TrendRow>();
        foreach (var series in Series(results))
        {
            foreach (var (level, metric) in PaperDirections.Levels)
            {
                var points = series.Points
                    .Where(p => data.ContainsKey(p.Condition))
                    .Select(p => (p.Level, Sample: data[p.Condition].Sample(metric)))
                    .Where(p => double.IsFinite(p.Sample.Statistic()))
                    .ToArray();
                if (points.Length == 0)
                {
                    continue;
                }

                var rho = TrendRho(points, results.BootstrapSamples,
                    StudyStatistics.BootstrapRng(results.BootstrapSeed, $"trend|{series.Task}|{series.Factor}|{metric}"));
                int direction = PaperDirections.Of(series.Factor, level);
                rows.Add(new TrendRow(series.Task, series.Factor, level, metric, points.Length, rho, direction,
                    TrendVerdicts.Of(points.Length, rho, direction)));
            }
        }

        return rows;
    }

    /// <summary>The (task, factor) series of the plan, each ordered by level (then condition id).</summary>
    public static IReadOnlyList<(string Task, string Factor, IReadOnlyList<FactorLevel> Points)> Series(StudyResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return results.Levels
            .GroupBy(l => (l.Task, l.Factor))
            .Select(g => (g.Key.Task, g.Key.Factor,
                (IReadOnlyList<FactorLevel>)g.OrderBy(l => l.Level).ThenBy(l => l.Condition, StringComparer.Ordinal).ToArray()))
            .ToArray();
    }

    private static Estimate TrendRho((double Level, Sample Sample)[] points, int samples, Util.Rng rng)
    {
        var x = points.Select(p => p.Level).ToArray();
        double rho = StudyStatistics.Spearman(x, points.Select(p => p.Sample.Statistic()).ToArray());
        if (!double.IsFinite(rho))
        {
            return new Estimate(rho, double.NaN, double.NaN);
        }

        var y = new double[points.Length];
        var stats = new List<double>(samples);
        var draws = points.Select(p => new int[p.Sample.Size]).ToArray();
        for (int b = 0; b < samples; b++)
        {
            bool ok = true;
            for (int k = 0; k < points.Length; k++)
            {
                var d = draws[k];
                for (int i = 0; i < d.Length; i++)
                {
                    d[i] = rng.NextInt(d.Length);
                }

                y[k] = points[k].Sample.Statistic(d);
                ok &= double.IsFinite(y[k]);
            }

            double r = ok ? StudyStatistics.Spearman(x, y) : double.NaN;
            if (double.IsFinite(r))
            {
                stats.Add(r);
            }
        }

        return StudyStatistics.Interval(rho, stats);
    }

    private static ConditionSummary Summarize(StudyResults results, ConditionData d, ConditionOutcome? outcome)
    {
        Estimate Boot(string metric) => d.Sample(metric).Bootstrap(results.BootstrapSamples,
            StudyStatistics.BootstrapRng(results.BootstrapSeed, $"{d.Id}|{metric}"));

        return new ConditionSummary(d.Id, d.Converged.Length, d.Networks, Boot("sigma_ood"), Boot("ood_mse"), Boot("dsa"),
            Boot("pif"), Boot("cka"), Boot("shape"), Boot("weight_change"), Boot("kernel_alignment"), Boot("fixed_points"),
            outcome?.Failed ?? false, outcome?.Reason);
    }

    /// <summary>A statistic of a condition that can be recomputed on a resample of its networks.</summary>
    private abstract class Sample
    {
        public abstract int Size { get; }

        public abstract double Statistic(IReadOnlyList<int> draws);

        public abstract Estimate Bootstrap(int samples, Util.Rng rng);

        public double Statistic() => Statistic(Enumerable.Range(0, Size).ToArray());
    }

    private sealed class ValueSample(double[] values, Func<IReadOnlyList<double>, double> statistic) : Sample
    {
        public override int Size => values.Length;

        public override double Statistic(IReadOnlyList<int> draws)
            => draws.Count == 0 ? double.NaN : statistic(draws.Select(i => values[i]).ToArray());

        public override Estimate Bootstrap(int samples, Util.Rng rng) => StudyStatistics.Bootstrap(values, statistic, samples, rng);
    }

    private sealed class PairSample(PairTable table) : Sample
    {
        public override int Size => table.Size;

        public override double Statistic(IReadOnlyList<int> draws) => StudyStatistics.PairMean(table, draws);

        public override Estimate Bootstrap(int samples, Util.Rng rng) => StudyStatistics.BootstrapPairs(table, samples, rng);
    }

    private sealed class ConditionData
    {
        private readonly Dictionary<string, PairTable> _pairs;

        private ConditionData(string id, int networks, NetworkRow[] converged, Dictionary<string, PairTable> pairs)
        {
            Id = id;
            Networks = networks;
            Converged = converged;
            _pairs = pairs;
        }

        public string Id { get; }

        public int Networks { get; }

        public NetworkRow[] Converged { get; }

        public static Dictionary<string, ConditionData> All(StudyResults results)
        {
            var nets = results.Networks.ToLookup(n => n.Condition);
            var pairs = results.Pairs.ToLookup(p => p.Condition);
            var all = new Dictionary<string, ConditionData>(StringComparer.Ordinal);
            foreach (var c in results.Conditions)
            {
                var rows = nets[c.Id].ToArray();
                var converged = rows.Where(n => n.Status == ConvergedStatus).OrderBy(n => n.Network).ToArray();
                var tables = pairs[c.Id].GroupBy(p => p.Metric)
                    .ToDictionary(g => g.Key, g => PairTable.FromRows(g), StringComparer.Ordinal);
                all[c.Id] = new ConditionData(c.Id, rows.Length, converged, tables);
            }

            return all;
        }

        public Sample Sample(string metric)
        {
            static double Average(IReadOnlyList<double> v) => v.Average();
            double[] Finite(Func<NetworkRow, double> f) => Converged.Select(f).Where(double.IsFinite).ToArray();
            return metric switch
            {
                "sigma_ood" => new ValueSample(Finite(n => n.OodMse), StudyStatistics.PopulationStd),
                "ood_mse" => new ValueSample(Finite(n => n.OodMse), Average),
                "weight_change" => new ValueSample(Finite(n => n.WeightChange), Average),
                "kernel_alignment" => new ValueSample(Finite(n => n.KernelAlignment), Average),
                "fixed_points" => new ValueSample(Finite(n => n.FixedPoints < 0 ? double.NaN : n.FixedPoints), Average),
                _ => new PairSample(_pairs.TryGetValue(metric, out var t) ? t : new PairTable([])),
            };
        }
    }
}
