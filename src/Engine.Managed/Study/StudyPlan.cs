using System.Globalization;
using System.Text;
using System.Text.Json;
using Engine.IO;
using Engine.Tasks;
using Engine.Training;

namespace Engine.Study;

/// <summary>Networks trained together: conditions that share a task, a width, a rank and a parameterisation form one batched ensemble.</summary>
/// <param name="Id">Deterministic id (a folder name).</param>
/// <param name="Conditions">Condition ids, in plan order; the ensemble holds their networks one condition after another.</param>
/// <param name="Cost">Relative cost estimate (networks × (N² + N(I+O)) × T), for balancing shards.</param>
public sealed record StudyGroup(string Id, string[] Conditions, double Cost);

/// <summary>One shard: the groups one process (a Slurm array task, a Kubernetes index) runs.</summary>
/// <param name="Index">i in 0 … n − 1.</param>
/// <param name="Groups">Group ids.</param>
/// <param name="Cost">Sum of the groups' costs.</param>
public sealed record StudyShard(int Index, string[] Groups, double Cost);

/// <summary>The deterministic plan of a study: its conditions, factor series, training groups and shard manifest.</summary>
/// <remarks>
/// Written once by <c>study plan</c> as <c>plan.json</c>; every shard and the merge read it, so all of them agree on the
/// conditions, the seeds and who trains what. A group (and so a condition) never spans shards; groups are assigned
/// largest cost first to the least-loaded shard, ties to the lowest index.
/// </remarks>
public sealed record StudyPlan
{
    /// <summary>The file name inside the study folder.</summary>
    public const string FileName = "plan.json";

    /// <summary>Plan format version.</summary>
    public int Version { get; init; } = 1;

    /// <summary>Study name.</summary>
    public required string Name { get; init; }

    /// <summary>The validated config.</summary>
    public required StudyConfig Config { get; init; }

    /// <summary>All conditions.</summary>
    public required List<StudyCondition> Conditions { get; init; }

    /// <summary>The factor series.</summary>
    public required List<FactorLevel> Levels { get; init; }

    /// <summary>Training groups.</summary>
    public required List<StudyGroup> Groups { get; init; }

    /// <summary>The shard manifest.</summary>
    public required List<StudyShard> Shards { get; init; }

    /// <summary>The training recipe of every (task, parameterisation) in the study, frozen when planned so that every shard trains alike.</summary>
    public List<TrainingRecipe> Recipes { get; init; } = [];

    /// <summary>The frozen recipe of a task under a parameterisation (the engine's current one for a plan that has none).</summary>
    public TrainingRecipe Recipe(string task, Parameterization parameterization)
        => Recipes.FirstOrDefault(r => r.Task == task && r.Parameterization == parameterization) ?? TrainingRecipe.For(task, parameterization);

    /// <summary>A condition by id.</summary>
    public StudyCondition Condition(string id) => Conditions.First(c => c.Id == id);

    /// <summary>A group by id.</summary>
    public StudyGroup Group(string id) => Groups.First(g => g.Id == id);

    /// <summary>The shard that trains a group.</summary>
    public int ShardOf(string group) => Shards.First(s => s.Groups.Contains(group)).Index;

    /// <summary>Writes <c>DIR/plan.json</c> atomically.</summary>
    public void Save(string dir) => AtomicFile.WriteText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, StudyConfig.Json));

    /// <summary>Reads <c>DIR/plan.json</c>.</summary>
    /// <exception cref="ArgumentException">No plan there.</exception>
    /// <exception cref="InvalidDataException">A damaged plan.</exception>
    public static StudyPlan Load(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
        {
            throw new ArgumentException($"{Path.GetFullPath(dir)}: no {FileName}; write one with: study plan CONFIG --out {dir}", nameof(dir));
        }

        try
        {
            var plan = JsonSerializer.Deserialize<StudyPlan>(File.ReadAllText(path), StudyConfig.Json) ?? throw new InvalidDataException($"{path}: empty plan.");
            if (plan.Version != 1)
            {
                throw new InvalidDataException($"{path}: plan version {plan.Version}; this engine reads version 1.");
            }

            return plan;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: damaged plan: {e.Message}", e);
        }
    }
}

/// <summary>Turns a study config into its plan: conditions one factor at a time around the baseline, groups and shards.</summary>
public static class StudyPlanner
{
    /// <summary>The integer knobs a task's complexity factor can set.</summary>
    public static IReadOnlyList<string> KnobsOf(string task) => task switch
    {
        "flipflop" => ["bits"],
        "sine" => ["channels", "frequencies"],
        "delayed" => ["channels", "delay_max"],
        "pathint" => ["dimensions"],
        "crq" => ["depth", "arity"],
        "wm-orientation" => ["channels"],
        _ => [],
    };

    /// <summary>The knob the complexity factor sets by default (flip-flop bits, sine and delayed channels, path-integration dimensions).</summary>
    public static string DefaultKnob(string task) => KnobsOf(task)[0];

    /// <summary>Validates the config and plans it into <paramref name="shards"/> shards.</summary>
    /// <exception cref="ArgumentException">An invalid config (the field is named) or an impossible condition.</exception>
    public static StudyPlan Plan(StudyConfig config, int shards = 1)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (shards < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(shards), shards, $"--shards must be at least 1, got {shards}.");
        }

        int seeds = config.Seeds ?? 16;
        long baseSeed = config.BaseSeed ?? 0;
        var conditions = new List<StudyCondition>();
        var levels = new List<FactorLevel>();
        var top = new StudyBaseline().Merge(config.Baseline);
        for (int t = 0; t < config.Tasks!.Count; t++)
        {
            var entry = config.Tasks[t];
            string task = entry.Task!;
            string knob = entry.ComplexityKnob ?? DefaultKnob(task);
            var settings = entry.SettingStrings();
            var baseTask = TaskRegistry.Create(task, settings);
            int baseComplexity = int.Parse(baseTask.Settings[knob], CultureInfo.InvariantCulture);
            var b = top.Merge(entry.Baseline);
            foreach (var (factor, values) in config.MergedFactors(entry))
            {
                foreach (double level in values)
                {
                    var c = Build(task, settings, knob, b, baseComplexity, factor, level, seeds, baseSeed, $"tasks[{t}].factors.{factor}");
                    var existing = conditions.FirstOrDefault(x => x.Id == c.Id);
                    if (existing is null)
                    {
                        conditions.Add(c);
                    }

                    // Rank 0 means full rank: on the factor's axis it sits at N, above every low rank.
                    levels.Add(new FactorLevel(task, factor, factor == "rank" && c.Rank == 0 ? c.Width : level, c.Id));
                }
            }
        }

        var groups = conditions
            .GroupBy(c => GroupKey(c))
            .Select(g =>
            {
                var first = g.First();
                var taskObj = TaskRegistry.Create(first.Task, first.TaskSettings);
                int steps = config.Training?.Steps ?? TrainingRecipe.For(first.Task, ParseParameterization(first.Parameterization)).Steps ?? taskObj.DefaultSteps;
                double cost = g.Sum(c => c.Seeds.Length) * ((double)first.Width * first.Width + first.Width * (taskObj.Inputs + taskObj.Outputs)) * steps;
                return new StudyGroup("g-" + g.Key, g.Select(c => c.Id).ToArray(), cost);
            })
            .ToList();
        var plan = new StudyPlan
        {
            Name = config.Name ?? "study",
            Config = config,
            Conditions = conditions,
            Levels = levels,
            Groups = groups,
            Shards = Assign(groups, shards),
            Recipes = conditions.Select(c => (c.Task, P: ParseParameterization(c.Parameterization))).Distinct()
                .Select(k => TrainingRecipe.For(k.Task, k.P)).ToList(),
        };
        foreach (var g in groups)
        {
            try
            {
                StudyRunner.TrainingFor(plan, g);
            }
            catch (ArgumentException e)
            {
                StudyConfig.Fail("training", $"{g.Id} cannot train: {e.Message.Split(" (Parameter")[0].TrimEnd('.')}");
            }
        }

        return plan;
    }

    /// <summary>Parses a parameterisation name as written in conditions.</summary>
    public static Parameterization ParseParameterization(string name) => name == "mup" ? Parameterization.MuP : Parameterization.Standard;

    private static StudyCondition Build(string task, Dictionary<string, string> settings, string knob, StudyBaseline b, int baseComplexity,
        string factor, double level, int seeds, long baseSeed, string at)
    {
        int width = b.Width ?? 64, rank = b.Rank ?? 0, complexity = b.Complexity ?? baseComplexity;
        double gamma = b.Gamma ?? 1, l1 = b.L1 ?? 0, nuclear = b.Nuclear ?? 0, diversity = b.Diversity ?? 0, guideStrength = b.GuideStrength ?? 0;
        string param = b.Parameterization ?? "standard";
        double? lr = b.LearningRate;
        switch (factor)
        {
            case "width": width = (int)level; break;
            case "gamma": gamma = level; param = "mup"; break;
            case "l1": l1 = level; break;
            case "nuclear": nuclear = level; break;
            case "rank": rank = (int)level; break;
            case "complexity": complexity = (int)level; break;
            case "diversity": diversity = level; break;
            case "guide_strength": guideStrength = level; break;
            default: lr = level; break;
        }

        if (param != "mup")
        {
            gamma = 1;
        }

        if (rank >= width)
        {
            rank = 0;
        }

        var s = new Dictionary<string, string>(settings) { [knob] = complexity.ToString(CultureInfo.InvariantCulture) };
        try
        {
            s = new Dictionary<string, string>(TaskRegistry.Create(task, s).Settings);
        }
        catch (ArgumentException e)
        {
            StudyConfig.Fail(at, $"{knob} = {complexity} is not a valid {task} task: {e.Message.Split(" (Parameter")[0]}");
        }

        double rate = lr ?? TrainingRecipe.For(task, ParseParameterization(param)).LearningRate;
        var id = new StringBuilder($"{task}-{Short(knob)}{complexity}");
        // Settings other than the knob that differ from the task's defaults name the condition too, so the same task listed
        // twice with different settings (the 2 × 2 design of wm-2x2.json) gives two conditions; ids of default settings are unchanged.
        var defaults = TaskRegistry.Create(task).Settings;
        foreach (var (key, value) in s.Where(kv => kv.Key != knob && defaults.GetValueOrDefault(kv.Key) != kv.Value).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            id.Append('-').Append(Short(key)).Append(Sanitize(value));
        }

        id.Append($"-n{width}-{(param == "mup" ? "mup" : "std")}");
        if (param == "mup") id.Append("-g").Append(Num(gamma));
        if (l1 > 0) id.Append("-l1_").Append(Num(l1));
        if (nuclear > 0) id.Append("-nuc").Append(Num(nuclear));
        if (rank > 0) id.Append("-r").Append(rank);
        if (lr is not null) id.Append("-lr").Append(Num(rate));
        if (diversity > 0) id.Append("-div").Append(Num(diversity));
        if (guideStrength > 0) id.Append("-guide").Append(Num(guideStrength));
        return new StudyCondition
        {
            Id = id.ToString(),
            Task = task,
            TaskSettings = s,
            Width = width,
            Parameterization = param,
            Gamma = gamma,
            L1 = l1,
            Nuclear = nuclear,
            Rank = rank,
            LearningRate = rate,
            Complexity = complexity,
            Diversity = diversity,
            GuideStrength = guideStrength,
            Seeds = Enumerable.Range(0, seeds).Select(k => baseSeed + k).ToArray(),
        };
    }

    private static string GroupKey(StudyCondition c)
    {
        var taskPart = string.Join("_", c.TaskSettings.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{Short(kv.Key)}{Sanitize(kv.Value)}"));
        return $"{c.Task}-{taskPart}-n{c.Width}-{(c.Parameterization == "mup" ? "mup" : "std")}{(c.Rank > 0 ? $"-r{c.Rank}" : "")}";
    }

    private static List<StudyShard> Assign(List<StudyGroup> groups, int shards)
    {
        var members = Enumerable.Range(0, shards).Select(_ => new List<string>()).ToArray();
        var load = new double[shards];
        foreach (var g in groups.OrderByDescending(g => g.Cost).ThenBy(g => g.Id, StringComparer.Ordinal))
        {
            int best = 0;
            for (int s = 1; s < shards; s++)
            {
                if (load[s] < load[best])
                {
                    best = s;
                }
            }

            members[best].Add(g.Id);
            load[best] += g.Cost;
        }

        return Enumerable.Range(0, shards).Select(s => new StudyShard(s, members[s].ToArray(), load[s])).ToList();
    }

    private static string Short(string key) => key switch
    {
        "bits" => "b", "channels" => "c", "frequencies" => "f", "delay_max" => "dmax", "delay_min" => "dmin", "dimensions" => "d",
        "pulse_probability" => "p", "max_speed" => "v", "heading_noise" => "hn", "dt" => "dt", "aux" => "aux", _ => key,
    };

    private static string Num(double v) => Sanitize(v.ToString("G4", CultureInfo.InvariantCulture));

    private static string Sanitize(string s) => new(s.Select(ch => char.IsLetterOrDigit(ch) || ch is '.' or '-' ? ch : '_').ToArray());
}
