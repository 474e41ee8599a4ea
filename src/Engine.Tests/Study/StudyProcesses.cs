using System.Diagnostics;
using System.Text;
using NUnit.Framework;

namespace Engine.Tests.Study;

/// <summary>
/// Out-of-process helpers for the cluster tests: the repository root, a published engine, child processes
/// with a time limit, and the comparison of two study reports.
/// </summary>
internal static class StudyProcesses
{
    /// <summary>The report tables that must not depend on how the study was split into shards.</summary>
    public static readonly string[] ReportTables = ["networks.csv", "pairs.csv", "conditions.csv", "trends.csv"];

    /// <summary>The longest any one child process may run before it is killed and the test fails.</summary>
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromMinutes(5);

    /// <summary>Environment variables that choose a shard; removed from every child so only the test sets them.</summary>
    private static readonly string[] ShardVariables = ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX"];

    /// <summary>The folder holding <c>Engine.sln</c>, found by walking up from the test assembly.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Engine.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Publishes the CLI into <paramref name="outDir"/> and returns the path of its <c>engine</c> executable.</summary>
    public static string PublishEngine(string outDir)
    {
        var r = Run("dotnet", ["publish", "src/Engine.Cli", "-c", "Release", "-o", outDir, "--nologo"],
            RepoRoot(), limit: TimeSpan.FromMinutes(8));
        Assert.That(r.Code, Is.EqualTo(0), $"dotnet publish failed:\n{r.Output}");
        string engine = Path.Combine(outDir, OperatingSystem.IsWindows() ? "engine.exe" : "engine");
        Assert.That(File.Exists(engine), Is.True, $"publish wrote no {engine}");
        return engine;
    }

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="args"/> in <paramref name="workDir"/>, stdin closed,
    /// stdout and stderr captured together; kills the process tree and fails the test past <paramref name="limit"/>.
    /// </summary>
    /// <remarks>
    /// The child gets this process's environment without the shard-choosing variables and without MSBuild's
    /// (a <c>dotnet publish</c> inside <c>dotnet test</c> would otherwise inherit the outer build's SDK paths),
    /// plus <paramref name="env"/>.
    /// </remarks>
    public static ProcessResult Run(string file, IEnumerable<string> args, string workDir,
        IReadOnlyDictionary<string, string>? env = null, TimeSpan? limit = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (string key in psi.Environment.Keys.ToArray())
        {
            if (ShardVariables.Contains(key) || key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase))
            {
                psi.Environment.Remove(key);
            }
        }

        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }

        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        p.Start();
        p.StandardInput.Close();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var max = limit ?? DefaultLimit;
        if (!p.WaitForExit(max))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Fail($"`{file} {string.Join(' ', args)}` ran past {max.TotalSeconds:0} s and was killed:\n{Text(output)}");
        }

        p.WaitForExit(); // drains the redirected streams
        return new ProcessResult(p.ExitCode, Text(output), clock.Elapsed);
    }

    /// <summary>Runs the published engine and asserts that it exited 0.</summary>
    public static ProcessResult RunEngine(string engine, string workDir, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var r = Run(engine, args, workDir, env);
        Assert.That(r.Code, Is.EqualTo(0), $"engine {string.Join(' ', args)} exited {r.Code}:\n{r.Output}");
        return r;
    }

    /// <summary>
    /// Asserts that two studies' reports agree: the tables byte for byte, <c>report.md</c> up to its
    /// <c>## Cost</c> section (the cost, wall times and processes, is the only part that depends on the split).
    /// </summary>
    public static void AssertSameReport(string expectedStudy, string actualStudy)
    {
        string expected = Path.Combine(expectedStudy, "report"), actual = Path.Combine(actualStudy, "report");
        foreach (string table in ReportTables)
        {
            string e = Path.Combine(expected, table), a = Path.Combine(actual, table);
            Assert.That(File.Exists(e), Is.True, $"the single-process study wrote no {e}");
            Assert.That(File.Exists(a), Is.True, $"the sharded study wrote no {a}");
            Assert.That(File.ReadAllBytes(a), Is.EqualTo(File.ReadAllBytes(e)), $"{table} differs between {actualStudy} and {expectedStudy}");
        }

        Assert.That(BeforeCost(Path.Combine(actual, "report.md")), Is.EqualTo(BeforeCost(Path.Combine(expected, "report.md"))),
            "report.md before '## Cost'");
    }

    private static string BeforeCost(string reportMd)
    {
        Assert.That(File.Exists(reportMd), Is.True, $"no {reportMd}");
        var lines = File.ReadAllLines(reportMd).TakeWhile(l => l.TrimEnd() != "## Cost");
        return string.Join('\n', lines);
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}

/// <summary>A finished child process: its exit code, what it printed (stdout and stderr interleaved) and how long it ran.</summary>
internal readonly record struct ProcessResult(int Code, string Output, TimeSpan Elapsed);
