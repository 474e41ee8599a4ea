using System.Text.Json;
using System.Text.RegularExpressions;
using Engine.Study;
using NUnit.Framework;

namespace Engine.Tests.Study;

/// <summary>The written report of a synthetic two-task study: every file exists and parses, tables and sections are complete.</summary>
public sealed class StudyReportTests
{
    private string _dir = "";
    private StudyResults _results = null!;
    private StudyReportSummary _summary = null!;

    [OneTimeSetUp]
    public void WriteOnce()
    {
        _dir = Directory.CreateTempSubdirectory("study-report").FullName;
        _results = StudyTestData.TwoTasks();
        _summary = StudyReport.Write(_results, _dir);
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private string Read(string name) => File.ReadAllText(Path.Combine(_dir, name));

    private string[] Lines(string name) => File.ReadAllLines(Path.Combine(_dir, name));

    [Test]
    public void Write_EveryFileExists()
    {
        foreach (var f in new[] { "networks.csv", "pairs.csv", "conditions.csv", "trends.csv", "timings.csv", "study.json", "report.md", "report.html" })
        {
            Assert.That(File.Exists(Path.Combine(_dir, f)), Is.True, f);
        }

        Assert.That(_summary.MarkdownPath, Is.EqualTo(Path.Combine(_dir, "report.md")));
        Assert.That(_summary.HtmlPath, Is.EqualTo(Path.Combine(_dir, "report.html")));
        // One trend figure per trend row, one heatmap per (condition with ≥ 2 converged networks, metric): 5 × 3.
        Assert.That(Directory.GetFiles(Path.Combine(_dir, "figures"), "*.png"), Has.Length.EqualTo(_summary.Trends.Count));
        Assert.That(Directory.GetFiles(Path.Combine(_dir, "figures", "heatmaps"), "*.png"), Has.Length.EqualTo(15));
        Assert.That(File.Exists(Path.Combine(_dir, "figures", "sine-l1-dsa.png")), Is.True);
        Assert.That(File.Exists(Path.Combine(_dir, "figures", "heatmaps", "flipflop-bits3-n64-std-dsa.png")), Is.True);
        Assert.That(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories), Is.Empty, "no temp file left behind");
    }

    [Test]
    public void Csv_RowCountsMatchInputs()
    {
        Assert.That(Lines("networks.csv"), Has.Length.EqualTo(_results.Networks.Count + 1));
        Assert.That(Lines("pairs.csv"), Has.Length.EqualTo(_results.Pairs.Count + 1));
        Assert.That(_results.Pairs, Has.Count.EqualTo(3 * (15 + 10 + 15 + 15 + 15)));
        Assert.That(Lines("conditions.csv"), Has.Length.EqualTo(_results.Conditions.Count + 1));
        Assert.That(Lines("trends.csv"), Has.Length.EqualTo(_summary.Trends.Count + 1));
        Assert.That(Lines("timings.csv"), Has.Length.EqualTo(_results.Timings.Count + 1));
        Assert.That(Lines("networks.csv")[0], Is.EqualTo(
            "condition,network,seed,status,epochs,final_loss,id_mse,ood_mse,weight_change,kernel_alignment,fixed_points,stable_fixed_points"));
    }

    [Test]
    public void Csv_NaNEmpty_ReasonQuoted_NumbersRoundTrip()
    {
        var networks = Lines("networks.csv");
        // flipflop n64 network 3 diverged: final_loss NaN → empty field.
        var diverged = networks.Single(l => l.StartsWith("flipflop-bits3-n64-std,3,", StringComparison.Ordinal)).Split(',');
        Assert.That(diverged[3], Is.EqualTo("diverged"));
        Assert.That(diverged[5], Is.Empty);
        Assert.That(diverged[7], Is.EqualTo("1000000"));

        var conditions = Lines("conditions.csv");
        var header = conditions[0].Split(',');
        Assert.That(header[..12], Is.EqualTo(new[]
        {
            "condition", "task", "width", "parameterization", "gamma", "l1", "nuclear", "rank", "learning_rate", "complexity", "converged", "networks",
        }));
        Assert.That(header[^2..], Is.EqualTo(new[] { "failed", "reason" }));
        Assert.That(header, Has.Length.EqualTo(12 + 3 * 9 + 2));
        Assert.That(conditions[^1], Does.EndWith($",true,\"{StudyTestData.FailedReason}\""));

        var n32 = conditions[1].Split(',');
        int sigma = Array.IndexOf(header, "sigma_ood");
        Assert.That(double.Parse(n32[sigma], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(Math.Sqrt(17.5 / 6)));
        double low = double.Parse(n32[sigma + 1], System.Globalization.CultureInfo.InvariantCulture);
        double high = double.Parse(n32[sigma + 2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(low, Is.LessThan(high));
    }

    [Test]
    public void Json_ParsesWithoutNaN()
    {
        string text = Read("study.json");
        Assert.That(text, Does.Not.Contain("NaN"));
        Assert.That(text, Does.Not.Contain("Infinity"));
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        Assert.That(root.GetProperty("engine_version").GetString(), Is.EqualTo("0.0.0-test"));
        Assert.That(root.GetProperty("machine").GetString(), Is.EqualTo("test machine (2 cores)"));
        Assert.That(root.GetProperty("config").GetProperty("seeds").GetInt32(), Is.EqualTo(6));
        Assert.That(root.GetProperty("conditions").GetArrayLength(), Is.EqualTo(6));
        Assert.That(root.GetProperty("summaries").GetArrayLength(), Is.EqualTo(6));
        Assert.That(root.GetProperty("trends").GetArrayLength(), Is.EqualTo(_summary.Trends.Count));
        Assert.That(root.GetProperty("outcomes").GetArrayLength(), Is.EqualTo(6));
        Assert.That(root.GetProperty("analyses").GetArrayLength(), Is.EqualTo(6));
        var failed = root.GetProperty("summaries")[5];
        Assert.That(failed.GetProperty("failed").GetBoolean(), Is.True);
        Assert.That(failed.GetProperty("sigma_ood").GetProperty("value").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(root.GetProperty("summaries")[0].GetProperty("sigma_ood").GetProperty("value").GetDouble(), Is.EqualTo(Math.Sqrt(17.5 / 6)));
    }

    [Test]
    public void Markdown_HasEveryTable_FailedCondition_AndCostLast()
    {
        string md = Read("report.md");
        Assert.That(md, Does.StartWith("# Study report: synthetic\n"));
        foreach (var section in new[] { "## How to read", "## Task: flipflop", "### flipflop: width", "## Task: sine", "### sine: l1", "## Failed conditions", "## Recipe", "## Config", "## Engine and machine" })
        {
            Assert.That(md, Does.Contain("\n" + section + "\n"), section);
        }

        var lines = md.Split('\n');
        // Per-condition tables: header, separator, 3 rows each.
        int width = Array.FindIndex(lines, l => l.StartsWith("| width | condition | converged n/N | σ_OOD |", StringComparison.Ordinal));
        Assert.That(width, Is.GreaterThan(0));
        Assert.That(lines.Skip(width + 2).TakeWhile(l => l.StartsWith('|')).Count(), Is.EqualTo(3));
        Assert.That(lines[width + 3], Does.Contain("| 64 | `flipflop-bits3-n64-std` | 5/6 |"));
        Assert.That(lines[width], Does.Contain("fixed points"), "fixed points were measured for some networks");
        int l1 = Array.FindIndex(lines, l => l.StartsWith("| l1 | condition |", StringComparison.Ordinal));
        Assert.That(lines.Skip(l1 + 2).TakeWhile(l => l.StartsWith('|')).Count(), Is.EqualTo(3));
        Assert.That(lines[l1 + 4], Does.Contain("(failed)").And.Contain("0/6"));

        // Trend tables: one per series, 4 rows each, with direction arrows and verdicts.
        var trendHeaders = lines.Select((l, i) => (l, i)).Where(x => x.l.StartsWith("| level | metric |", StringComparison.Ordinal)).ToArray();
        Assert.That(trendHeaders, Has.Length.EqualTo(2));
        foreach (var (_, i) in trendHeaders)
        {
            Assert.That(lines.Skip(i + 2).TakeWhile(l => l.StartsWith('|')).Count(), Is.EqualTo(4));
        }

        Assert.That(md, Does.Contain("| dynamics | dsa | 3 | -1 [").And.Contain("| ↓ | agrees |"));
        Assert.That(md, Does.Contain("| too few levels |"));
        Assert.That(md, Does.Contain("![flipflop: mean DSA distance vs width](figures/flipflop-width-dsa.png)"));
        Assert.That(md, Does.Contain("figures/heatmaps/flipflop-bits3-n32-std-cka.png"));

        // Estimates as value [low, high] with 3 significant digits: σ of the known sample is 1.71.
        Assert.That(lines[width + 2], Does.Match(@"\| 1\.71 \[[0-9.]+, [0-9.]+\] \|"));

        Assert.That(md, Does.Contain($"- `sine-freq2-n64-std-l1_2`: {StudyTestData.FailedReason}"));
        Assert.That(md, Does.Contain("| flipflop | 500 | 1e-3 |"), "the recipe is echoed");
        Assert.That(md, Does.Contain("```json\n{ \"name\": \"synthetic\""));
        Assert.That(md, Does.Contain("Engine: 0.0.0-test").And.Contain("Machine: test machine (2 cores)"));

        int cost = md.IndexOf("\n## Cost\n", StringComparison.Ordinal);
        Assert.That(cost, Is.GreaterThan(md.IndexOf("## Engine and machine", StringComparison.Ordinal)));
        Assert.That(md[(cost + 1)..].Split('\n').Count(l => l.StartsWith("## ", StringComparison.Ordinal)), Is.EqualTo(1), "Cost is the last section");
        Assert.That(md[cost..], Does.Contain("| train | 6 | 48 |"));
        Assert.That(md[..cost], Does.Not.Contain(_dir), "no absolute path before the cost section");
    }

    [Test]
    public void Html_SelfContained_EmbedsPngs()
    {
        string html = Read("report.html");
        Assert.That(html, Does.StartWith("<!DOCTYPE html>"));
        Assert.That(html, Does.Not.Contain("http"));
        Assert.That(html, Does.Not.Contain("<script"));
        Assert.That(html, Does.Not.Contain("src=\"figures/"));
        var images = Regex.Matches(html, "src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");
        Assert.That(images, Has.Count.EqualTo(_summary.Trends.Count + 15));
        foreach (Match m in images)
        {
            var bytes = Convert.FromBase64String(m.Groups[1].Value);
            Assert.That(bytes[..4], Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
        }

        Assert.That(html, Does.Contain("<h2>Failed conditions</h2>"));
        Assert.That(html, Does.Contain("<div class=\"gallery\"><p><code>flipflop-bits3-n64-std</code></p>"));
        Assert.That(html, Does.Not.Contain("`"), "code spans are rendered, not left as backticks");
        Assert.That(html, Does.Contain(System.Net.WebUtility.HtmlEncode(StudyTestData.FailedReason)));
        Assert.That(html, Does.Contain("<td>flipflop</td><td>500</td><td>1e-3</td>"), "the recipe table is rendered");
        Assert.That(html, Does.Contain("&quot;name&quot;: &quot;synthetic&quot;"), "the config is escaped");
        Assert.That(Regex.Matches(html, "<table>").Count, Is.EqualTo(2 + 2 + 1 + 2), "2 condition tables, 2 trend tables, recipe, 2 cost tables");
    }

    [Test]
    public void Markdown_BeforeCost_SameForShuffledRowsAndOtherTimings()
    {
        string other = Directory.CreateTempSubdirectory("study-report-2").FullName;
        try
        {
            var resumed = StudyTestData.Shuffled(_results, 5) with { Timings = [new StageTiming("train", "x", 123)] };
            var s = StudyReport.Write(resumed, other);
            string a = Read("report.md"), b = File.ReadAllText(s.MarkdownPath);
            string Head(string md) => md[..md.IndexOf("\n## Cost\n", StringComparison.Ordinal)];
            Assert.That(Head(b), Is.EqualTo(Head(a)));
            Assert.That(b, Is.Not.EqualTo(a), "the cost section differs");
            Assert.That(File.ReadAllText(Path.Combine(other, "pairs.csv")), Is.EqualTo(Read("pairs.csv")), "rows are written in plan order");
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }
}
