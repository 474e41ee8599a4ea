using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Engine.Model;
using Engine.Training;

namespace Engine.IO;

/// <summary>The engine's binary checkpoint: a training run (or a bare ensemble) that can be resumed or analysed.</summary>
/// <remarks>
/// Layout, all integers little-endian:
/// <code>
/// offset  size  field
/// 0       8     magic "RNNCKPT\0"
/// 8       4     format version (uint32, currently 1)
/// 12      4     header length H (uint32)
/// 16      H     header: UTF-8 JSON (spec, task, options, epoch, seeds, per-network records, payload shapes)
/// 16+H    4·E·P parameters [E][P] (float32)
/// …       4·E·P Adam m [E][P] (float32)
/// …       4·E·P Adam v [E][P] (float32)
/// …       4·E·P initial parameters [E][P] (float32)
/// …       4·F   low-rank factors [E][2][N][R], then their Adam m and v (F = factor_length; 0 at full rank)
/// end−32  32    SHA-256 of every byte before it
/// </code>
/// P is the per-network stride of <see cref="ParameterLayout"/>; the header repeats E and P, and lists the named
/// per-network entries (W, U, b, C, d, h0) with offsets. Files are written atomically (temp file, then rename).
/// </remarks>
public static class Checkpoint
{
    /// <summary>Current format version.</summary>
    public const uint Version = 1;

    /// <summary>File name used inside a run directory.</summary>
    public const string FileName = "checkpoint.rnn";

    private static readonly byte[] Magic = "RNNCKPT\0"u8.ToArray();

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes a training state atomically.</summary>
    public static void Save(string path, TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var ens = state.Ensemble;
        var header = new Header
        {
            Networks = ens.Spec.Networks,
            Stride = ens.Layout.Stride,
            Spec = ens.Spec,
            Task = state.TaskName,
            TaskSettings = state.TaskSettings,
            Options = state.Options,
            Epoch = state.Epoch,
            Seeds = ens.Seeds,
            Records = state.Networks,
            FactorLength = state.Factors.Length,
            WeightChange = state.WeightChange,
            KernelAlignment = state.KernelAlignment,
            Entries = ens.Layout.Entries().Select(e => new Entry(e.Name, e.Offset, e.Length)).ToArray(),
        };
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
        AtomicFile.Write(path, s =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            void Put(ReadOnlySpan<byte> bytes)
            {
                s.Write(bytes);
                hash.AppendData(bytes);
            }

            Span<byte> u32 = stackalloc byte[4];
            Put(Magic);
            BinaryPrimitives.WriteUInt32LittleEndian(u32, Version);
            Put(u32);
            BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)json.Length);
            Put(u32);
            Put(json);
            Put(AsBytes(ens.Parameters));
            Put(AsBytes(state.FirstMoment));
            Put(AsBytes(state.SecondMoment));
            Put(AsBytes(state.InitialParameters));
            Put(AsBytes(state.Factors));
            Put(AsBytes(state.FactorFirstMoment));
            Put(AsBytes(state.FactorSecondMoment));
            s.Write(hash.GetHashAndReset());
        });
    }

    /// <summary>Reads a checkpoint, verifying magic, version, shapes and checksum.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, is truncated, corrupted, or of another version; the message names the file and what is wrong.</exception>
    public static TrainingState Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read checkpoint: {e.Message}", e);
        }

        if (bytes.Length < 16 + 32 || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path}: not an engine checkpoint (expected magic \"RNNCKPT\", file has {bytes.Length} bytes).");
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (version != Version)
        {
            throw new InvalidDataException($"{path}: checkpoint format version {version}, this engine reads version {Version}.");
        }

        long headerLen = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        if (16 + headerLen + 32 > bytes.Length)
        {
            throw new InvalidDataException($"{path}: truncated: header claims {headerLen} bytes, file has {bytes.Length}.");
        }

        Header header;
        try
        {
            header = JsonSerializer.Deserialize<Header>(bytes.AsSpan(16, (int)headerLen), Json)
                ?? throw new InvalidDataException($"{path}: empty checkpoint header.");
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException or InvalidOperationException or DecoderFallbackException)
        {
            throw new InvalidDataException($"{path}: corrupted checkpoint header: {e.Message}", e);
        }

        var spec = header.Spec ?? throw new InvalidDataException($"{path}: checkpoint header lacks 'spec'.");
        if (header.Networks < 1 || header.Stride < 1 || header.FactorLength < 0)
        {
            throw new InvalidDataException($"{path}: invalid checkpoint header: networks {header.Networks}, stride {header.Stride} (both must be at least 1), factor_length {header.FactorLength} (must be at least 0).");
        }

        long block = (long)header.Networks * header.Stride;
        long expected = 16 + headerLen + 4 * 4 * block + 3 * 4L * header.FactorLength + 32;
        if (bytes.Length != expected)
        {
            throw new InvalidDataException($"{path}: truncated or padded: expected {expected} bytes for E={header.Networks}, P={header.Stride}, file has {bytes.Length}.");
        }

        var stored = bytes.AsSpan(bytes.Length - 32);
        var actual = SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32));
        if (!stored.SequenceEqual(actual))
        {
            throw new InvalidDataException($"{path}: checksum mismatch: the file is corrupted.");
        }

        try
        {
            spec.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: invalid spec in checkpoint: {e.Message.Split('\n')[0]}", e);
        }

        CheckMeaning(path, header, spec);

        if (spec.Networks != header.Networks || spec.Layout.Stride != header.Stride)
        {
            throw new InvalidDataException($"{path}: header shapes E={header.Networks}, P={header.Stride} disagree with the spec (E={spec.Networks}, P={spec.Layout.Stride}).");
        }

        int offset = 16 + (int)headerLen;
        float[] Take(long count)
        {
            var a = new float[count];
            Buffer.BlockCopy(bytes, offset, a, 0, (int)(4 * count));
            offset += (int)(4 * count);
            return a;
        }

        var options = header.Options ?? new TrainingOptions();
        try
        {
            options.Validate(spec.Networks);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: invalid training options in checkpoint: {e.Message.Split('\n')[0]}", e);
        }

        long factorsExpected = options.Rank > 0 ? (long)spec.Networks * Training.LowRank.FactorStride(spec.Hidden, options.Rank) : 0;
        if (header.FactorLength != factorsExpected)
        {
            throw new InvalidDataException($"{path}: factor_length {header.FactorLength}, expected {factorsExpected} for rank {options.Rank}.");
        }

        // CheckMeaning has checked the seeds and the records: present, one per network.
        var ensemble = new Ensemble(spec, header.Seeds!, Take(block));
        var state = new TrainingState(ensemble, header.Task ?? "", header.TaskSettings ?? [], options)
        {
            Epoch = header.Epoch,
        };
        Take(block).CopyTo(state.FirstMoment, 0);
        Take(block).CopyTo(state.SecondMoment, 0);
        Take(block).CopyTo(state.InitialParameters, 0);
        Take(header.FactorLength).CopyTo(state.Factors, 0);
        Take(header.FactorLength).CopyTo(state.FactorFirstMoment, 0);
        Take(header.FactorLength).CopyTo(state.FactorSecondMoment, 0);
        header.Records!.CopyTo(state.Networks, 0);
        header.WeightChange.AsSpan().CopyTo(state.WeightChange); // absent in older files: an empty span, nothing copied
        header.KernelAlignment.AsSpan().CopyTo(state.KernelAlignment);
        return state;
    }

    /// <summary>Checks what the header says, beyond its checksum: a checksum proves the bytes are the writer's, not that they make sense.</summary>
    private static void CheckMeaning(string path, Header h, EnsembleSpec spec)
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

        var records = h.Records ?? [];
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
            var expected = spec.Layout.Entries().Select(x => new Entry(x.Name, x.Offset, x.Length)).ToArray();
            if (!entries.SequenceEqual(expected))
            {
                Fail($"named entries ({string.Join(", ", entries.Select(x => $"{x.Name}@{x.Offset}+{x.Length}"))}) disagree with the spec's layout");
            }
        }
    }

    private static ReadOnlySpan<byte> AsBytes(float[] a) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan());

    private sealed class Header
    {
        public int Networks { get; set; }

        public int Stride { get; set; }

        public EnsembleSpec? Spec { get; set; }

        public string? Task { get; set; }

        public Dictionary<string, string>? TaskSettings { get; set; }

        public TrainingOptions? Options { get; set; }

        public int Epoch { get; set; }

        public long[]? Seeds { get; set; }

        public NetworkProgress[]? Records { get; set; }

        public long FactorLength { get; set; }

        public double[]? WeightChange { get; set; }

        public double[]? KernelAlignment { get; set; }

        public Entry[]? Entries { get; set; }
    }

    private sealed record Entry(string Name, int Offset, int Length);
}
