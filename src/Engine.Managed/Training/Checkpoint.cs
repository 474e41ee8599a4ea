using System.Text.Json;
using Engine.Model;
using Engine.IO;

namespace Engine.Training;

/// <summary>A training run (or a bare ensemble) as a checkpoint file that can be resumed or analysed.</summary>
/// <remarks>
/// The file is <see cref="CheckpointFile"/>'s container; this class maps a <see cref="TrainingState"/> to its plain record and
/// back, and checks what the header means for a run beyond its checksum (epoch, one seed and record per network, defined
/// statuses, per-network epochs within the run's, impossible schedule records, sizes consistent with the spec, valid
/// options, the low-rank factor length). P is the per-network stride of <see cref="ParameterLayout"/>; the header repeats
/// E and P, and lists the named per-network entries (W, U, b, C, d, h0) with offsets.
/// </remarks>
public static class Checkpoint
{
    /// <summary>File name used inside a run directory.</summary>
    public const string FileName = "checkpoint.rnn";

    /// <summary>Writes a training state atomically.</summary>
    public static void Save(string path, TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var ens = state.Ensemble;
        var header = new CheckpointHeader
        {
            Networks = ens.Spec.Networks,
            Stride = ens.Layout.Stride,
            Spec = ens.Spec,
            Task = state.TaskName,
            TaskSettings = state.TaskSettings,
            Options = JsonSerializer.SerializeToElement(state.Options, CheckpointFile.Json),
            Epoch = state.Epoch,
            Seeds = ens.Seeds,
            Records = JsonSerializer.SerializeToElement(state.Networks, CheckpointFile.Json),
            FactorLength = state.Factors.Length,
            WeightChange = state.WeightChange,
            KernelAlignment = state.KernelAlignment,
            Entries = ens.Layout.Entries().Select(e => new CheckpointEntry(e.Name, e.Offset, e.Length)).ToArray(),
        };
        CheckpointFile.Write(path, new CheckpointRecord(header, ens.Parameters, state.FirstMoment, state.SecondMoment, state.InitialParameters,
            state.Factors, state.FactorFirstMoment, state.FactorSecondMoment));
    }

    /// <summary>Reads a checkpoint, verifying the container (<see cref="CheckpointFile.Read"/>) and what its header means for a run.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, is truncated, corrupted, of another version, or describes an impossible run; the message names the file and what is wrong.</exception>
    public static TrainingState Load(string path)
    {
        var record = CheckpointFile.Read(path);
        var header = record.Header;
        var spec = header.Spec!;
        NetworkProgress[]? records;
        TrainingOptions? stored;
        try
        {
            records = header.Records?.Deserialize<NetworkProgress[]>(CheckpointFile.Json);
            stored = header.Options?.Deserialize<TrainingOptions>(CheckpointFile.Json);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: corrupted checkpoint header: {e.Message}", e);
        }

        CheckMeaning(path, header, records, spec);

        if (spec.Networks != header.Networks || spec.Layout.Stride != header.Stride)
        {
            throw new InvalidDataException($"{path}: header shapes E={header.Networks}, P={header.Stride} disagree with the spec (E={spec.Networks}, P={spec.Layout.Stride}).");
        }

        var options = stored ?? new TrainingOptions();
        try
        {
            options.Validate(spec.Networks);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: invalid training options in checkpoint: {e.Message.Split('\n')[0]}", e);
        }

        long factorsExpected = options.Rank > 0 ? (long)spec.Networks * LowRank.FactorStride(spec.Hidden, options.Rank) : 0;
        if (header.FactorLength != factorsExpected)
        {
            throw new InvalidDataException($"{path}: factor_length {header.FactorLength}, expected {factorsExpected} for rank {options.Rank}.");
        }

        // CheckMeaning has checked the seeds and the records: present, one per network.
        var ensemble = new Ensemble(spec, header.Seeds!, record.Parameters);
        var state = new TrainingState(ensemble, header.Task ?? "", header.TaskSettings ?? [], options)
        {
            Epoch = header.Epoch,
        };
        record.FirstMoment.CopyTo(state.FirstMoment, 0);
        record.SecondMoment.CopyTo(state.SecondMoment, 0);
        record.InitialParameters.CopyTo(state.InitialParameters, 0);
        record.Factors.CopyTo(state.Factors, 0);
        record.FactorFirstMoment.CopyTo(state.FactorFirstMoment, 0);
        record.FactorSecondMoment.CopyTo(state.FactorSecondMoment, 0);
        records!.CopyTo(state.Networks, 0);
        header.WeightChange.AsSpan().CopyTo(state.WeightChange); // absent in older files: an empty span, nothing copied
        header.KernelAlignment.AsSpan().CopyTo(state.KernelAlignment);
        return state;
    }

    /// <summary>Checks what the header says, beyond its checksum: a checksum proves the bytes are the writer's, not that they make sense.</summary>
    private static void CheckMeaning(string path, CheckpointHeader h, NetworkProgress[]? records, EnsembleSpec spec)
    {
        void Fail(string what) => throw new InvalidDataException($"{path}: invalid checkpoint header: {what}.");
        if (h.Epoch < 0)
        {
            Fail($"epoch {h.Epoch} (must be at least 0)");
        }

        if (h.Seeds is not { } seeds || seeds.Length != spec.Networks)
        {
            Fail($"{h.Seeds?.Length ?? 0} seeds for {spec.Networks} networks");
        }

        records ??= [];
        if (records.Length != spec.Networks)
        {
            Fail($"{records.Length} network records for {spec.Networks} networks");
        }

        for (int e = 0; e < records.Length; e++)
        {
            var r = records[e];
            if (!Enum.IsDefined(r.Status))
            {
                Fail($"network {e} has an undefined status ({(int)r.Status})");
            }

            if (r.Epochs < 0 || r.Epochs > h.Epoch)
            {
                Fail($"network {e} trained {r.Epochs} epochs, outside [0, the run's epoch {h.Epoch}]");
            }

            if (r.SinceThreshold < -1 || r.BadEpochs < 0 || !(r.LrScale > 0) || double.IsInfinity(r.LrScale))
            {
                Fail($"network {e} has an impossible schedule record (since_threshold {r.SinceThreshold}, bad_epochs {r.BadEpochs}, lr_scale {r.LrScale})");
            }
        }

        foreach (var (name, values) in new[] { ("weight_change", h.WeightChange), ("kernel_alignment", h.KernelAlignment) })
        {
            if (values is { Length: var n } && n != 0 && n != spec.Networks)
            {
                Fail($"{name} has {n} entries for {spec.Networks} networks");
            }
        }

        if (h.Entries is { } entries)
        {
            var expected = spec.Layout.Entries().Select(x => new CheckpointEntry(x.Name, x.Offset, x.Length)).ToArray();
            if (!entries.SequenceEqual(expected))
            {
                Fail($"named entries ({string.Join(", ", entries.Select(x => $"{x.Name}@{x.Offset}+{x.Length}"))}) disagree with the spec's layout");
            }
        }
    }
}
