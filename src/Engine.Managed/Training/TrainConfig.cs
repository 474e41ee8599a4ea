using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Engine.Model;
using Engine.Tasks;

namespace Engine.Training;

/// <summary>Everything a training run needs, as read from a JSON config file or CLI flags (flags win).</summary>
/// <remarks>
/// JSON keys are the snake_case of the properties (<c>"networks"</c>, <c>"learning_rate"</c>, …) and match the
/// CLI flags (<c>--networks</c>, <c>--lr</c>). Unknown keys are errors, so a typo never silently falls back to a
/// default. Null means "not given": the default applies.
/// </remarks>
public sealed record TrainConfig
{
    private static readonly JsonSerializerOptions JsonOptions = IO.JsonConfig.Options();

    /// <summary>Task name (<c>flipflop</c>).</summary>
    public string? Task { get; init; }

    /// <summary>Flip-flop bits.</summary>
    public int? Bits { get; init; }

    /// <summary>Flip-flop pulse probability.</summary>
    public double? PulseProbability { get; init; }

    /// <summary>Sine: number of frequencies F in [1, 30].</summary>
    public int? Frequencies { get; init; }

    /// <summary>Sine / delayed discrimination: independent channels.</summary>
    public int? Channels { get; init; }

    /// <summary>Sine: seconds per step.</summary>
    public double? Dt { get; init; }

    /// <summary>Delayed discrimination: shortest delay (steps).</summary>
    public int? DelayMin { get; init; }

    /// <summary>Delayed discrimination: longest delay (steps).</summary>
    public int? DelayMax { get; init; }

    /// <summary>Delayed discrimination: train the auxiliary output f2 − f1.</summary>
    public bool? Aux { get; init; }

    /// <summary>Path integration: 2 or 3.</summary>
    public int? Dimensions { get; init; }

    /// <summary>Path integration: speeds ~ U(0, max_speed).</summary>
    public double? MaxSpeed { get; init; }

    /// <summary>Path integration: heading random-walk step (radians).</summary>
    public double? HeadingNoise { get; init; }

    /// <summary>Path integration: place cells of the population output (0: the position itself).</summary>
    public int? PlaceCells { get; init; }

    /// <summary>Path integration: σ of the place fields.</summary>
    public double? PlaceWidth { get; init; }

    /// <summary>Sequence chunks: the longest filler run after a word.</summary>
    public int? FillerMax { get; init; }

    /// <summary>Any task's settings by name (<c>"task_settings": {"prior": "natural", "delays": "5,10"}</c>; CLI <c>--task-setting KEY=VALUE</c>); they win over the named fields above.</summary>
    public Dictionary<string, string>? TaskSettings { get; init; }
    /// <summary>Finite-dataset mode: training samples per network (0 or null: fresh trials every epoch).</summary>
    public int? TrainSamples { get; init; }

    /// <summary>Finite-dataset mode: per-network training-set sizes [E].</summary>
    public int[]? TrainSamplesPerNetwork { get; init; }

    /// <summary>Finite-dataset mode: epochs between held-out test measurements.</summary>
    public int? TestEvery { get; init; }

    /// <summary>Finite-dataset mode: held-out test trials per network.</summary>
    public int? TestTrials { get; init; }

    /// <summary>Finite-dataset mode: early stopping after this many test measurements without a new best (0: off).</summary>
    public int? TestPatience { get; init; }

    /// <summary>E.</summary>
    public int? Networks { get; init; }

    /// <summary>N.</summary>
    public int? Hidden { get; init; }

    /// <summary><c>discrete</c> or <c>leaky</c>.</summary>
    public string? Cell { get; init; }

    /// <summary><c>tanh</c>, <c>relu</c> or <c>identity</c>.</summary>
    public string? Activation { get; init; }

    /// <summary>α for the leaky cell.</summary>
    public double? Alpha { get; init; }

    /// <summary>Process noise σ.</summary>
    public double? Noise { get; init; }

    /// <summary><c>zero</c> or <c>learned</c>.</summary>
    public string? InitialState { get; init; }

    /// <summary>B.</summary>
    public int? Trials { get; init; }

    /// <summary>T.</summary>
    public int? Steps { get; init; }

    /// <summary>Adam learning rate.</summary>
    public double? LearningRate { get; init; }

    /// <summary>Per-network learning rates.</summary>
    public double[]? LearningRates { get; init; }

    /// <summary>Global-norm clip (0 = off).</summary>
    public double? Clip { get; init; }

    /// <summary>Epoch budget.</summary>
    public int? MaxEpochs { get; init; }

    /// <summary>Stop threshold (task default when absent).</summary>
    public double? Threshold { get; init; }

    /// <summary>Epochs after reaching the threshold.</summary>
    public int? Patience { get; init; }

    /// <summary>Checkpoint cadence in epochs.</summary>
    public int? CheckpointEvery { get; init; }

    /// <summary><c>standard</c> or <c>mup</c>.</summary>
    public string? Parameterization { get; init; }

    /// <summary>µP γ.</summary>
    public double? Gamma { get; init; }

    /// <summary>Per-network γ.</summary>
    public double[]? GammaPerNetwork { get; init; }

    /// <summary>µP recurrent gain g.</summary>
    public double? Gain { get; init; }

    /// <summary>Low-rank R (0 = full).</summary>
    public int? Rank { get; init; }

    /// <summary>ℓ1 on W.</summary>
    public double? L1 { get; init; }

    /// <summary>Per-network ℓ1.</summary>
    public double[]? L1PerNetwork { get; init; }

    /// <summary>ℓ2 on W.</summary>
    public double? L2 { get; init; }

    /// <summary>Per-network ℓ2.</summary>
    public double[]? L2PerNetwork { get; init; }

    /// <summary>Nuclear norm on W.</summary>
    public double? Nuclear { get; init; }

    /// <summary>Per-network nuclear-norm strength.</summary>
    public double[]? NuclearPerNetwork { get; init; }

    /// <summary>Activity λ mean h².</summary>
    public double? Activity { get; init; }

    /// <summary>Per-network activity strength.</summary>
    public double[]? ActivityPerNetwork { get; init; }

    /// <summary>ReduceLROnPlateau patience (0 = off).</summary>
    public int? PlateauPatience { get; init; }

    /// <summary>ReduceLROnPlateau factor.</summary>
    public double? PlateauFactor { get; init; }

    /// <summary>Probe trials for kernel alignment (0 = off).</summary>
    public int? ProbeTrials { get; init; }

    /// <summary>The guide: a run directory (or its checkpoint) trained on the same task, or a states <c>.npy</c> [P][T][N] or [G][P][T][N] on the probe trials.</summary>
    public string? Guide { get; init; }

    /// <summary>Use the guide run's initial (untrained) parameters.</summary>
    public bool? GuideUntrained { get; init; }

    /// <summary>Guidance λ (default 1 when a guide is given).</summary>
    public double? GuideStrength { get; init; }

    /// <summary>Per-network guidance λ.</summary>
    public double[]? GuideStrengths { get; init; }

    /// <summary>Rows of the guidance CKA: samples (trial × step, default) or trials (the paper's flattened form).</summary>
    public string? GuideRows { get; init; }

    /// <summary>Guidance on for the first K epochs (0 = always).</summary>
    public int? GuideEpochs { get; init; }

    /// <summary>Guidance λ halves every this many epochs (0 = constant).</summary>
    public double? GuideHalfLife { get; init; }

    /// <summary>The guide network all follow (default 0), or −1 for network e ↔ guide e mod G.</summary>
    public int? GuideNetwork { get; init; }

    /// <summary>Diversity μ (ridge predictability of the earlier networks from this one).</summary>
    public double? Diversity { get; init; }

    /// <summary>Per-network diversity μ.</summary>
    public double[]? DiversityPerNetwork { get; init; }

    /// <summary>Every this-many-th probe step enters the diversity regression (0 = about max(128, 2N) samples).</summary>
    public int? DiversityStride { get; init; }

    /// <summary>Earlier runs (directories) whose networks are diversity targets too.</summary>
    public string[]? DiversityAgainst { get; init; }

    /// <summary>P, the probe trials of the representational terms (default 16).</summary>
    public int? RepresentationTrials { get; init; }

    /// <summary>Seed of the probe trials (default 12345, engine run's default).</summary>
    public long? RepresentationSeed { get; init; }

    /// <summary>Base seed (network e gets seed + e).</summary>
    public long? Seed { get; init; }

    /// <summary>Explicit per-network seeds.</summary>
    public long[]? Seeds { get; init; }

    /// <summary>Backend name.</summary>
    public string? Backend { get; init; }

    /// <summary>CPU worker threads (0 = all cores).</summary>
    public int? Threads { get; init; }

    /// <summary>Reads a config file.</summary>
    /// <exception cref="InvalidDataException">Missing, unreadable or malformed file, or an unknown/mistyped field; the message names the file and the field.</exception>
    public static TrainConfig Load(string path) => IO.JsonConfig.Load<TrainConfig>(path, JsonOptions, "config");

    /// <summary>This config with every non-null field of <paramref name="overrides"/> taking precedence.</summary>
    public TrainConfig Merge(TrainConfig overrides)
    {
        var result = this;
        foreach (var prop in typeof(TrainConfig).GetProperties())
        {
            if (prop.CanWrite && prop.GetValue(overrides) is { } value)
            {
                result = result with { };
                prop.SetValue(result, value);
            }
        }

        return result;
    }

    /// <summary>Serialises the config (the effective one is stored with each run).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The task this config names, with its settings.</summary>
    /// <exception cref="ArgumentException">Unknown task or an impossible setting.</exception>
    public ITrialTask BuildTask()
    {
        var settings = new Dictionary<string, string>();
        void Put(string key, object? value)
        {
            if (value is not null)
            {
                settings[key] = value switch
                {
                    double d => d.ToString("R", CultureInfo.InvariantCulture),
                    bool b => b ? "true" : "false",
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    _ => value.ToString() ?? "",
                };
            }
        }

        Put("bits", Bits);
        Put("pulse_probability", PulseProbability);
        Put("frequencies", Frequencies);
        Put("channels", Channels);
        Put("dt", Dt);
        Put("delay_min", DelayMin);
        Put("delay_max", DelayMax);
        Put("aux", Aux);
        Put("dimensions", Dimensions);
        Put("max_speed", MaxSpeed);
        Put("heading_noise", HeadingNoise);
        Put("filler_max", FillerMax);
        Put("place_cells", PlaceCells);
        Put("place_width", PlaceWidth);
        foreach (var (key, value) in TaskSettings ?? [])
        {
            settings[key] = value;
        }

        return TaskRegistry.Create(Task ?? "flipflop", settings);
    }

    /// <summary>The ensemble architecture for a task.</summary>
    /// <exception cref="ArgumentException">An unknown name or an out-of-range size.</exception>
    /// <remarks>µP defaults the cell to <c>rate</c>; the rate cell's α defaults to the task recipe's (<see cref="TrainingRecipe.RateAlpha"/>), the leaky cell's to 0.1.</remarks>
    public EnsembleSpec BuildSpec(ITrialTask task)
    {
        var parameterization = ParseEnum<Training.Parameterization>(Parameterization, "parameterization", Training.Parameterization.Standard);
        var cell = ParseEnum<CellType>(Cell, "cell", parameterization == Training.Parameterization.MuP ? CellType.Rate : CellType.Discrete);
        return new EnsembleSpec
        {
            Networks = Networks ?? 16,
            Hidden = Hidden ?? 64,
            Inputs = task.Inputs,
            Outputs = task.Outputs,
            Cell = cell,
            Activation = ParseEnum<ActivationKind>(Activation, "activation", ActivationKind.Tanh),
            Alpha = (float)(Alpha ?? (cell switch
            {
                CellType.Discrete => 1.0,
                CellType.Rate => TrainingRecipe.For(task.Name, parameterization).RateAlpha ?? 0.1,
                _ => 0.1,
            })),
            NoiseStd = (float)(Noise ?? 0),
            InitialState = ParseEnum<InitialStateKind>(InitialState, "initial_state", InitialStateKind.Zero),
        }.Validate();
    }

    /// <summary>Per-network seeds: the explicit list, else seed, seed + 1, ….</summary>
    public long[] BuildSeeds(int networks)
    {
        if (Seeds is { } seeds)
        {
            if (seeds.Length != networks)
            {
                throw new ArgumentException($"seeds has {seeds.Length} entries; expected one per network ({networks}).", "seeds");
            }

            return seeds;
        }

        return Ensemble.ConsecutiveSeeds(Seed ?? 0, networks);
    }

    /// <summary>The training options: every batch and optimiser field the config leaves null comes from the task's <see cref="TrainingRecipe"/>.</summary>
    /// <remarks>
    /// Trials, steps, learning rate, clip, epoch budget, patience and the plateau patience default to <c>TrainingRecipe.For(Task ?? "flipflop",
    /// parameterisation)</c>; the threshold stays the task's own (null here). Every other field defaults to
    /// <see cref="TrainingOptions"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">Unknown task or parameterisation, or an out-of-range value.</exception>
    public TrainingOptions BuildOptions(int networks)
    {
        var d = new TrainingOptions();
        var parameterization = ParseParameterization(Parameterization);
        var recipe = TrainingRecipe.For(Task ?? "flipflop", parameterization);
        return new TrainingOptions
        {
            Trials = Trials ?? recipe.Trials,
            Steps = Steps ?? recipe.Steps,
            LearningRate = LearningRate ?? recipe.LearningRate,
            LearningRates = LearningRates,
            ClipNorm = Clip ?? recipe.Clip,
            MaxEpochs = MaxEpochs ?? recipe.MaxEpochs,
            Threshold = Threshold,
            Patience = Patience ?? recipe.Patience,
            CheckpointEvery = CheckpointEvery ?? d.CheckpointEvery,
            Parameterization = parameterization,
            Gamma = Gamma ?? d.Gamma,
            GammaPerNetwork = GammaPerNetwork,
            Gain = Gain ?? d.Gain,
            Rank = Rank ?? d.Rank,
            L1 = L1 ?? d.L1,
            L1PerNetwork = L1PerNetwork,
            L2 = L2 ?? d.L2,
            L2PerNetwork = L2PerNetwork,
            Nuclear = Nuclear ?? d.Nuclear,
            NuclearPerNetwork = NuclearPerNetwork,
            Activity = Activity ?? d.Activity,
            ActivityPerNetwork = ActivityPerNetwork,
            PlateauPatience = PlateauPatience ?? recipe.PlateauPatience,
            PlateauFactor = PlateauFactor ?? d.PlateauFactor,
            ProbeTrials = ProbeTrials ?? d.ProbeTrials,
            GuideStrength = CheckStrength(GuideStrength ?? (Guide is not null ? 1.0 : 0.0), "guide_strength"),
            GuideStrengths = GuideStrengths,
            GuideEpochs = GuideEpochs ?? d.GuideEpochs,
            GuideRows = ParseEnum(GuideRows, "guide_rows", Representation.GuideRows.Samples),
            GuideHalfLife = GuideHalfLife ?? d.GuideHalfLife,
            GuideNetwork = GuideNetwork ?? d.GuideNetwork,
            GuideSource = Guide is null ? null : GuideUntrained == true ? Guide + " (untrained)" : Guide,
            Diversity = CheckStrength(Diversity ?? d.Diversity, "diversity"),
            DiversityPerNetwork = DiversityPerNetwork,
            DiversityStride = DiversityStride ?? d.DiversityStride,
            DiversityAgainst = DiversityAgainst,
            RepresentationTrials = RepresentationTrials ?? d.RepresentationTrials,
            RepresentationSeed = RepresentationSeed ?? d.RepresentationSeed,
            TrainSamples = TrainSamples ?? d.TrainSamples,
            TrainSamplesPerNetwork = TrainSamplesPerNetwork,
            TestEvery = TestEvery ?? d.TestEvery,
            TestTrials = TestTrials ?? d.TestTrials,
            TestPatience = TestPatience ?? d.TestPatience,
        }.Validate(networks) is var options && options.HasGuidance(networks) && Guide is null
            ? throw new ArgumentException("guide_strength is set but no guide is given (--guide RUN_DIR|states.npy).", "guide")
            : options;
    }

    private static double CheckStrength(double value, string field)
        => value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(field, value, $"{field} must be a finite number ≥ 0, got {value}.");

    /// <summary>Parses a parameterisation name (<c>standard</c>, <c>mup</c>; null is standard).</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static Parameterization ParseParameterization(string? value)
        => ParseEnum<Training.Parameterization>(value, "parameterization", Training.Parameterization.Standard);

    private static T ParseEnum<T>(string? value, string field, T fallback)
        where T : struct, Enum
    {
        if (value is null)
        {
            return fallback;
        }

        string key = value.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        if (Enum.TryParse<T>(key, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(key, out _))
        {
            return parsed;
        }

        string names = string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()));
        throw new ArgumentException($"Unknown {field} '{value}'; expected one of: {names}.", field);
    }
}
