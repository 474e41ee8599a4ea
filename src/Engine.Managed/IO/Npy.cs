using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Engine.IO;

/// <summary>Reads and writes numpy's <c>.npy</c> format.</summary>
/// <remarks>
/// Reading: header versions 1.0, 2.0 and 3.0; dtypes bool, int8–int64, uint8–uint64, float16/32/64 in either byte order;
/// C or Fortran order (Fortran arrays are transposed to C order). Complex, object, string, datetime and structured
/// dtypes are refused. Writing: version 1.0, little-endian, C order, atomically (<see cref="AtomicFile"/>).
/// </remarks>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a <c>.npy</c> file of any readable dtype.</summary>
    /// <exception cref="InvalidDataException">Not a .npy file, an unsupported version or dtype, a header that is not the
    /// dict numpy writes, or data that does not match the shape; the message names the file.</exception>
    public static NpyArray Read(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses the bytes of a <c>.npy</c> file (e.g. an entry of an <c>.npz</c>).</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="source">What to call it in errors, e.g. <c>weights.npz: entry 'fc.bias'</c>.</param>
    /// <exception cref="InvalidDataException">As <see cref="Read(string)"/>, naming <paramref name="source"/>.</exception>
    public static NpyArray Parse(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
        {
            string found = Convert.ToHexString(bytes[..Math.Min(8, bytes.Length)]);
            throw new InvalidDataException($"{source}: not a .npy file (bad magic: expected 934E554D5059 (\\x93NUMPY), found {(found.Length == 0 ? "nothing" : found)}).");
        }

        int major = bytes[6], minor = bytes[7];
        if (major is not (1 or 2 or 3) || (major > 1 && bytes.Length < 12))
        {
            throw new InvalidDataException($"{source}: .npy version {major}.{minor}; versions 1.0, 2.0 and 3.0 are read.");
        }

        int start = major == 1 ? 10 : 12;
        long headerLen = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        if (headerLen > bytes.Length - start)
        {
            throw new InvalidDataException($"{source}: truncated header: it declares {headerLen} bytes, the file has {bytes.Length - start} after the preamble.");
        }

        var headerBytes = bytes.Slice(start, (int)headerLen);
        string text = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        var header = ParseHeader(text, source);
        var dtype = header.Dtype;
        long count = NpyArray.CountOf(header.Shape, source);
        long need = count * dtype.Size;
        var data = bytes[(start + (int)headerLen)..];
        string what = $"shape ({NpyArray.Dims(header.Shape)}) of {dtype.Descr}";
        if (data.Length < need)
        {
            throw new InvalidDataException($"{source}: truncated data: {what} needs {count} values ({need} bytes), the file holds {data.Length} bytes ({data.Length / dtype.Size} values).");
        }

        if (data.Length > need)
        {
            throw new InvalidDataException($"{source}: shape mismatch: {what} is {count} values ({need} bytes), the file holds {data.Length} bytes after the header.");
        }

        var raw = data.ToArray();
        if (dtype.ByteOrder == NpyByteOrder.Big && dtype.Size > 1)
        {
            for (int i = 0; i < raw.Length; i += dtype.Size)
            {
                raw.AsSpan(i, dtype.Size).Reverse();
            }
        }

        if (header.FortranOrder && header.Shape.Length > 1)
        {
            raw = FortranToC(raw, header.Shape, dtype.Size);
        }

        return new NpyArray(source, dtype, header.Shape, raw);
    }

    /// <summary>Reads any readable dtype as float32 (see <see cref="NpyArray.ToFloat32"/> for the rounding); returns data in C order and shape.</summary>
    /// <exception cref="InvalidDataException">As <see cref="Read(string)"/>.</exception>
    public static (float[] Data, int[] Shape) ReadFloat32(string path)
    {
        var a = Read(path);
        return (a.ToFloat32(), a.ShapeArray());
    }

    /// <summary>Reads any readable dtype as float64 (exact except integers beyond 2^53); returns data in C order and shape.</summary>
    /// <exception cref="InvalidDataException">As <see cref="Read(string)"/>.</exception>
    public static (double[] Data, int[] Shape) ReadFloat64(string path)
    {
        var a = Read(path);
        return (a.ToDouble(), a.ShapeArray());
    }

    /// <summary>Reads bool, integer, or whole-valued float arrays as int64; returns data in C order and shape.</summary>
    /// <exception cref="InvalidDataException">As <see cref="Read(string)"/>, or a value that is not a whole number in int64 range.</exception>
    public static (long[] Data, int[] Shape) ReadInt64(string path)
    {
        var a = Read(path);
        return (a.ToInt64(), a.ShapeArray());
    }

    /// <summary>Writes a float32 array (<c>&lt;f4</c>) of the given shape atomically.</summary>
    /// <exception cref="ArgumentException">The shape does not hold <c>data.Length</c> values.</exception>
    public static void Write(string path, ReadOnlySpan<float> data, params int[] shape) => Write(path, MemoryMarshal.AsBytes(data), NpyDtype.Float32, data.Length, shape);

    /// <summary>Writes a float64 array (<c>&lt;f8</c>) of the given shape atomically.</summary>
    /// <exception cref="ArgumentException">The shape does not hold <c>data.Length</c> values.</exception>
    public static void Write(string path, ReadOnlySpan<double> data, params int[] shape) => Write(path, MemoryMarshal.AsBytes(data), NpyDtype.Float64, data.Length, shape);

    /// <summary>Writes an int32 array (<c>&lt;i4</c>) of the given shape atomically.</summary>
    /// <exception cref="ArgumentException">The shape does not hold <c>data.Length</c> values.</exception>
    public static void Write(string path, ReadOnlySpan<int> data, params int[] shape) => Write(path, MemoryMarshal.AsBytes(data), NpyDtype.Int32, data.Length, shape);

    /// <summary>Writes an int64 array (<c>&lt;i8</c>) of the given shape atomically.</summary>
    /// <exception cref="ArgumentException">The shape does not hold <c>data.Length</c> values.</exception>
    public static void Write(string path, ReadOnlySpan<long> data, params int[] shape) => Write(path, MemoryMarshal.AsBytes(data), NpyDtype.Int64, data.Length, shape);

    /// <summary>Writes a uint8 array (<c>|u1</c>) of the given shape atomically.</summary>
    /// <exception cref="ArgumentException">The shape does not hold <c>data.Length</c> values.</exception>
    public static void Write(string path, ReadOnlySpan<byte> data, params int[] shape) => Write(path, data, NpyDtype.UInt8, data.Length, shape);

    /// <summary>Writes a bool array (<c>|b1</c>, one byte 0 or 1 per value) of the given shape atomically.</summary>
    /// <exception cref="ArgumentException">The shape does not hold <c>data.Length</c> values.</exception>
    public static void Write(string path, ReadOnlySpan<bool> data, params int[] shape)
    {
        var bytes = new byte[data.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = data[i] ? (byte)1 : (byte)0;
        }

        Write(path, bytes, NpyDtype.Bool, data.Length, shape);
    }

    /// <summary>Version 1.0, C order; the header (magic to '\n') is padded with spaces to a multiple of 64 bytes, as numpy does.</summary>
    private static void Write(string path, ReadOnlySpan<byte> payload, NpyDtype dtype, int count, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long expected = shape.Aggregate(1L, (a, b) => a * b);
        if (expected != count || shape.Any(d => d < 0))
        {
            throw new ArgumentException($"Shape ({string.Join(", ", shape)}) holds {expected} values, data has {count}.", nameof(shape));
        }

        string dims = NpyArray.Dims(shape);
        string dict = $"{{'descr': '{dtype.Descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = Magic.Length + 2 + 2 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        var bytes = payload.ToArray();
        AtomicFile.Write(path, s =>
        {
            s.Write(Magic);
            s.WriteByte(1);
            s.WriteByte(0);
            s.WriteByte((byte)(header.Length & 0xFF));
            s.WriteByte((byte)(header.Length >> 8));
            s.Write(Encoding.ASCII.GetBytes(header));
            s.Write(bytes);
        });
    }

    /// <summary>Reorders a Fortran-order (first index fastest) array into C order (last index fastest).</summary>
    private static byte[] FortranToC(byte[] src, int[] shape, int size)
    {
        int k = shape.Length;
        var stride = new long[k];
        long s = 1;
        for (int j = 0; j < k; j++)
        {
            stride[j] = s;
            s *= shape[j];
        }

        var dst = new byte[src.Length];
        var idx = new int[k];
        long from = 0;
        for (int c = 0; c < dst.Length; c += size)
        {
            Buffer.BlockCopy(src, (int)(from * size), dst, c, size);
            for (int j = k - 1; j >= 0; j--)
            {
                from += stride[j];
                if (++idx[j] < shape[j])
                {
                    break;
                }

                from -= stride[j] * shape[j];
                idx[j] = 0;
            }
        }

        return dst;
    }
}
