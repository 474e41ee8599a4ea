using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Engine.IO;
using Engine.Training;

namespace Engine.Study;

/// <summary>Collects every shard's stage records into one <see cref="StudyResults"/> and writes the report.</summary>
/// <remarks>
/// The merge reads only the stage files the plan names, from the shard that owns each group, so a study run in one
/// process and the same study run as separate shards (Slurm array tasks, Kubernetes indices) give the same numbers.
/// </remarks>
public static class StudyMerge
{
    /// <summary>Reads the results of the study in <paramref name="dir"/>.</summary>
    /// <exception cref="ArgumentException">Some shard has not finished: the message names the shards and what is missing.</exception>
    public static StudyResults Collect(string dir)
    {
        var plan = StudyPlan.Load(dir);
        var layout = new StudyLayout(Path.GetFullPath(dir));
        var analyses = plan.Config.Analyses ?? new StudyAnalyses();
        var stages = analyses.Stages;
        var missing = new SortedDictionary<int, List<string>>();
        var train = new Dictionary<string, StageRecord>();
        var records = new Dictionary<(string, string), StageRecord>();
        foreach (var group in plan.Groups)
        {
            int shard = plan.ShardOf(group.Id);
            var t = StageRecord.TryLoad(layout.TrainRecord(shard, group.Id));
            if (t is null)
            {
                Missing(missing, shard, $"training of {group.Id}");
                continue;
            }

            train[group.Id] = t;
            foreach (var cid in group.Conditions)
            {
                foreach (var stage in stages)
                {
                    if (StageRecord.TryLoad(layout.Stage(shard, cid, stage)) is { } r)
                    {
                        records[(cid, stage)] = r;
                    }
                    else
                    {
                        Missing(missing, shard, $"{stage} of {cid}");
                    }
                }
            }
        }

        if (missing.Count > 0)
        {
            string list = string.Join("; ", missing.Select(kv => $"shard {kv.Key}: {kv.Value.Count} stage(s) missing, first {kv.Value[0]}"));
            throw new ArgumentException($"{layout.Root}: the study is not finished ({list}); run the missing shard(s) with: study run {dir} --shard i/{plan.Shards.Count}", nameof(dir));
        }

        var networks = new List<NetworkRow>();
        var pairs = new List<PairRow>();
        var outcomes = new List<ConditionOutcome>();
        var timings = new List<StageTiming>();
        bool featureLearning = analyses.FeatureLearning is not null;
        foreach (var group in plan.Groups)
        {
            var t = train[group.Id];
            timings.Add(new StageTiming("train", group.Id, t.Seconds));
            foreach (var cid in group.Conditions)
            {
                var nets = t.Trained!.Where(n => n.Condition == cid).OrderBy(n => n.Network).ToArray();
                records.TryGetValue((cid, "eval"), out var eval);
                records.TryGetValue((cid, "fixed_points"), out var fp);
                foreach (var n in nets)
                {
                    int at = fp?.Networks is { } ids ? Array.IndexOf(ids, n.Network) : -1;
                    networks.Add(new NetworkRow(cid, n.Network, n.Seed, n.Status, n.Epochs, n.FinalLoss,
                        eval?.IdMse?[n.Network] ?? double.NaN, eval?.OodMse?[n.Network] ?? double.NaN,
                        featureLearning ? n.WeightChange : double.NaN, featureLearning ? n.KernelAlignment : double.NaN,
                        at >= 0 ? fp!.FixedPoints![at] : -1, at >= 0 ? fp!.StableFixedPoints![at] : -1));
                }

                var reasons = new List<string>();
                int converged = nets.Count(n => n.Status == "converged");
                if (converged == 0)
                {
                    reasons.Add($"no network converged ({nets.Count(n => n.Status == "diverged")} diverged, {nets.Count(n => n.Status == "not_converged")} not converged of {nets.Length})");
                }

                foreach (var stage in stages)
                {
                    var r = records[(cid, stage)];
                    timings.Add(new StageTiming(stage, cid, r.Seconds));
                    if (r.Error is { } err)
                    {
                        if (converged > 0)
                        {
                            reasons.Add($"{stage}: {err}");
                        }
                    }
                    else
                    {
                        pairs.AddRange(r.Pairs ?? []);
                    }
                }

                outcomes.Add(new ConditionOutcome(cid, reasons.Count > 0, reasons.Count > 0 ? string.Join("; ", reasons) : null));
            }
        }

        return new StudyResults
        {
            Name = plan.Name,
            Conditions = plan.Conditions,
            Levels = plan.Levels,
            Networks = networks,
            Pairs = pairs,
            Outcomes = outcomes,
            Analyses = analyses.Enabled,
            ConfigJson = plan.Config.ToJson(),
            RecipeMarkdown = RecipeTable(plan),
            EngineVersion = EngineVersion(),
            Machine = Machine(),
            BootstrapSamples = plan.Config.Bootstrap ?? 1000,
            Timings = timings,
        };
    }

    /// <summary>Collects the results and writes the report into <c>DIR/report</c>.</summary>
    public static StudyReportSummary Write(string dir, Action<string>? log = null)
    {
        var layout = new StudyLayout(Path.GetFullPath(dir));
        using var claim = FolderLock.Acquire(layout.Report, "the report");
        var results = Collect(dir);
        var summary = StudyReport.Write(results, layout.Report);
        log?.Invoke($"report: {summary.HtmlPath}");
        return summary;
    }

    /// <summary>The recipe actually used per (task, parameterisation), overrides applied, as a Markdown table.</summary>
    public static string RecipeTable(StudyPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var sb = new StringBuilder("| task | parameterization | cell α | trials | steps | learning rate | clip | max epochs | patience | plateau patience | threshold |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var g in plan.Groups.GroupBy(g => (plan.Condition(g.Conditions[0]).Task, plan.Condition(g.Conditions[0]).Parameterization)))
        {
            var (task, spec, _, o) = StudyRunner.TrainingFor(plan, g.First());
            var lrs = o.LearningRates!.Distinct().Order().Select(v => v.ToString("G3", CultureInfo.InvariantCulture));
            sb.Append(CultureInfo.InvariantCulture,
                $"| {task.Name} | {g.Key.Parameterization} | {spec.Alpha:G3} | {o.Trials} | {o.StepsFor(task)} | {string.Join(", ", lrs)} | {o.ClipNorm:G3} | {o.MaxEpochs} | {o.Patience} | {(o.PlateauPatience > 0 ? o.PlateauPatience.ToString(CultureInfo.InvariantCulture) : "off")} | {o.Threshold ?? task.DefaultThreshold:G3} |\n");
        }

        return sb.ToString();
    }

    /// <summary>The engine's informational version.</summary>
    public static string EngineVersion()
        => typeof(StudyMerge).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>OS, architecture, cores and CPU model.</summary>
    public static string Machine()
    {
        string cpu = "unknown CPU";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
            }
        }
        catch (IOException)
        {
        }

        return $"{RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}, {Environment.ProcessorCount} cores, {cpu}, .NET {Environment.Version}";
    }

    private static void Missing(SortedDictionary<int, List<string>> missing, int shard, string what)
    {
        if (!missing.TryGetValue(shard, out var list))
        {
            missing[shard] = list = [];
        }

        list.Add(what);
    }
}
