using System.Globalization;
using System.Text;

namespace Engine.IO;

/// <summary>Reads and writes numpy's <c>.npy</c> format (version 1.0, little-endian, C order).</summary>
public static class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes a float32 array of the given shape atomically.</summary>
    public static void Write(string path, ReadOnlySpan<float> data, params int[] shape)
        => Write(path, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).ToArray(), "<f4", data.Length, shape);

    /// <summary>Writes a float64 array of the given shape atomically.</summary>
    public static void Write(string path, ReadOnlySpan<double> data, params int[] shape)
        => Write(path, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).ToArray(), "<f8", data.Length, shape);

    /// <summary>Reads a float32 array; returns data and shape.</summary>
    /// <exception cref="InvalidDataException">Not a .npy file, or not little-endian float32 in C order.</exception>
    public static (float[] Data, int[] Shape) ReadFloat32(string path)
    {
        using var fs = File.OpenRead(path);
        using var br = new BinaryReader(fs);
        var magic = br.ReadBytes(6);
        if (!magic.AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path}: not a .npy file (bad magic).");
        }

        byte major = br.ReadByte();
        br.ReadByte();
        int headerLen = major == 1 ? br.ReadUInt16() : (int)br.ReadUInt32();
        string header = Encoding.ASCII.GetString(br.ReadBytes(headerLen));
        if (!header.Contains("'descr': '<f4'", StringComparison.Ordinal) || header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: expected little-endian float32 in C order, header was {header.Trim()}.");
        }

        int open = header.IndexOf('(', StringComparison.Ordinal), close = header.IndexOf(')', StringComparison.Ordinal);
        var shape = header[(open + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = br.ReadBytes(checked((int)(count * 4)));
        if (bytes.Length != count * 4)
        {
            throw new InvalidDataException($"{path}: truncated, expected {count} float32 values, found {bytes.Length / 4}.");
        }

        var data = new float[count];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        return (data, shape);
    }

    private static void Write(string path, byte[] payload, string descr, int count, int[] shape)
    {
        long expected = shape.Aggregate(1L, (a, b) => a * b);
        if (expected != count)
        {
            throw new ArgumentException($"Shape ({string.Join(", ", shape)}) holds {expected} values, data has {count}.", nameof(shape));
        }

        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = Magic.Length + 2 + 2 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        AtomicFile.Write(path, s =>
        {
            s.Write(Magic);
            s.WriteByte(1);
            s.WriteByte(0);
            s.WriteByte((byte)(header.Length & 0xFF));
            s.WriteByte((byte)(header.Length >> 8));
            s.Write(Encoding.ASCII.GetBytes(header));
            s.Write(payload);
        });
    }
}
