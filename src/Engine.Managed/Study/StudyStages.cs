using System.Text.Json;
using Engine.IO;

namespace Engine.Study;

/// <summary>One trained network as recorded by a group's training stage.</summary>
/// <param name="Condition">Condition id.</param>
/// <param name="Network">Index within the condition.</param>
/// <param name="Seed">Seed.</param>
/// <param name="Status">converged, diverged, not_converged.</param>
/// <param name="Epochs">Epochs trained.</param>
/// <param name="FinalLoss">Last training MSE.</param>
/// <param name="WeightChange">‖W_T − W_0‖_F (NaN when not measured).</param>
/// <param name="KernelAlignment">Kernel alignment (NaN when not measured).</param>
public sealed record TrainedNetwork(string Condition, int Network, long Seed, string Status, int Epochs, double FinalLoss, double WeightChange, double KernelAlignment);

/// <summary>What one finished stage recorded: the file's presence means the stage is done and is never recomputed.</summary>
/// <remarks>
/// Stage files are <c>shards/&lt;i&gt;/groups/&lt;group&gt;/train.json</c> and <c>shards/&lt;i&gt;/conditions/&lt;condition&gt;/&lt;stage&gt;.json</c>,
/// written atomically after the stage's work, so a process killed at any moment leaves either no file (the stage reruns)
/// or a whole one. Non-finite numbers are written as <c>NaN</c> / <c>Infinity</c> literals and read back exactly.
/// </remarks>
public sealed record StageRecord
{
    /// <summary>train, eval, dsa, pif, cka, shape, fixed_points.</summary>
    public required string Stage { get; init; }

    /// <summary>Group id (train) or condition id.</summary>
    public required string Unit { get; init; }

    /// <summary>Wall seconds the stage took when it ran.</summary>
    public double Seconds { get; init; }

    /// <summary>Why the stage produced no numbers (null when it did).</summary>
    public string? Error { get; init; }

    /// <summary>Training: every network of the group.</summary>
    public List<TrainedNetwork>? Trained { get; init; }

    /// <summary>Training: epochs the group ran.</summary>
    public int Epochs { get; init; }

    /// <summary>Eval: in-distribution MSE per network of the condition.</summary>
    public double[]? IdMse { get; init; }

    /// <summary>Eval: OOD MSE per network of the condition.</summary>
    public double[]? OodMse { get; init; }

    /// <summary>Pairwise stages (and behaviour, under eval): the pairs.</summary>
    public List<PairRow>? Pairs { get; init; }

    /// <summary>Fixed points: condition indices of the networks analysed.</summary>
    public int[]? Networks { get; init; }

    /// <summary>Fixed points found per analysed network.</summary>
    public int[]? FixedPoints { get; init; }

    /// <summary>Of which stable.</summary>
    public int[]? StableFixedPoints { get; init; }

    /// <summary>Reads a stage file, or null when the stage has not finished.</summary>
    /// <exception cref="InvalidDataException">A damaged stage file (named).</exception>
    public static StageRecord? TryLoad(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<StageRecord>(File.ReadAllText(path), StudyConfig.Json) ?? throw new InvalidDataException($"{path}: empty stage record.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: damaged stage record ({e.Message}); delete it to recompute that stage.", e);
        }
    }

    /// <summary>Writes the record atomically.</summary>
    public void Save(string path) => AtomicFile.WriteText(path, JsonSerializer.Serialize(this, StudyConfig.Json));
}

/// <summary>Where a study's files live.</summary>
/// <param name="Root">The study folder (holds plan.json).</param>
public sealed record StudyLayout(string Root)
{
    /// <summary>A shard's own folder.</summary>
    public string Shard(int index) => Path.Combine(Root, "shards", index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A group's run directory (checkpoint, metrics, summary, train.json).</summary>
    public string Group(int shard, string group) => Path.Combine(Shard(shard), "groups", group);

    /// <summary>A condition's analysis folder.</summary>
    public string Condition(int shard, string condition) => Path.Combine(Shard(shard), "conditions", condition);

    /// <summary>A stage file of a condition.</summary>
    public string Stage(int shard, string condition, string stage) => Path.Combine(Condition(shard, condition), stage + ".json");

    /// <summary>A group's training record.</summary>
    public string TrainRecord(int shard, string group) => Path.Combine(Group(shard, group), "train.json");

    /// <summary>The shard's event log (one line per stage started and finished).</summary>
    public string Events(int shard) => Path.Combine(Shard(shard), "events.log");

    /// <summary>The report folder.</summary>
    public string Report => Path.Combine(Root, "report");
}
