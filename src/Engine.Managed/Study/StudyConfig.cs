using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Engine.Backends;
using Engine.Tasks;

namespace Engine.Study;

/// <summary>A degeneracy study as written in its JSON config: tasks, factors, seeds, training overrides and analyses.</summary>
/// <remarks>
/// Keys are snake_case; unknown keys are errors. Each task's factors vary one at a time around the baseline
/// (Huang et al. 2025): a factor series holds one condition per level with every other factor at its baseline value;
/// conditions with the same full setting are trained once. The factor names are <see cref="FactorNames"/>; top-level
/// <c>factors</c> and <c>baseline</c> apply to every task, a task's own <c>factors</c> / <c>baseline</c> add to and
/// override them. <see cref="Validate"/> checks everything before any work starts and names the field and what it allows.
/// </remarks>
public sealed record StudyConfig
{
    /// <summary>Factors a study can vary.</summary>
    public static readonly IReadOnlyList<string> FactorNames = ["width", "gamma", "l1", "nuclear", "rank", "complexity", "learning_rate", "diversity", "guide_strength"];

    /// <summary>Analyses a study can run.</summary>
    public static readonly IReadOnlyList<string> AnalysisNames = ["ood", "behavior", "dsa", "pif", "cka", "shape", "fixed_points", "feature_learning"];

    /// <summary>The config options, plus NaN/±Inf as named literals: stage records keep a diverged network's NaN exactly.</summary>
    internal static readonly JsonSerializerOptions Json = new(IO.JsonConfig.Options()) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Study name (folder-safe; default: the config file's name).</summary>
    public string? Name { get; init; }

    /// <summary>Networks (seeds) per condition (default 16).</summary>
    public int? Seeds { get; init; }

    /// <summary>Seed of network 0 of every condition; network k gets base_seed + k (default 0).</summary>
    public long? BaseSeed { get; init; }

    /// <summary>Backend (default auto); <c>study run --backend</c> overrides it.</summary>
    public string? Backend { get; init; }

    /// <summary>Tasks with their settings and own factors.</summary>
    public List<StudyTask>? Tasks { get; init; }

    /// <summary>Factors varied for every task: name → levels.</summary>
    public Dictionary<string, double[]>? Factors { get; init; }

    /// <summary>Baseline values of the factors for every task (defaults: width 64, gamma 1, l1 0, nuclear 0, rank 0, learning_rate the recipe's, complexity the task's setting; parameterization standard).</summary>
    public StudyBaseline? Baseline { get; init; }

    /// <summary>Overrides of the task recipes for every condition.</summary>
    public StudyTraining? Training { get; init; }

    /// <summary>Analyses to run, each with its settings; an analysis absent is off.</summary>
    public StudyAnalyses? Analyses { get; init; }

    /// <summary>Bootstrap resamples for the report's intervals (default 1000).</summary>
    public int? Bootstrap { get; init; }

    /// <summary>Reads a config file.</summary>
    /// <exception cref="InvalidDataException">Unreadable or malformed file, or an unknown or mistyped key (named with its path).</exception>
    public static StudyConfig Load(string path)
    {
        var cfg = IO.JsonConfig.Load<StudyConfig>(path, Json, "study config");
        return cfg.Name is null ? cfg with { Name = Path.GetFileNameWithoutExtension(path) } : cfg;
    }

    /// <summary>Parses config text; <paramref name="source"/> names it in errors.</summary>
    public static StudyConfig Parse(string text, string source = "config") => IO.JsonConfig.Parse<StudyConfig>(text, source, Json, "study config");

    /// <summary>The config as JSON (stored with the plan).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Checks every field before any work starts.</summary>
    /// <exception cref="ArgumentException">The first invalid field, named by its path, with the expected values.</exception>
    public StudyConfig Validate()
    {
        if (Name is { } name && (name.Length == 0 || name.Any(c => !(char.IsLetterOrDigit(c) || c is '-' or '_' or '.'))))
        {
            Fail("name", $"must be letters, digits, '-', '_' or '.', got '{name}'");
        }

        if (Seeds is { } s && s < 1)
        {
            Fail("seeds", $"must be at least 1, got {s}");
        }

        if (Backend is { } b && !BackendFactory.Names.Contains(b))
        {
            Fail("backend", $"unknown backend '{b}'; expected one of: {string.Join(", ", BackendFactory.Names)}");
        }

        if (Tasks is not { Count: > 0 })
        {
            Fail("tasks", "the study needs at least one task, e.g. [{\"task\": \"flipflop\"}]");
        }

        CheckFactors(Factors, "factors");
        Baseline?.Validate("baseline");
        for (int t = 0; t < Tasks!.Count; t++)
        {
            var task = Tasks[t];
            string at = $"tasks[{t}]";
            if (task.Task is null || !TaskRegistry.Names.Contains(task.Task))
            {
                Fail($"{at}.task", $"unknown task '{task.Task}'; expected one of: {string.Join(", ", TaskRegistry.Names)}");
            }

            try
            {
                TaskRegistry.Create(task.Task!, task.SettingStrings());
            }
            catch (ArgumentException e)
            {
                Fail($"{at}.settings", e.Message.Split(" (Parameter")[0]);
            }

            CheckFactors(task.Factors, $"{at}.factors");
            task.Baseline?.Validate($"{at}.baseline");
            if (task.ComplexityKnob is { } knob && !StudyPlanner.KnobsOf(task.Task!).Contains(knob))
            {
                Fail($"{at}.complexity_knob", $"task '{task.Task}' has no integer knob '{knob}'; expected one of: {string.Join(", ", StudyPlanner.KnobsOf(task.Task!))}");
            }
        }

        if (Tasks.All(t => MergedFactors(t).Count == 0))
        {
            Fail("factors", $"the grid is empty: give at least one factor with levels (one of: {string.Join(", ", FactorNames)}), e.g. \"factors\": {{\"width\": [32, 64, 128]}}");
        }

        Training?.Validate("training");
        bool guided = (Baseline?.GuideStrength ?? 0) > 0 || (Factors?.GetValueOrDefault("guide_strength")?.Any(v => v > 0) ?? false)
            || Tasks.Any(t => (t.Baseline?.GuideStrength ?? 0) > 0 || (t.Factors?.GetValueOrDefault("guide_strength")?.Any(v => v > 0) ?? false));
        if (guided && Training?.Guide is null)
        {
            Fail("training.guide", "the guide_strength factor (or baseline) is above 0 but no guide is given: set training.guide to a run directory of the same task, or a guide states .npy");
        }

        var analyses = Analyses ?? new StudyAnalyses();
        analyses.Validate("analyses");
        if (analyses.Enabled.Count == 0)
        {
            Fail("analyses", $"no analysis is switched on; give at least one of: {string.Join(", ", AnalysisNames)} (e.g. \"analyses\": {{\"ood\": {{}}, \"dsa\": {{}}}})");
        }

        if (analyses.Behavior is not null && analyses.Ood is null)
        {
            Fail("analyses.behavior", "needs analyses.ood (the pairwise output distance is measured on the OOD trials of the ood analysis); switch ood on or behavior off");
        }

        if (analyses.FeatureLearning is not null && Training?.ProbeTrials == 0)
        {
            Fail("analyses.feature_learning", "needs training.probe_trials > 0 (kernel alignment is measured on the probe batch); remove probe_trials = 0 or switch feature_learning off");
        }

        bool pairwise = analyses.Behavior is not null || analyses.Dsa is not null || analyses.Pif is not null || analyses.Cka is not null || analyses.Shape is not null;
        if (pairwise && (Seeds ?? 16) < 2)
        {
            Fail("seeds", $"is {Seeds}: pairwise analyses (behavior, dsa, pif, cka, shape) need at least 2 seeds per condition");
        }

        if (analyses.Ood is not null && (Seeds ?? 16) < 2)
        {
            Fail("seeds", $"is {Seeds}: sigma_OOD is a spread over seeds and needs at least 2 seeds per condition");
        }

        if (Bootstrap is { } boot && boot < 100)
        {
            Fail("bootstrap", $"must be at least 100 resamples, got {boot}");
        }

        return this;
    }

    /// <summary>The factors of one task: the top-level ones, then the task's own (which win).</summary>
    public IReadOnlyDictionary<string, double[]> MergedFactors(StudyTask task)
    {
        var merged = new Dictionary<string, double[]>();
        foreach (var (k, v) in Factors ?? [])
        {
            merged[k] = v;
        }

        foreach (var (k, v) in task.Factors ?? [])
        {
            merged[k] = v;
        }

        return merged;
    }

    private static void CheckFactors(Dictionary<string, double[]>? factors, string at)
    {
        foreach (var (name, levels) in factors ?? [])
        {
            if (!FactorNames.Contains(name))
            {
                Fail($"{at}.{name}", $"unknown factor '{name}'; expected one of: {string.Join(", ", FactorNames)}");
            }

            if (levels is null || levels.Length == 0)
            {
                Fail($"{at}.{name}", "has no levels: give a list of values, e.g. [32, 64, 128]");
            }

            if (levels.Distinct().Count() != levels.Length)
            {
                Fail($"{at}.{name}", $"lists a level twice: [{string.Join(", ", levels.Select(F))}]");
            }

            for (int k = 0; k < levels.Length; k++)
            {
                CheckLevel(name, levels[k], $"{at}.{name}[{k}]");
            }
        }
    }

    internal static void CheckLevel(string factor, double v, string at)
    {
        if (!double.IsFinite(v))
        {
            Fail(at, $"must be a finite number, got {F(v)}");
        }

        switch (factor)
        {
            case "width" when v < 1 || v != Math.Floor(v) || v > 4096:
                Fail(at, $"width must be an integer in [1, 4096], got {F(v)}");
                break;
            case "rank" when v < 0 || v != Math.Floor(v):
                Fail(at, $"rank must be an integer ≥ 0 (0 = full rank), got {F(v)}");
                break;
            case "complexity" when v < 1 || v != Math.Floor(v):
                Fail(at, $"complexity must be an integer ≥ 1 (the task's knob value), got {F(v)}");
                break;
            case "gamma" when v <= 0:
                Fail(at, $"gamma must be > 0, got {F(v)}");
                break;
            case "learning_rate" when v <= 0 || v > 10:
                Fail(at, $"learning_rate must be in (0, 10], got {F(v)}");
                break;
            case "l1" or "nuclear" or "diversity" or "guide_strength" when v < 0:
                Fail(at, $"{factor} strength must be ≥ 0, got {F(v)}");
                break;
        }
    }

    internal static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    [DoesNotReturn]
    internal static void Fail(string field, string message) => throw new ArgumentException($"study config: {field}: {message}.", field);
}

/// <summary>One task of a study.</summary>
public sealed record StudyTask
{
    /// <summary>Task name: flipflop, sine, delayed, pathint.</summary>
    public string? Task { get; init; }

    /// <summary>Task settings (as for <c>train</c>: bits, frequencies, delay_max, …).</summary>
    public Dictionary<string, JsonElement>? Settings { get; init; }

    /// <summary>The setting the <c>complexity</c> factor sets (default: flipflop bits, sine channels, delayed channels, pathint dimensions).</summary>
    public string? ComplexityKnob { get; init; }

    /// <summary>This task's own factors (added to / overriding the top-level ones).</summary>
    public Dictionary<string, double[]>? Factors { get; init; }

    /// <summary>This task's own baseline values.</summary>
    public StudyBaseline? Baseline { get; init; }

    /// <summary>The settings as the task registry takes them.</summary>
    public Dictionary<string, string> SettingStrings()
        => (Settings ?? []).ToDictionary(kv => kv.Key, kv => kv.Value.ValueKind switch
        {
            JsonValueKind.String => kv.Value.GetString()!,
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => kv.Value.GetRawText(),
        });
}

/// <summary>Baseline values of the factors (null: the default).</summary>
public sealed record StudyBaseline
{
    /// <summary>N.</summary>
    public int? Width { get; init; }

    /// <summary>µP γ (only under µP).</summary>
    public double? Gamma { get; init; }

    /// <summary>ℓ1 strength.</summary>
    public double? L1 { get; init; }

    /// <summary>Nuclear-norm strength.</summary>
    public double? Nuclear { get; init; }

    /// <summary>Rank (0 full).</summary>
    public int? Rank { get; init; }

    /// <summary>Guidance λ toward <c>training.guide</c> (default 0).</summary>
    public double? GuideStrength { get; init; }

    /// <summary>Diversity μ: each network of a condition penalised for how well it predicts the condition's networks before it (default 0).</summary>
    public double? Diversity { get; init; }

    /// <summary>Learning rate (default: the recipe's).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Complexity knob value (default: the task's setting).</summary>
    public int? Complexity { get; init; }

    /// <summary><c>standard</c> or <c>mup</c> (the gamma factor always trains under µP).</summary>
    public string? Parameterization { get; init; }

    /// <summary>This baseline with every non-null field of <paramref name="over"/> taking precedence.</summary>
    public StudyBaseline Merge(StudyBaseline? over) => over is null ? this : new StudyBaseline
    {
        Width = over.Width ?? Width, Gamma = over.Gamma ?? Gamma, L1 = over.L1 ?? L1, Nuclear = over.Nuclear ?? Nuclear,
        Rank = over.Rank ?? Rank, LearningRate = over.LearningRate ?? LearningRate, Complexity = over.Complexity ?? Complexity,
        Parameterization = over.Parameterization ?? Parameterization, Diversity = over.Diversity ?? Diversity, GuideStrength = over.GuideStrength ?? GuideStrength,
    };

    internal void Validate(string at)
    {
        if (Width is { } w) StudyConfig.CheckLevel("width", w, $"{at}.width");
        if (Gamma is { } g) StudyConfig.CheckLevel("gamma", g, $"{at}.gamma");
        if (L1 is { } l1) StudyConfig.CheckLevel("l1", l1, $"{at}.l1");
        if (Nuclear is { } nu) StudyConfig.CheckLevel("nuclear", nu, $"{at}.nuclear");
        if (Rank is { } r) StudyConfig.CheckLevel("rank", r, $"{at}.rank");
        if (Diversity is { } dv) StudyConfig.CheckLevel("diversity", dv, $"{at}.diversity");
        if (GuideStrength is { } gs) StudyConfig.CheckLevel("guide_strength", gs, $"{at}.guide_strength");
        if (LearningRate is { } lr) StudyConfig.CheckLevel("learning_rate", lr, $"{at}.learning_rate");
        if (Complexity is { } c) StudyConfig.CheckLevel("complexity", c, $"{at}.complexity");
        if (Parameterization is { } p && p is not ("standard" or "mup"))
        {
            StudyConfig.Fail($"{at}.parameterization", $"expected standard or mup, got '{p}'");
        }
    }
}

/// <summary>Overrides of the task recipes (null: the recipe's value).</summary>
public sealed record StudyTraining
{
    /// <summary>B.</summary>
    public int? Trials { get; init; }

    /// <summary>T.</summary>
    public int? Steps { get; init; }

    /// <summary>Epoch budget.</summary>
    public int? MaxEpochs { get; init; }

    /// <summary>Stop MSE (default: the task's).</summary>
    public double? Threshold { get; init; }

    /// <summary>Epochs after the threshold.</summary>
    public int? Patience { get; init; }

    /// <summary>Gradient clip (0 off).</summary>
    public double? Clip { get; init; }

    /// <summary>ReduceLROnPlateau patience in epochs (0 off; default: the recipe's).</summary>
    public int? PlateauPatience { get; init; }

    /// <summary>Checkpoint cadence in epochs (default 100).</summary>
    public int? CheckpointEvery { get; init; }

    /// <summary>Probe trials for kernel alignment (default 8; 0 off).</summary>
    public int? ProbeTrials { get; init; }

    /// <summary>Cell: <c>discrete</c> or <c>leaky</c> (default: discrete; µP conditions keep the rate cell).</summary>
    public string? Cell { get; init; }

    /// <summary>α = dt/τ of the leaky cell (default 0.1).</summary>
    public double? Alpha { get; init; }

    /// <summary>Process noise σ (default 0), e.g. the recurrent noise that makes working memory degrade with the delay.</summary>
    public double? Noise { get; init; }

    /// <summary>The guide of the <c>guide_strength</c> factor: a run directory of the same task (its network 0), or guide states <c>.npy</c> on the probe trials.</summary>
    public string? Guide { get; init; }

    internal void Validate(string at)
    {
        if (Cell is { } cell && cell is not ("discrete" or "leaky"))
        {
            StudyConfig.Fail($"{at}.cell", $"expected discrete or leaky, got '{cell}'");
        }

        if (Alpha is { } a && !(a > 0 && a <= 1))
        {
            StudyConfig.Fail($"{at}.alpha", $"must be in (0, 1], got {StudyConfig.F(a)}");
        }

        if (Noise is { } sigma && !(sigma >= 0 && double.IsFinite(sigma)))
        {
            StudyConfig.Fail($"{at}.noise", $"must be ≥ 0, got {StudyConfig.F(sigma)}");
        }

        void AtLeast(int? v, int min, string key)
        {
            if (v is { } x && x < min)
            {
                StudyConfig.Fail($"{at}.{key}", $"must be at least {min}, got {x}");
            }
        }

        AtLeast(Trials, 1, "trials");
        AtLeast(Steps, 1, "steps");
        AtLeast(MaxEpochs, 1, "max_epochs");
        AtLeast(Patience, 0, "patience");
        AtLeast(CheckpointEvery, 1, "checkpoint_every");
        AtLeast(PlateauPatience, 0, "plateau_patience");
        AtLeast(ProbeTrials, 0, "probe_trials");
        if (Threshold is { } th && !(th > 0 && double.IsFinite(th)))
        {
            StudyConfig.Fail($"{at}.threshold", $"must be a positive number, got {StudyConfig.F(th)}");
        }

        if (Clip is { } c && !(c >= 0 && double.IsFinite(c)))
        {
            StudyConfig.Fail($"{at}.clip", $"must be ≥ 0 (0 = off), got {StudyConfig.F(c)}");
        }
    }
}

/// <summary>The analyses of a study; each present (an object, possibly empty) is on.</summary>
public sealed record StudyAnalyses
{
    /// <summary>In-distribution and OOD MSE per network, σ_OOD per condition.</summary>
    public OodSettings? Ood { get; init; }

    /// <summary>Pairwise RMS output distance on the OOD trials (needs <see cref="Ood"/>).</summary>
    public EmptySettings? Behavior { get; init; }

    /// <summary>DSA (dynamical level).</summary>
    public DsaSettings? Dsa { get; init; }

    /// <summary>d_PIF (weight level).</summary>
    public EmptySettings? Pif { get; init; }

    /// <summary>arccos linear CKA (representation).</summary>
    public EmptySettings? Cka { get; init; }

    /// <summary>Shape metric with partial whitening α.</summary>
    public ShapeSettings? Shape { get; init; }

    /// <summary>Fixed-point census.</summary>
    public FixedPointSettings? FixedPoints { get; init; }

    /// <summary>‖W_T − W_0‖ and kernel alignment (recorded by training).</summary>
    public EmptySettings? FeatureLearning { get; init; }

    /// <summary>Probe trials on which states are recorded for DSA, CKA, shape and fixed-point seeds.</summary>
    public ProbeSettings? Probe { get; init; }

    /// <summary>The names of the analyses switched on, in the order <see cref="StudyConfig.AnalysisNames"/>.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Enabled => StudyConfig.AnalysisNames.Where(n => n switch
    {
        "ood" => Ood is not null,
        "behavior" => Behavior is not null,
        "dsa" => Dsa is not null,
        "pif" => Pif is not null,
        "cka" => Cka is not null,
        "shape" => Shape is not null,
        "fixed_points" => FixedPoints is not null,
        _ => FeatureLearning is not null,
    }).ToArray();

    /// <summary>
    /// The stages each condition records, in the order they run: <c>eval</c> (ood, with behavior's pairs) and each distance or
    /// census switched on; behavior and feature_learning ride on eval and training and have no stage of their own.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<string> Stages => Enabled.Where(a => a is not ("behavior" or "feature_learning")).Select(a => a == "ood" ? "eval" : a).ToArray();

    internal void Validate(string at)
    {
        if (Ood?.Trials is { } t && t < 1) StudyConfig.Fail($"{at}.ood.trials", $"must be at least 1, got {t}");
        if (Shape?.Alpha is { } a && !(a >= 0 && a <= 1)) StudyConfig.Fail($"{at}.shape.alpha", $"must be in [0, 1], got {StudyConfig.F(a)}");
        if (Dsa is { } d)
        {
            try
            {
                d.ToOptions().Validate();
            }
            catch (ArgumentException e)
            {
                StudyConfig.Fail($"{at}.dsa", e.Message.Split(" (Parameter")[0]);
            }

            if (d.Score is { } s && s is not ("angular" or "euclidean" or "wasserstein"))
            {
                StudyConfig.Fail($"{at}.dsa.score", $"expected angular, euclidean or wasserstein, got '{s}'");
            }
        }

        if (FixedPoints is { } f)
        {
            if (f.Seeds is { } s && s < 1) StudyConfig.Fail($"{at}.fixed_points.seeds", $"must be at least 1, got {s}");
            if (f.Iterations is { } i && i < 1) StudyConfig.Fail($"{at}.fixed_points.iterations", $"must be at least 1, got {i}");
        }

        if (Probe?.Trials is { } pt && pt < 1) StudyConfig.Fail($"{at}.probe.trials", $"must be at least 1, got {pt}");
        if (Probe?.Steps is { } ps && ps < 1) StudyConfig.Fail($"{at}.probe.steps", $"must be at least 1, got {ps}");
    }
}

/// <summary>An analysis with no settings.</summary>
public sealed record EmptySettings;

/// <summary>OOD evaluation settings.</summary>
public sealed record OodSettings
{
    /// <summary>Trials (default 64).</summary>
    public int? Trials { get; init; }
}

/// <summary>Shape-metric settings.</summary>
public sealed record ShapeSettings
{
    /// <summary>Partial whitening α (default 1, Procrustes).</summary>
    public double? Alpha { get; init; }
}

/// <summary>Probe-trial settings.</summary>
public sealed record ProbeSettings
{
    /// <summary>Trials (default 32).</summary>
    public int? Trials { get; init; }

    /// <summary>Steps (default: the training length).</summary>
    public int? Steps { get; init; }

    /// <summary>Seed (default 12345, as eval and compare).</summary>
    public long? Seed { get; init; }
}

/// <summary>DSA settings (defaults of <see cref="Backends.DsaOptions"/>).</summary>
public sealed record DsaSettings
{
    /// <summary>SVD rank r (default 10).</summary>
    public int? Rank { get; init; }

    /// <summary>Delays (default 10).</summary>
    public int? Delays { get; init; }

    /// <summary>Steps between delays (default 1).</summary>
    public int? DelayInterval { get; init; }

    /// <summary>Ridge λ (default 0).</summary>
    public double? Ridge { get; init; }

    /// <summary>Adam iterations per pair (default 1500).</summary>
    public int? Iterations { get; init; }

    /// <summary>Adam learning rate (default 5e-3).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Score in the matrix: angular (default), euclidean, wasserstein.</summary>
    public string? Score { get; init; }

    /// <summary>The alignment's optimiser: optimal (default) or published.</summary>
    public string? Optimizer { get; init; }

    /// <summary>The DSA options these settings give.</summary>
    public Backends.DsaOptions ToOptions()
    {
        var d = new Backends.DsaOptions();
        return new Backends.DsaOptions
        {
            Rank = Rank ?? d.Rank, Delays = Delays ?? d.Delays, DelayInterval = DelayInterval ?? d.DelayInterval, Ridge = Ridge ?? d.Ridge,
            Iterations = Iterations ?? d.Iterations, LearningRate = LearningRate ?? d.LearningRate,
            Optimizer = Optimizer is null ? d.Optimizer : Backends.DsaOptions.ParseOptimizer(Optimizer, "analyses.dsa.optimizer"),
        };
    }
}

/// <summary>Fixed-point census settings.</summary>
public sealed record FixedPointSettings
{
    /// <summary>Seeds per network (default 64).</summary>
    public int? Seeds { get; init; }

    /// <summary>Adam iterations (default 2000).</summary>
    public int? Iterations { get; init; }

    /// <summary>Seed noise σ (default 0).</summary>
    public double? Noise { get; init; }
}
