using System.Diagnostics;

namespace Engine.Tests.Study;

/// <summary>Tiny study configs and a way to run the engine as a separate process.</summary>
internal static class StudyRunData
{
    /// <summary>Two widths of the 1-bit flip-flop, 3 seeds each, short trials, a loose threshold: trains in about a second.</summary>
    public const string Tiny = """
        { "name": "tiny", "seeds": 3, "tasks": [ { "task": "flipflop", "settings": { "bits": 1 } } ],
          "factors": { "width": [8, 12] }, "baseline": { "width": 8 },
          "training": { "steps": 20, "trials": 16, "max_epochs": 600, "threshold": 0.05 },
          "analyses": { "ood": {}, "behavior": {}, "dsa": { "rank": 4, "delays": 2, "iterations": 100 }, "pif": {}, "cka": {}, "shape": {},
                        "fixed_points": { "seeds": 16, "iterations": 300 }, "feature_learning": {} } }
        """;

    /// <summary>Longer training (2-bit flip-flop to 1e-2, checkpoints every 10 epochs) so that a kill lands inside a group's training.</summary>
    public const string Slow = """
        { "name": "slow", "seeds": 3, "tasks": [ { "task": "flipflop", "settings": { "bits": 2 } } ],
          "factors": { "width": [16, 24, 32] }, "baseline": { "width": 16 },
          "training": { "steps": 20, "trials": 16, "max_epochs": 3000, "threshold": 0.01, "checkpoint_every": 10 },
          "analyses": { "ood": {}, "dsa": { "rank": 4, "delays": 2, "iterations": 200 }, "pif": {}, "cka": {} } }
        """;

    public static string Write(string dir, string name, string json)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Starts <c>dotnet engine.dll ARGS</c> (the CLI built beside the tests) with output captured.</summary>
    public static Process Start(IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "engine.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("SLURM_ARRAY_TASK_ID");
        psi.Environment.Remove("JOB_COMPLETION_INDEX");
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        return Process.Start(psi)!;
    }

    /// <summary>Runs the engine to completion (at most 3 minutes); returns exit code and output.</summary>
    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        using var p = Start(env, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(180_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"engine {string.Join(' ', args)} ran past 3 minutes");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>How many times each stage finished, from a shard's event log: "stage unit" → count.</summary>
    public static Dictionary<string, int> Finished(string studyDir)
    {
        var counts = new Dictionary<string, int>();
        foreach (var log in Directory.GetFiles(Path.Combine(studyDir, "shards"), "events.log", SearchOption.AllDirectories))
        {
            foreach (var line in File.ReadLines(log))
            {
                var parts = line.Split(' ');
                if (parts.Length == 4 && parts[1] == "done")
                {
                    string key = parts[2] + " " + parts[3];
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }
            }
        }

        return counts;
    }
}
