using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Engine.Model;

namespace Engine.IO;

/// <summary>One named per-network entry of a checkpoint's parameter block.</summary>
/// <param name="Name">W, U, b, C, d or h0.</param>
/// <param name="Offset">Offset within a network's slice.</param>
/// <param name="Length">Values.</param>
public sealed record CheckpointEntry(string Name, int Offset, int Length);

/// <summary>The header of a checkpoint: plain data, with the training-specific parts (options, per-network records) as raw JSON.</summary>
/// <remarks>The JSON property order is the file's; the training layer reads and writes <see cref="Options"/> and <see cref="Records"/>.</remarks>
public sealed class CheckpointHeader
{
    /// <summary>E.</summary>
    public int Networks { get; set; }

    /// <summary>P, parameters per network.</summary>
    public int Stride { get; set; }

    /// <summary>The architecture.</summary>
    public EnsembleSpec? Spec { get; set; }

    /// <summary>The task's name.</summary>
    public string? Task { get; set; }

    /// <summary>The task's settings.</summary>
    public Dictionary<string, string>? TaskSettings { get; set; }

    /// <summary>The training options (raw JSON).</summary>
    public JsonElement? Options { get; set; }

    /// <summary>Epochs trained.</summary>
    public int Epoch { get; set; }

    /// <summary>One seed per network.</summary>
    public long[]? Seeds { get; set; }

    /// <summary>Per-network training records (raw JSON).</summary>
    public JsonElement? Records { get; set; }

    /// <summary>F, values of the low-rank factors (0 at full rank).</summary>
    public long FactorLength { get; set; }

    /// <summary>‖W_T − W_0‖_F per network (optional).</summary>
    public double[]? WeightChange { get; set; }

    /// <summary>Kernel alignment per network (optional).</summary>
    public double[]? KernelAlignment { get; set; }

    /// <summary>The named entries of a network's slice (optional).</summary>
    public CheckpointEntry[]? Entries { get; set; }
}

/// <summary>A checkpoint's content as plain data: the header and the float32 blocks.</summary>
/// <param name="Header">The header.</param>
/// <param name="Parameters">[E][P].</param>
/// <param name="FirstMoment">Adam m [E][P].</param>
/// <param name="SecondMoment">Adam v [E][P].</param>
/// <param name="InitialParameters">[E][P], for ‖W_T − W_0‖.</param>
/// <param name="Factors">Low-rank factors [F].</param>
/// <param name="FactorFirstMoment">Their Adam m [F].</param>
/// <param name="FactorSecondMoment">Their Adam v [F].</param>
public sealed record CheckpointRecord(CheckpointHeader Header, float[] Parameters, float[] FirstMoment, float[] SecondMoment, float[] InitialParameters,
    float[] Factors, float[] FactorFirstMoment, float[] FactorSecondMoment);

/// <summary>The engine's binary checkpoint container: a header and float32 blocks, checksummed and written atomically.</summary>
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
/// This layer checks the container (magic, version, lengths, checksum, a valid spec); what the header means for a training
/// run is checked where runs are made (<c>Training.Checkpoint</c>). Files are written atomically (temp file, then rename).
/// </remarks>
public static class CheckpointFile
{
    /// <summary>Current format version.</summary>
    public const uint Version = 1;

    private static readonly byte[] Magic = "RNNCKPT\0"u8.ToArray();

    /// <summary>The header's JSON settings (snake_case names, enums as snake_case strings, NaN allowed).</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes a checkpoint atomically.</summary>
    public static void Write(string path, CheckpointRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(record.Header, Json);
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
            foreach (var block in new[] { record.Parameters, record.FirstMoment, record.SecondMoment, record.InitialParameters, record.Factors, record.FactorFirstMoment, record.FactorSecondMoment })
            {
                Put(System.Runtime.InteropServices.MemoryMarshal.AsBytes(block.AsSpan()));
            }

            s.Write(hash.GetHashAndReset());
        });
    }

    /// <summary>Reads a checkpoint, verifying magic, version, lengths, checksum and the spec.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, is truncated, corrupted, or of another version; the message names the file and what is wrong.</exception>
    public static CheckpointRecord Read(string path)
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

        CheckpointHeader header;
        try
        {
            header = JsonSerializer.Deserialize<CheckpointHeader>(bytes.AsSpan(16, (int)headerLen), Json)
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

        int offset = 16 + (int)headerLen;
        float[] Take(long count)
        {
            var a = new float[count];
            Buffer.BlockCopy(bytes, offset, a, 0, (int)(4 * count));
            offset += (int)(4 * count);
            return a;
        }

        return new CheckpointRecord(header, Take(block), Take(block), Take(block), Take(block), Take(header.FactorLength), Take(header.FactorLength), Take(header.FactorLength));
    }
}
