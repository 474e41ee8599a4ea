using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Engine.IO;

namespace Engine.Study;

/// <summary>The tidy files of a study report: networks.csv, pairs.csv, conditions.csv, trends.csv, timings.csv and study.json.</summary>
/// <remarks>
/// CSV: a snake_case header, numbers in the invariant culture with round-trip precision ("R"), NaN as an empty field,
/// text fields quoted when they hold a comma, quote or line break (RFC 4180). Rows are in plan order of the conditions,
/// then network (and metric, pair) order, whatever the order of the input rows. JSON: snake_case names, non-finite
/// numbers as null (JSON has no NaN). Every file is written through <see cref="AtomicFile"/>.
/// </remarks>
public static class StudyTables
{
    /// <summary>Estimate columns of conditions.csv, in order; each becomes name, name_low, name_high.</summary>
    public static IReadOnlyList<string> EstimateColumns { get; } =
    [
        "sigma_ood", "mean_ood_mse", "mean_dsa", "mean_pif", "mean_cka", "mean_shape", "weight_change", "kernel_alignment", "fixed_points",
    ];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new FiniteDoubleConverter() },
    };

    /// <summary>Writes the six tidy files under <paramref name="dir"/>.</summary>
    public static void Write(StudyResults results, IReadOnlyList<ConditionSummary> summaries, IReadOnlyList<TrendRow> trends, string dir)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentNullException.ThrowIfNull(trends);
        var order = PlanOrder(results);
        var networks = SortedNetworks(results, order);
        var pairs = SortedPairs(results, order);

        WriteCsv(Path.Combine(dir, "networks.csv"),
            ["condition", "network", "seed", "status", "epochs", "final_loss", "id_mse", "ood_mse", "weight_change", "kernel_alignment", "fixed_points", "stable_fixed_points"],
            networks.Select(n => new[]
            {
                Text(n.Condition), Int(n.Network), Int(n.Seed), Text(n.Status), Int(n.Epochs), Num(n.FinalLoss), Num(n.IdMse), Num(n.OodMse),
                Num(n.WeightChange), Num(n.KernelAlignment), Int(n.FixedPoints), Int(n.StableFixedPoints),
            }));

        WriteCsv(Path.Combine(dir, "pairs.csv"), ["condition", "metric", "network_a", "network_b", "value"],
            pairs.Select(p => new[] { Text(p.Condition), Text(p.Metric), Int(p.NetworkA), Int(p.NetworkB), Num(p.Value) }));

        var conditions = results.Conditions.ToDictionary(c => c.Id, StringComparer.Ordinal);
        var header = new List<string>
        {
            "condition", "task", "width", "parameterization", "gamma", "l1", "nuclear", "rank", "learning_rate", "complexity", "converged", "networks",
        };
        foreach (var e in EstimateColumns)
        {
            header.AddRange([e, e + "_low", e + "_high"]);
        }

        header.AddRange(["failed", "reason"]);
        WriteCsv(Path.Combine(dir, "conditions.csv"), header, summaries.Select(s =>
        {
            var c = conditions[s.Condition];
            var row = new List<string>
            {
                Text(c.Id), Text(c.Task), Int(c.Width), Text(c.Parameterization), Num(c.Gamma), Num(c.L1), Num(c.Nuclear), Int(c.Rank),
                Num(c.LearningRate), Int(c.Complexity), Int(s.Converged), Int(s.Networks),
            };
            foreach (var e in Estimates(s))
            {
                row.AddRange([Num(e.Value), Num(e.Low), Num(e.High)]);
            }

            row.AddRange([s.Failed ? "true" : "false", Text(s.Reason ?? "")]);
            return row;
        }));

        WriteCsv(Path.Combine(dir, "trends.csv"),
            ["task", "factor", "level", "metric", "points", "rho", "rho_low", "rho_high", "paper_direction", "verdict"],
            trends.Select(t => new[]
            {
                Text(t.Task), Text(t.Factor), Text(t.Level), Text(t.Metric), Int(t.Points), Num(t.Rho.Value), Num(t.Rho.Low), Num(t.Rho.High),
                Int(t.PaperDirection), Text(t.Verdict),
            }));

        WriteCsv(Path.Combine(dir, "timings.csv"), ["stage", "unit", "seconds"],
            results.Timings.Select(t => new[] { Text(t.Stage), Text(t.Unit), Num(t.Seconds) }));

        var study = new
        {
            results.Name,
            results.EngineVersion,
            results.Machine,
            results.BootstrapSamples,
            results.BootstrapSeed,
            results.Analyses,
            Config = ParseConfig(results.ConfigJson),
            results.Conditions,
            results.Levels,
            results.Outcomes,
            Summaries = summaries,
            Trends = trends,
            Networks = networks,
            Pairs = pairs,
            results.Timings,
        };
        AtomicFile.Write(Path.Combine(dir, "study.json"), s => JsonSerializer.Serialize(s, study, Json));
    }

    /// <summary>The estimates of a summary in the order of <see cref="EstimateColumns"/>.</summary>
    public static Estimate[] Estimates(ConditionSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return [s.SigmaOod, s.MeanOodMse, s.MeanDsa, s.MeanPif, s.MeanCka, s.MeanShape, s.WeightChange, s.KernelAlignment, s.FixedPoints];
    }

    /// <summary>One CSV field for a number: invariant "R", NaN as empty.</summary>
    public static string Num(double value) => double.IsNaN(value) ? "" : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>One CSV field for text, quoted per RFC 4180 where needed.</summary>
    public static string Text(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static Dictionary<string, int> PlanOrder(StudyResults results)
    {
        var order = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in results.Conditions)
        {
            order.TryAdd(c.Id, order.Count);
        }

        return order;
    }

    private static int Rank(Dictionary<string, int> order, string id) => order.TryGetValue(id, out int k) ? k : int.MaxValue;

    private static NetworkRow[] SortedNetworks(StudyResults results, Dictionary<string, int> order)
        => results.Networks.OrderBy(n => Rank(order, n.Condition)).ThenBy(n => n.Condition, StringComparer.Ordinal).ThenBy(n => n.Network).ToArray();

    private static PairRow[] SortedPairs(StudyResults results, Dictionary<string, int> order)
        => results.Pairs.OrderBy(p => Rank(order, p.Condition)).ThenBy(p => p.Condition, StringComparer.Ordinal)
            .ThenBy(p => p.Metric, StringComparer.Ordinal).ThenBy(p => p.NetworkA).ThenBy(p => p.NetworkB).ToArray();

    private static object ParseConfig(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static void WriteCsv(string path, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', header).Append('\n');
        foreach (var row in rows)
        {
            sb.AppendJoin(',', row).Append('\n');
        }

        AtomicFile.WriteText(path, sb.ToString());
    }

    /// <summary>Writes doubles as JSON numbers and non-finite ones as null; reads null back as NaN.</summary>
    private sealed class FiniteDoubleConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value))
            {
                writer.WriteNumberValue(value);
            }
            else
            {
                writer.WriteNullValue();
            }
        }

        public override bool HandleNull => true;
    }
}
