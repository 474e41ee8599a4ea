using System.Globalization;
using System.Text;

namespace Engine.Tests.Support;

/// <summary>Reads the float64 <c>.npy</c> files the CLI writes (the engine's <c>Npy</c> reads only float32).</summary>
/// <remarks>Written here from the .npy 1.0 format, not through the engine, so a test does not check the writer with its own reader.</remarks>
public static class NpyFloat64
{
    /// <summary>Data and shape of a little-endian float64 array in C order; fails the test on anything else.</summary>
    public static (double[] Data, int[] Shape) Read(string path)
    {
        using var br = new BinaryReader(File.OpenRead(path));
        var magic = br.ReadBytes(6);
        if (magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"{path}: not a .npy file.");
        }

        byte major = br.ReadByte();
        br.ReadByte();
        int headerLen = major == 1 ? br.ReadUInt16() : (int)br.ReadUInt32();
        string header = Encoding.ASCII.GetString(br.ReadBytes(headerLen));
        if (!header.Contains("'descr': '<f8'", StringComparison.Ordinal) || !header.Contains("'fortran_order': False", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: expected little-endian float64 in C order, header was {header.Trim()}.");
        }

        int open = header.IndexOf('(', StringComparison.Ordinal), close = header.IndexOf(')', StringComparison.Ordinal);
        var shape = header[(open + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = br.ReadBytes(checked((int)(count * 8)));
        if (bytes.Length != count * 8 || br.BaseStream.Position != br.BaseStream.Length)
        {
            throw new InvalidDataException($"{path}: {count} float64 values in the header, {bytes.Length / 8.0} in the file, {br.BaseStream.Length - br.BaseStream.Position} bytes left over.");
        }

        var data = new double[count];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        return (data, shape);
    }
}
