using System.Buffers.Binary;
using System.Text;
using Engine.IO;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.IO;

/// <summary>The .npy reader against hand-built files of every dtype, byte order, memory order and header version; the writer against the format.</summary>
public sealed class NpyTests
{
    private static readonly double[] Signed = [-5, 0, 1, 7, 100, -100];
    private static readonly double[] Unsigned = [0, 1, 7, 100, 200, 255];
    private static readonly double[] Floats = [-1.5, 0, 0.25, 3, 1000, -2048];
    private static readonly double[] Bools = [1, 0, 0, 1, 1, 0];
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("npy").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private string Save(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static double[] ValuesFor(char kind) => kind switch { 'b' => Bools, 'i' => Signed, 'u' => Unsigned, _ => Floats };

    [TestCase("|b1", "|b1")]
    [TestCase("|i1", "|i1")]
    [TestCase("<i2", "<i2")]
    [TestCase(">i2", ">i2")]
    [TestCase("<i4", "<i4")]
    [TestCase(">i4", ">i4")]
    [TestCase("=i4", "<i4")]
    [TestCase("<i8", "<i8")]
    [TestCase(">i8", ">i8")]
    [TestCase("|u1", "|u1")]
    [TestCase("<u2", "<u2")]
    [TestCase(">u2", ">u2")]
    [TestCase("<u4", "<u4")]
    [TestCase(">u4", ">u4")]
    [TestCase("<u8", "<u8")]
    [TestCase(">u8", ">u8")]
    [TestCase("<f2", "<f2")]
    [TestCase(">f2", ">f2")]
    [TestCase("<f4", "<f4")]
    [TestCase(">f4", ">f4")]
    [TestCase("<f8", "<f8")]
    [TestCase(">f8", ">f8")]
    [TestCase("=f8", "<f8")]
    public void Read_EveryDtypeAndByteOrder_GivesTheValues(string descr, string expectedDescr)
    {
        var values = ValuesFor(descr[1]);
        string file = descr.Replace('<', 'L').Replace('>', 'B').Replace('|', 'N').Replace('=', 'E');
        string path = Save(file + ".npy", NpyImage.File(descr, [2, 3], values));

        var a = Npy.Read(path);
        Assert.That(a.Dtype.Descr, Is.EqualTo(expectedDescr));
        Assert.That(a.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(a.Count, Is.EqualTo(6));
        Assert.That(a.ToDouble(), Is.EqualTo(values));
        Assert.That(a.ToFloat32(), Is.EqualTo(values.Select(v => (float)v).ToArray()));
        if (a.Dtype.IsIntegral)
        {
            Assert.That(a.ToInt64(), Is.EqualTo(values.Select(v => (long)v).ToArray()));
        }
        Assert.That(Npy.ReadFloat64(path).Data, Is.EqualTo(values));
        Assert.That(Npy.ReadFloat32(path).Shape, Is.EqualTo(new[] { 2, 3 }));
    }

    [Test]
    public void Read_Int64AndUInt64Extremes_AreExact()
    {
        var big = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(big, long.MinValue);
        BinaryPrimitives.WriteInt64BigEndian(big.AsSpan(8), long.MaxValue);
        string path = Save("extremes.npy", NpyImage.File(NpyImage.Dict(">i8", [2]), big));
        Assert.That(Npy.ReadInt64(path).Data, Is.EqualTo(new[] { long.MinValue, long.MaxValue }));

        var u = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(u, (ulong)long.MaxValue);
        BinaryPrimitives.WriteUInt64LittleEndian(u.AsSpan(8), ulong.MaxValue);
        string upath = Save("u8.npy", NpyImage.File(NpyImage.Dict("<u8", [2]), u));
        var a = Npy.Read(upath);
        Assert.That(a.ToDouble(), Is.EqualTo(new[] { 9.2233720368547758e18, 1.8446744073709552e19 }));
        Assert.That(() => a.ToInt64(), Throws.InstanceOf<InvalidDataException>().With.Message.Contains(upath)
            .And.Message.Contains("element [1]").And.Message.Contains("18446744073709551615").And.Message.Contains("uint64"));
    }

    [Test]
    public void ReadInt64_RefusesFractionalFloats_AndAcceptsWholeOnes()
    {
        string whole = Save("whole.npy", NpyImage.File("<f8", [2, 2], [3, -4, 0, 1e15]));
        Assert.That(Npy.ReadInt64(whole).Data, Is.EqualTo(new long[] { 3, -4, 0, 1_000_000_000_000_000 }));

        string frac = Save("frac.npy", NpyImage.File("<f8", [2, 2], [3, -4, 2.5, 1]));
        Assert.That(() => Npy.ReadInt64(frac), Throws.InstanceOf<InvalidDataException>().With.Message.Contains(frac)
            .And.Message.Contains("element [1, 0]").And.Message.Contains("2.5").And.Message.Contains("float64"));

        string nan = Save("nan.npy", NpyImage.File("<f4", [1], [double.NaN]));
        Assert.That(() => Npy.ReadInt64(nan), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("NaN"));
        string huge = Save("huge.npy", NpyImage.File("<f8", [1], [9.2233720368547758e18]));
        Assert.That(() => Npy.ReadInt64(huge), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("int64 range"));
    }

    [TestCase("<i4")]
    [TestCase(">f8")]
    [TestCase("|u1")]
    public void Read_FortranOrder2x3_IsTransposedToCOrder(string descr)
    {
        // A[i, j] = 10 i + j, stored first index fastest: A[0,0], A[1,0], A[0,1], A[1,1], A[0,2], A[1,2].
        double[] fortran = [0, 10, 1, 11, 2, 12];
        string path = Save("f23.npy", NpyImage.File(descr, [2, 3], fortran, fortran: true));
        var a = Npy.Read(path);
        Assert.That(a.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(a.ToDouble(), Is.EqualTo(new double[] { 0, 1, 2, 10, 11, 12 }));
    }

    [Test]
    public void Read_FortranOrder2x3x4_IsTransposedToCOrder()
    {
        // A[i, j, k] = 100 i + 10 j + k; Fortran order runs i fastest, then j, then k.
        var fortran = new List<double>();
        for (int k = 0; k < 4; k++)
        {
            for (int j = 0; j < 3; j++)
            {
                for (int i = 0; i < 2; i++)
                {
                    fortran.Add(100 * i + 10 * j + k);
                }
            }
        }

        var c = new List<long>();
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                for (int k = 0; k < 4; k++)
                {
                    c.Add(100 * i + 10 * j + k);
                }
            }
        }

        string path = Save("f234.npy", NpyImage.File(">i8", [2, 3, 4], fortran.ToArray(), fortran: true));
        var a = Npy.Read(path);
        Assert.That(a.Shape, Is.EqualTo(new[] { 2, 3, 4 }));
        Assert.That(a.ToInt64(), Is.EqualTo(c));
    }

    [TestCase(2)]
    [TestCase(3)]
    public void Read_Version2And3Headers(int major)
    {
        var bytes = NpyImage.File("<f4", [3], [1, 2, 3], major: major);
        Assert.That(bytes[6], Is.EqualTo(major));
        Assert.That((BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)) + 12) % 64, Is.Zero, "the image pads like numpy");
        var (data, shape) = Npy.ReadFloat32(Save("v.npy", bytes));
        Assert.That(shape, Is.EqualTo(new[] { 3 }));
        Assert.That(data, Is.EqualTo(new float[] { 1, 2, 3 }));
    }

    [TestCase("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}")]
    [TestCase("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f8\"}")]
    [TestCase("{'descr':'<f8','fortran_order':False,'shape':(2L,),}")]
    [TestCase("{ 'descr' : '<f8' , 'fortran_order' : False , 'shape' : ( 2 , ) , }")]
    public void Read_AcceptsHeaderSpellings(string dict)
    {
        string path = Save("h.npy", NpyImage.File(dict, NpyImage.Encode("<f8", [4, 5])));
        Assert.That(Npy.ReadFloat64(path).Data, Is.EqualTo(new double[] { 4, 5 }));
    }

    [Test]
    public void Read_ScalarAndEmptyArrays()
    {
        var scalar = Npy.Read(Save("s.npy", NpyImage.File("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", NpyImage.Encode("<i8", [42]))));
        Assert.That(scalar.Shape, Is.Empty);
        Assert.That(scalar.ToInt64(), Is.EqualTo(new long[] { 42 }));

        var empty = Npy.Read(Save("e.npy", NpyImage.File("<f4", [0, 3], [])));
        Assert.That(empty.Shape, Is.EqualTo(new[] { 0, 3 }));
        Assert.That(empty.ToFloat32(), Is.Empty);
    }

    [TestCase("<c16", "complex")]
    [TestCase("<c8", "complex")]
    [TestCase("|O", "Python objects")]
    [TestCase("<U5", "strings")]
    [TestCase("|S3", "strings")]
    [TestCase("<M8[ns]", "datetime")]
    [TestCase("<f16", "float size")]
    [TestCase("<i3", "integer size")]
    public void Read_UnsupportedDtype_NamesIt(string descr, string why)
    {
        string path = Save("bad.npy", NpyImage.File(NpyImage.Dict(descr, [2]), new byte[64]));
        Assert.That(() => Npy.Read(path), Throws.InstanceOf<InvalidDataException>()
            .With.Message.StartsWith(path).And.Message.Contains($"unsupported dtype '{descr}'").And.Message.Contains(why).And.Message.Contains("readable:"));
    }

    [Test]
    public void Read_StructuredDtype_IsRefused()
    {
        string path = Save("rec.npy", NpyImage.File("{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (2,), }", new byte[16]));
        Assert.That(() => Npy.Read(path), Throws.InstanceOf<InvalidDataException>()
            .With.Message.Contains("structured").And.Message.Contains("('x', '<f4')"));
    }

    [Test]
    public void Read_RejectsBadMagicVersionAndHeaders()
    {
        string junk = Save("junk.npy", Encoding.ASCII.GetBytes("PK\x03\x04 this is not numpy"));
        Assert.That(() => Npy.Read(junk), Throws.InstanceOf<InvalidDataException>().With.Message.StartsWith(junk).And.Message.Contains("bad magic").And.Message.Contains("found 504B0304"));

        var v4 = NpyImage.File("<f4", [1], [1]);
        v4[6] = 4;
        Assert.That(() => Npy.Read(Save("v4.npy", v4)), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("version 4.0"));

        string list = Save("list.npy", NpyImage.File("[1, 2]", []));
        Assert.That(() => Npy.Read(list), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("not a dict").And.Message.Contains("[1, 2]"));

        string broken = Save("broken.npy", NpyImage.File("{'descr': <f4, 'shape': (1,)}", [0, 0, 0, 0]));
        Assert.That(() => Npy.Read(broken), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("not a Python literal").And.Message.Contains("column 11"));

        string noShape = Save("noshape.npy", NpyImage.File("{'descr': '<f4', 'fortran_order': False}", [0, 0, 0, 0]));
        Assert.That(() => Npy.Read(noShape), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("no 'shape' key"));

        string badOrder = Save("order.npy", NpyImage.File("{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,)}", [0, 0, 0, 0]));
        Assert.That(() => Npy.Read(badOrder), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("'fortran_order' is 'no'"));

        string negative = Save("neg.npy", NpyImage.File("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", [0, 0, 0, 0]));
        Assert.That(() => Npy.Read(negative), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("dimension 0 of the shape is -1"));

        string huge = Save("huge.npy", NpyImage.File(NpyImage.Dict("<f4", [65536, 65536, 65536, 65536]), [0, 0, 0, 0]));
        Assert.That(() => Npy.Read(huge), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("more values than a .NET array holds"));

        var shortHeader = NpyImage.File("<f4", [1], [1])[..30];
        Assert.That(() => Npy.Read(Save("short.npy", shortHeader)), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("truncated header"));
    }

    [Test]
    public void Read_TruncatedOrOverlongData_NamesTheCounts()
    {
        var full = NpyImage.File("<f8", [2, 3], [1, 2, 3, 4, 5, 6]);
        string truncated = Save("t.npy", full[..^8]);
        Assert.That(() => Npy.Read(truncated), Throws.InstanceOf<InvalidDataException>().With.Message.StartsWith(truncated)
            .And.Message.Contains("truncated data").And.Message.Contains("shape (2, 3) of <f8 needs 6 values (48 bytes)")
            .And.Message.Contains("holds 40 bytes (5 values)"));

        string overlong = Save("o.npy", [.. full, 0, 0, 0, 0, 0, 0, 0, 0]);
        Assert.That(() => Npy.Read(overlong), Throws.InstanceOf<InvalidDataException>()
            .With.Message.Contains("shape mismatch").And.Message.Contains("6 values (48 bytes)").And.Message.Contains("56 bytes"));
    }

    [Test]
    public void Write_EveryType_RoundTripsWithAHeaderNumpyAccepts()
    {
        int[] ints = [int.MinValue, -1, 0, 7, int.MaxValue, 3];
        long[] longs = [long.MinValue, -1, 0, 7, long.MaxValue, 1L << 40];
        float[] floats = [-1.5f, 0, float.Epsilon, 3.25f, float.MaxValue, 1e-3f];
        double[] doubles = [-1.5, 0, double.Epsilon, Math.PI, double.MaxValue, 1e-300];
        byte[] bytes = [0, 1, 2, 127, 128, 255];
        bool[] bools = [true, false, false, true, true, false];
        var cases = new (string Descr, Action<string> Write, int Size, Func<string, object> Back, object Expected)[]
        {
            ("<i4", p => Npy.Write(p, ints, 2, 3), 4, p => Npy.ReadInt64(p).Data, ints.Select(x => (long)x).ToArray()),
            ("<i8", p => Npy.Write(p, longs, 2, 3), 8, p => Npy.ReadInt64(p).Data, longs),
            ("<f4", p => Npy.Write(p, floats, 2, 3), 4, p => Npy.ReadFloat32(p).Data, floats),
            ("<f8", p => Npy.Write(p, doubles, 2, 3), 8, p => Npy.ReadFloat64(p).Data, doubles),
            ("|u1", p => Npy.Write(p, bytes, 2, 3), 1, p => Npy.ReadInt64(p).Data, bytes.Select(x => (long)x).ToArray()),
            ("|b1", p => Npy.Write(p, bools, 2, 3), 1, p => Npy.ReadInt64(p).Data, bools.Select(x => x ? 1L : 0L).ToArray()),
        };
        foreach (var (descr, write, size, back, expected) in cases)
        {
            string path = Path.Combine(_dir, $"w{size}{descr[1]}.npy");
            write(path);
            var file = File.ReadAllBytes(path);
            Assert.That(file[..8], Is.EqualTo(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }), descr);
            int headerLen = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
            Assert.That((10 + headerLen) % 64, Is.Zero, $"{descr}: header padded to 64");
            string header = Encoding.ASCII.GetString(file, 10, headerLen);
            Assert.That(header, Does.StartWith($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (2, 3), }}").And.EndWith(" \n"), descr);
            Assert.That(file.Length - 10 - headerLen, Is.EqualTo(6 * size), $"{descr}: data size");
            Assert.That(Npy.Read(path).Dtype.Descr, Is.EqualTo(descr));
            Assert.That(back(path), Is.EqualTo(expected), descr);
        }
    }

    [Test]
    public void Write_OneDimensionalShape_HasTheTrailingComma()
    {
        string path = Path.Combine(_dir, "v.npy");
        Npy.Write(path, new long[] { 5, 6, 7 }, 3);
        var file = File.ReadAllBytes(path);
        Assert.That(Encoding.ASCII.GetString(file, 10, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8))), Does.Contain("'shape': (3,), }"));
        Assert.That(file[^24..], Is.EqualTo(NpyImage.Encode("<i8", [5, 6, 7])));
    }

    [Test]
    public void Write_RejectsAShapeThatDoesNotHoldTheData()
    {
        string path = Path.Combine(_dir, "x.npy");
        Assert.That(() => Npy.Write(path, new int[] { 1, 2, 3 }, 2, 2), Throws.ArgumentException.With.Message.Contains("holds 4 values, data has 3"));
        Assert.That(File.Exists(path), Is.False);
    }
}
