using System.CommandLine;
using System.Globalization;
using Engine.Study;

namespace Engine.Cli;

/// <summary><c>study plan|run|merge</c>: the degeneracy study, in one process or sharded over a cluster.</summary>
internal static class StudyCommand
{
    public static Command Create()
    {
        var config = new Argument<FileInfo>("config") { Description = "Study config (JSON)." };
        var planOut = new Option<DirectoryInfo>("--out") { Description = "Study folder to create.", Required = true };
        var shards = new Option<int>("--shards") { Description = "Shards in the manifest (default 1).", DefaultValueFactory = _ => 1 };
        var plan = new Command("plan", "Validate a study config and write its deterministic plan and shard manifest (DIR/plan.json).") { config, planOut, shards };
        plan.SetAction(r => CliErrors.Run(() =>
        {
            var p = StudyRunner.Plan(StudyConfig.Load(r.GetValue(config)!.FullName), r.GetValue(planOut)!.FullName, r.GetValue(shards));
            Console.WriteLine(Describe(p));
            Console.WriteLine($"wrote {Path.Combine(r.GetValue(planOut)!.FullName, StudyPlan.FileName)}; next: study run {r.GetValue(planOut)!.FullName}" +
                (p.Shards.Count > 1 ? $" --shard i/{p.Shards.Count} (or a job array: docs/slurm/study.sbatch)" : ""));
            return 0;
        }));

        var dir = new Argument<DirectoryInfo>("dir") { Description = "Study folder (from study plan)." };
        var shard = new Option<string?>("--shard") { Description = "Run only shard i (i or i/n); default: SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX, else every shard and then the report." };
        var backend = new Option<string?>("--backend") { Description = "Backend (default: the config's, else auto)." };
        var threads = new Option<int>("--threads") { Description = "CPU threads, 0 = all cores (default 0).", DefaultValueFactory = _ => 0 };
        var run = new Command("run", "Run a planned study (or one shard of it); finished stages are skipped, so a rerun resumes.") { dir, shard, backend, threads };
        run.SetAction(r => CliErrors.Run(() => Run(r.GetValue(dir)!.FullName, r.GetValue(shard), r.GetValue(backend), r.GetValue(threads))));

        var mergeDir = new Argument<DirectoryInfo>("dir") { Description = "Study folder." };
        var merge = new Command("merge", "Collect every shard's results and write DIR/report (report.md, report.html, CSV, JSON, figures).") { mergeDir };
        merge.SetAction(r => CliErrors.Run(() =>
        {
            var s = StudyMerge.Write(r.GetValue(mergeDir)!.FullName, Console.WriteLine);
            Console.WriteLine($"wrote {s.MarkdownPath} and {s.HtmlPath}");
            return 0;
        }));

        var validateConfig = new Argument<FileInfo>("config") { Description = "Study config (JSON)." };
        var validate = new Command("validate", "Check a study config and print its conditions, without writing anything.") { validateConfig };
        validate.SetAction(r => CliErrors.Run(() =>
        {
            Console.WriteLine(Describe(StudyPlanner.Plan(StudyConfig.Load(r.GetValue(validateConfig)!.FullName))));
            return 0;
        }));

        var estimateConfig = new Argument<FileInfo>("config") { Description = "Study config (JSON) to project." };
        var from = new Option<DirectoryInfo>("--from") { Description = "A finished study folder whose measured costs (same machine) the projection scales.", Required = true };
        var estimate = new Command("estimate", "Project a study's wall time per stage from the measured costs of a finished study.") { estimateConfig, from };
        estimate.SetAction(r => CliErrors.Run(() =>
        {
            var target = StudyPlanner.Plan(StudyConfig.Load(r.GetValue(estimateConfig)!.FullName));
            string measured = r.GetValue(from)!.FullName;
            Console.WriteLine(Describe(target));
            Console.Write(StudyEstimate.Format(StudyEstimate.Project(target, StudyPlan.Load(measured), StudyMerge.Collect(measured))));
            return 0;
        }));

        return new Command("study", "The degeneracy study: tasks × factors × seeds trained to threshold, analysed at three levels, reported with intervals and trends.")
        {
            plan, run, merge, validate, estimate,
        };
    }

    /// <summary>Runs a study folder; the shared body of <c>study run</c> and <c>demo</c>.</summary>
    public static int Run(string dir, string? shardText, string? backend, int threads)
    {
        var plan = StudyPlan.Load(dir);
        int? shard = ParseShard(shardText, plan.Shards.Count);
        using var interrupts = new Interrupts("interrupt: finishing the current epoch or analysis, then stopping (rerun the same command to resume)…");
        var options = new StudyRunOptions { Backend = backend, Threads = threads, Log = Console.WriteLine, Cancel = interrupts.Token };
        try
        {
            if (shard is { } i)
            {
                var r = StudyRunner.RunShard(dir, i, options);
                Console.WriteLine($"shard {i}/{plan.Shards.Count} done: {r.Trained} group(s) trained, {r.Analysed} analysis stage(s) run, {r.Skipped} already finished; merge with: study merge {dir}");
            }
            else
            {
                var (r, report) = StudyRunner.RunAll(dir, options);
                Console.WriteLine($"study done: {r.Trained} group(s) trained, {r.Analysed} analysis stage(s) run, {r.Skipped} already finished");
                Console.WriteLine($"report: {report.HtmlPath}");
            }

            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine($"interrupted; the finished stages and the last checkpoint are on disk: rerun 'study run {dir}' to resume");
            return 130;
        }
    }

    /// <summary>The shard from --shard, else SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX; null: every shard.</summary>
    internal static int? ParseShard(string? text, int shards)
    {
        string? source = "--shard";
        if (string.IsNullOrWhiteSpace(text))
        {
            (source, text) = Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID") is { Length: > 0 } s ? ("SLURM_ARRAY_TASK_ID", s)
                : Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX") is { Length: > 0 } k ? ("JOB_COMPLETION_INDEX", k)
                : (null, null);
            if (text is null)
            {
                return null;
            }
        }

        var parts = text.Split('/');
        if (parts.Length > 2 || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int i))
        {
            throw new ArgumentException($"{source} must be i or i/n, got '{text}'.", "--shard");
        }

        if (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n != shards))
        {
            throw new ArgumentException($"{source} '{text}' does not match the plan, which has {shards} shard(s); plan again with --shards {parts[1]} or use i/{shards}.", "--shard");
        }

        if (i < 0 || i >= shards)
        {
            throw new ArgumentException($"{source} = {i}: the plan has {shards} shard(s), 0 … {shards - 1}.", "--shard");
        }

        return i;
    }

    internal static string Describe(StudyPlan p)
    {
        var lines = new List<string>
        {
            $"study {p.Name}: {p.Conditions.Count} condition(s), {p.Conditions.Sum(c => c.Seeds.Length)} networks in {p.Groups.Count} batched group(s), {p.Shards.Count} shard(s); analyses: {string.Join(", ", (p.Config.Analyses ?? new StudyAnalyses()).Enabled)}",
        };
        foreach (var s in p.Levels.GroupBy(l => (l.Task, l.Factor)))
        {
            lines.Add($"  {s.Key.Task} × {s.Key.Factor}: {string.Join(", ", s.Select(l => l.Level.ToString("G4", CultureInfo.InvariantCulture)))}");
        }

        return string.Join('\n', lines);
    }
}
