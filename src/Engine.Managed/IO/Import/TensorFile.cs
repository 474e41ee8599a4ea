using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;

namespace Engine.IO.Import;

/// <summary>Named tensors read from a <c>.safetensors</c> or <c>.npz</c> file (parsed here, no Python needed).</summary>
/// <remarks>
/// safetensors: u64 little-endian header length H, H bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}}
/// (plus an optional "__metadata__"), then the raw little-endian data; BOOL, I8–I64, U8–U64, F16, F32, F64 are read as
/// they are, BF16 is widened to float32 (exactly). npz: a zip of <c>name.npy</c> entries, each read by <see cref="Npy.Parse"/>
/// (any dtype, byte order and memory order it reads). Every tensor keeps its dtype; convert with <see cref="NpyArray.ToFloat32"/> etc.
/// </remarks>
public static class TensorFile
{
    /// <summary>Reads every tensor of a file, choosing the format by its first bytes (zip magic = npz).</summary>
    /// <exception cref="InvalidDataException">Neither format, truncated, or an unsupported dtype; the message names the file and the entry.</exception>
    public static Dictionary<string, NpyArray> Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read: {e.Message}", e);
        }

        try
        {
            if (bytes.Length >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4)
            {
                return ReadNpz(path, bytes);
            }

            return ReadSafetensors(path, bytes);
        }
        catch (Exception e) when (e is not InvalidDataException and (ArgumentException or ArithmeticException or IndexOutOfRangeException
            or InvalidOperationException or NotSupportedException or FormatException or KeyNotFoundException or JsonException or IOException))
        {
            // A corrupt file can trip the zip, npy or JSON readers anywhere; whatever broke, the error names the file.
            throw new InvalidDataException($"{path}: corrupt tensor file ({e.Message})", e);
        }
    }

    private static Dictionary<string, NpyArray> ReadSafetensors(string path, byte[] bytes)
    {
        if (bytes.Length < 8)
        {
            throw new InvalidDataException($"{path}: not a .safetensors or .npz file ({bytes.Length} bytes).");
        }

        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLen == 0 || headerLen > (ulong)(bytes.Length - 8) || bytes[8] != (byte)'{')
        {
            throw new InvalidDataException($"{path}: not a .safetensors or .npz file (header length {headerLen}, file has {bytes.Length} bytes).");
        }

        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        long dataStart = 8 + (long)headerLen;
        try
        {
            using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLen));
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    continue;
                }

                string source = $"{path}: tensor '{entry.Name}'";
                string dtype = entry.Value.GetProperty("dtype").GetString() ?? "";
                int[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                long count = NpyArray.CountOf(shape, source);
                NpyDtype? type = dtype == "BF16" ? NpyDtype.Float32 : SafetensorsDtype(dtype);
                int size = dtype == "BF16" ? 2 : type?.Size ?? 0;
                if (type is null)
                {
                    throw new InvalidDataException($"{source} has dtype {dtype}; BOOL, I8, I16, I32, I64, U8, U16, U32, U64, F16, BF16, F32 and F64 are read.");
                }

                if (offsets.Length != 2 || offsets[1] - offsets[0] != count * size || offsets[0] < 0 || dataStart + offsets[1] > bytes.Length)
                {
                    throw new InvalidDataException($"{source} ({dtype}, shape [{string.Join(", ", shape)}]) has inconsistent or truncated data offsets: "
                        + $"[{string.Join(", ", offsets)}] for {count} values of {size} bytes, {bytes.Length - dataStart} bytes of data.");
                }

                var raw = bytes.AsSpan((int)(dataStart + offsets[0]), (int)(count * size));
                result[entry.Name] = new NpyArray(source, type.Value, shape, dtype == "BF16" ? WidenBFloat16(raw) : raw.ToArray());
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: corrupted safetensors header: {e.Message}", e);
        }

        return result;
    }

    private static NpyDtype? SafetensorsDtype(string dtype) => dtype switch
    {
        "BOOL" => NpyDtype.Bool,
        "I8" => new NpyDtype(NpyKind.SignedInteger, 1, NpyByteOrder.NotApplicable),
        "U8" => NpyDtype.UInt8,
        "I16" or "I32" or "I64" => new NpyDtype(NpyKind.SignedInteger, int.Parse(dtype.AsSpan(1), CultureInfo.InvariantCulture) / 8, NpyByteOrder.Little),
        "U16" or "U32" or "U64" => new NpyDtype(NpyKind.UnsignedInteger, int.Parse(dtype.AsSpan(1), CultureInfo.InvariantCulture) / 8, NpyByteOrder.Little),
        "F16" or "F32" or "F64" => new NpyDtype(NpyKind.Float, int.Parse(dtype.AsSpan(1), CultureInfo.InvariantCulture) / 8, NpyByteOrder.Little),
        _ => null,
    };

    /// <summary>bfloat16 is the top half of a float32: shifting it up is exact.</summary>
    private static byte[] WidenBFloat16(ReadOnlySpan<byte> raw)
    {
        var wide = new byte[raw.Length * 2];
        for (int i = 0; i < raw.Length / 2; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(wide.AsSpan(4 * i), (uint)BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]) << 16);
        }

        return wide;
    }

    private static Dictionary<string, NpyArray> ReadNpz(string path, byte[] bytes)
    {
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal))
                {
                    continue;
                }

                using var s = entry.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                string name = entry.FullName[..^4];
                result[name] = Npy.Parse(ms.GetBuffer().AsSpan(0, (int)ms.Length), $"{path}: entry '{name}'");
            }
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: corrupted npz archive: {e.Message}", e);
        }

        return result;
    }
}
