using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Engine.IO.Import;

/// <summary>Named float tensors read from a <c>.safetensors</c> or <c>.npz</c> file (parsed here, no Python needed).</summary>
/// <remarks>
/// safetensors: u64 little-endian header length H, H bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}}
/// (plus an optional "__metadata__"), then the raw little-endian data; F32, F64, F16 and BF16 are read.
/// npz: a zip of <c>name.npy</c> entries (numpy .npy v1–3, little-endian or byte-order-free f4/f8, C order).
/// Every tensor is returned as float32 with its shape.
/// </remarks>
public static class TensorFile
{
    /// <summary>Reads every tensor of a file, choosing the format by its first bytes (zip magic = npz).</summary>
    /// <exception cref="InvalidDataException">Neither format, truncated, or an unsupported dtype; the message names the file.</exception>
    public static Dictionary<string, (float[] Data, int[] Shape)> Read(string path)
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

    private static Dictionary<string, (float[], int[])> ReadSafetensors(string path, byte[] bytes)
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

        var result = new Dictionary<string, (float[], int[])>(StringComparer.Ordinal);
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

                string dtype = entry.Value.GetProperty("dtype").GetString() ?? "";
                int[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                long count = shape.Aggregate(1L, (a, b) => a * b);
                int size = dtype switch { "F32" => 4, "F64" => 8, "F16" or "BF16" => 2, _ => 0 };
                if (size == 0)
                {
                    throw new InvalidDataException($"{path}: tensor '{entry.Name}' has dtype {dtype}; only F32, F64, F16 and BF16 are read.");
                }

                if (offsets.Length != 2 || offsets[1] - offsets[0] != count * size || dataStart + offsets[1] > bytes.Length)
                {
                    throw new InvalidDataException($"{path}: tensor '{entry.Name}' ({dtype}, shape [{string.Join(", ", shape)}]) has inconsistent or truncated data offsets.");
                }

                result[entry.Name] = (Decode(bytes.AsSpan((int)(dataStart + offsets[0]), (int)(count * size)), dtype, count), shape);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: corrupted safetensors header: {e.Message}", e);
        }

        return result;
    }

    private static Dictionary<string, (float[], int[])> ReadNpz(string path, byte[] bytes)
    {
        var result = new Dictionary<string, (float[], int[])>(StringComparer.Ordinal);
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
                result[name] = ParseNpy(path, name, ms.ToArray());
            }
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: corrupted npz archive: {e.Message}", e);
        }

        return result;
    }

    private static (float[], int[]) ParseNpy(string path, string name, byte[] b)
    {
        if (b.Length < 10 || b[0] != 0x93 || b[1] != (byte)'N' || b[2] != (byte)'U')
        {
            throw new InvalidDataException($"{path}: entry '{name}' is not a .npy array.");
        }

        int major = b[6];
        int headerLen = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8));
        int start = major == 1 ? 10 : 12;
        string header = Encoding.ASCII.GetString(b, start, Math.Min(headerLen, b.Length - start));
        string dtype = header.Contains("'<f4'", StringComparison.Ordinal) || header.Contains("'|f4'", StringComparison.Ordinal) ? "F32"
            : header.Contains("'<f8'", StringComparison.Ordinal) ? "F64"
            : header.Contains("'<f2'", StringComparison.Ordinal) ? "F16" : "";
        if (dtype.Length == 0 || header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: entry '{name}' must be little-endian float16/32/64 in C order; header was {header.Trim()}.");
        }

        int open = header.IndexOf('(', StringComparison.Ordinal), close = header.IndexOf(')', StringComparison.Ordinal);
        int[] shape = header[(open + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        long count = shape.Aggregate(1L, (x, y) => x * y);
        int size = dtype == "F64" ? 8 : dtype == "F32" ? 4 : 2;
        int dataAt = start + headerLen;
        if (b.Length - dataAt < count * size)
        {
            throw new InvalidDataException($"{path}: entry '{name}' is truncated: expected {count} values of {size} bytes.");
        }

        return (Decode(b.AsSpan(dataAt, (int)(count * size)), dtype, count), shape);
    }

    private static float[] Decode(ReadOnlySpan<byte> raw, string dtype, long count)
    {
        var data = new float[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]) << 16),
            };
        }

        return data;
    }
}
