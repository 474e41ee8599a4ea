using System.Globalization;
using System.Text.Json;
using Engine.IO;

namespace Engine.FixedPointRnn;

/// <summary>A fixed-point RNN run on disk: <c>fprnn.json</c> (manifest) and <c>fprnn-params.npy</c> ([E][stride] float32), each written atomically.</summary>
public static class FpRnnFiles
{
    /// <summary>The manifest's file name; its presence marks a fixed-point RNN run directory.</summary>
    public const string ManifestName = "fprnn.json";

    /// <summary>The parameters' file name.</summary>
    public const string ParametersName = "fprnn-params.npy";

    /// <summary>The format tag written into the manifest.</summary>
    public const string Format = "fprnn-1";

    /// <summary>Whether <paramref name="dir"/> holds a fixed-point RNN run.</summary>
    public static bool IsRun(string dir) => File.Exists(Path.Combine(dir, ManifestName));

    /// <summary>Writes the parameters, then the manifest (so a manifest always has its parameters).</summary>
    public static void Save(string dir, FpRnnEnsemble ensemble)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        Npy.Write(Path.Combine(dir, ParametersName), ensemble.Parameters, ensemble.Spec.Networks, ensemble.Spec.Stride);
        var m = new Manifest
        {
            Format = Format,
            Task = ensemble.Task.Name,
            Settings = ensemble.Task.Settings.ToDictionary(kv => kv.Key, kv => kv.Value),
            Spec = ensemble.Spec,
            Iteration = ensemble.Iteration,
            Options = ensemble.Options,
            Seeds = ensemble.Seeds,
            Status = ensemble.Status.Select(s => s.ToString().ToLowerInvariant()).ToArray(),
            Steps = ensemble.Steps,
            LastLoss = ensemble.LastLoss,
        };
        JsonOutput.Write(Path.Combine(dir, ManifestName), m);
    }

    /// <summary>Loads a run; every inconsistency is an <see cref="InvalidDataException"/> naming the file.</summary>
    public static FpRnnEnsemble Load(string dir)
    {
        string path = Path.Combine(dir, ManifestName);
        if (!File.Exists(path))
        {
            throw new ArgumentException($"{Path.GetFullPath(dir)}: no {ManifestName}; expected a run of train --cell fixed-point.", nameof(dir));
        }

        Manifest? m;
        try
        {
            m = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path), JsonOutput.Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not a valid manifest ({ex.Message}).", ex);
        }

        if (m is null || m.Format != Format || m.Spec is null || m.Iteration is null || m.Options is null || m.Seeds is null || m.Task is null)
        {
            throw new InvalidDataException($"{path}: not a {Format} manifest (missing format, task, spec, iteration, options or seeds).");
        }

        var task = StateTasks.Create(m.Task, m.Settings);
        var spec = m.Spec.Validate();
        if (spec.Vocab != task.Vocab || spec.Classes != task.Classes)
        {
            throw new InvalidDataException($"{path}: spec has V={spec.Vocab}, C={spec.Classes} but task {task.Name} has V={task.Vocab}, C={task.Classes}.");
        }

        var (data, shape) = Npy.ReadFloat32(Path.Combine(dir, ParametersName));
        if (shape.Length != 2 || shape[0] != spec.Networks || shape[1] != spec.Stride)
        {
            throw new InvalidDataException($"{Path.Combine(dir, ParametersName)}: shape ({string.Join(", ", shape)}), expected ({spec.Networks}, {spec.Stride}).");
        }

        int e = spec.Networks;
        if (m.Seeds.Length != e)
        {
            throw new InvalidDataException($"{path}: {m.Seeds.Length} seeds for {e} networks.");
        }

        return new FpRnnEnsemble
        {
            Spec = spec, Task = task, Iteration = m.Iteration.Validate(), Options = m.Options, Seeds = m.Seeds, Parameters = data,
            Status = (m.Status ?? []).Select(s => Enum.Parse<FpNetworkStatus>(s, ignoreCase: true)).Concat(Enumerable.Repeat(FpNetworkStatus.Budget, e)).Take(e).ToArray(),
            Steps = (m.Steps ?? []).Concat(Enumerable.Repeat(0, e)).Take(e).ToArray(),
            LastLoss = (m.LastLoss ?? []).Concat(Enumerable.Repeat(double.NaN, e)).Take(e).ToArray(),
        };
    }

    /// <summary>Metrics rows as CSV: step,network,loss,accuracy,sequence_accuracy,iterations,iteration_status.</summary>
    public static string MetricsCsv(IEnumerable<FpStepRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var sb = new System.Text.StringBuilder("step,network,loss,accuracy,sequence_accuracy,iterations,iteration_status\n");
        foreach (var r in records)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.Step},{r.Network},{r.Loss:G6},{r.Accuracy:G6},{r.SequenceAccuracy:G6},{r.Iterations},{r.IterationStatus.ToString().ToLowerInvariant()}\n");
        }

        return sb.ToString();
    }

    /// <summary>The manifest as serialised.</summary>
    private sealed class Manifest
    {
        public string? Format { get; set; }

        public string? Task { get; set; }

        public Dictionary<string, string>? Settings { get; set; }

        public FpRnnSpec? Spec { get; set; }

        public FpIteration? Iteration { get; set; }

        public FpTrainOptions? Options { get; set; }

        public long[]? Seeds { get; set; }

        public string[]? Status { get; set; }

        public int[]? Steps { get; set; }

        public double[]? LastLoss { get; set; }
    }
}
