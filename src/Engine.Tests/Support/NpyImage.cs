using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Engine.Tests.Support;

/// <summary>Byte images of <c>.npy</c> and <c>.npz</c> files built by hand from the format description, not through the engine's writer.</summary>
internal static class NpyImage
{
    /// <summary>A whole <c>.npy</c> file: magic, version, header length, <paramref name="dict"/> padded with spaces and '\n' to a multiple of 64, then <paramref name="data"/>.</summary>
    public static byte[] File(string dict, byte[] data, int major = 1)
    {
        int preamble = major == 1 ? 10 : 12;
        var dictBytes = Encoding.UTF8.GetBytes(dict);
        int pad = (64 - (preamble + dictBytes.Length + 1) % 64) % 64;
        var header = dictBytes.Concat(Enumerable.Repeat((byte)' ', pad)).Append((byte)'\n').ToArray();
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        var len = new byte[major == 1 ? 2 : 4];
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)header.Length);
        }

        ms.Write(len);
        ms.Write(header);
        ms.Write(data);
        return ms.ToArray();
    }

    /// <summary>The header dict numpy writes, e.g. <c>{'descr': '&lt;f8', 'fortran_order': False, 'shape': (2, 3), }</c>.</summary>
    public static string Dict(string descr, int[] shape, bool fortran = false)
        => $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': ({(shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape))}), }}";

    /// <summary>A <c>.npy</c> file of <paramref name="values"/> stored as <paramref name="descr"/> in the order given.</summary>
    public static byte[] File(string descr, int[] shape, double[] values, bool fortran = false, int major = 1)
        => File(Dict(descr, shape, fortran), Encode(descr, values), major);

    /// <summary>The raw bytes of <paramref name="values"/> as numpy dtype <paramref name="descr"/> (<c>&lt;</c>, <c>&gt;</c>, <c>|</c> or <c>=</c>, kind b/i/u/f, size).</summary>
    public static byte[] Encode(string descr, IReadOnlyList<double> values)
    {
        bool big = descr[0] == '>';
        char kind = descr[1];
        int size = int.Parse(descr.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture);
        var bytes = new byte[values.Count * size];
        for (int i = 0; i < values.Count; i++)
        {
            var b = bytes.AsSpan(i * size, size);
            double v = values[i];
            switch (kind, size)
            {
                case ('b', 1): b[0] = v != 0 ? (byte)1 : (byte)0; break;
                case ('i', 1): b[0] = (byte)(sbyte)v; break;
                case ('u', 1): b[0] = (byte)v; break;
                case ('i', 2): BinaryPrimitives.WriteInt16LittleEndian(b, (short)v); break;
                case ('u', 2): BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v); break;
                case ('i', 4): BinaryPrimitives.WriteInt32LittleEndian(b, (int)v); break;
                case ('u', 4): BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)v); break;
                case ('i', 8): BinaryPrimitives.WriteInt64LittleEndian(b, (long)v); break;
                case ('u', 8): BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)v); break;
                case ('f', 2): BinaryPrimitives.WriteHalfLittleEndian(b, (Half)v); break;
                case ('f', 4): BinaryPrimitives.WriteSingleLittleEndian(b, (float)v); break;
                case ('f', 8): BinaryPrimitives.WriteDoubleLittleEndian(b, v); break;
                default: throw new ArgumentException($"no encoder for {descr}", nameof(descr));
            }

            if (big)
            {
                b.Reverse();
            }
        }

        return bytes;
    }

    /// <summary>An <c>.npz</c>: a zip with one <c>name.npy</c> entry per file image, stored or deflated.</summary>
    public static byte[] Npz(IEnumerable<(string Name, byte[] Npy)> entries, CompressionLevel level = CompressionLevel.NoCompression)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, npy) in entries)
            {
                using var s = zip.CreateEntry(name + ".npy", level).Open();
                s.Write(npy);
            }
        }

        return ms.ToArray();
    }
}
