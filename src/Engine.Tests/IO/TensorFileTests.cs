using System.Buffers.Binary;
using System.IO.Compression;
using Engine.IO;
using Engine.IO.Import;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.IO;

/// <summary><c>.npz</c> entries of every dtype, byte order and memory order, and <c>.safetensors</c> integer and float dtypes, load with their exact values.</summary>
public sealed class TensorFileTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("tensorfile").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    [TestCase(CompressionLevel.NoCompression)]
    [TestCase(CompressionLevel.Optimal)]
    public void Npz_EveryDtypeAndLayout_RoundTripsExactly(CompressionLevel level)
    {
        var longBytes = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(longBytes, long.MinValue + 1);
        BinaryPrimitives.WriteInt64LittleEndian(longBytes.AsSpan(8), long.MaxValue);
        string path = Path.Combine(_dir, level == CompressionLevel.NoCompression ? "stored.npz" : "deflated.npz");
        File.WriteAllBytes(path, NpyImage.Npz(
        [
            ("steps", NpyImage.File(NpyImage.Dict("<i8", [2]), longBytes)),
            ("counts", NpyImage.File("<i4", [2, 2], [-7, 0, 3, 2_000_000_000])),
            ("pixels", NpyImage.File("|u1", [3], [0, 128, 255])),
            ("mask", NpyImage.File("|b1", [4], [1, 0, 0, 1])),
            ("weights", NpyImage.File(">f8", [2], [Math.PI, -1e-300])),
            ("fortran", NpyImage.File("<f4", [2, 3], [0, 10, 1, 11, 2, 12], fortran: true)),
        ], level));

        var t = TensorFile.Read(path);
        Assert.That(t.Keys, Is.EquivalentTo(new[] { "steps", "counts", "pixels", "mask", "weights", "fortran" }));
        Assert.That(t["steps"].ToInt64(), Is.EqualTo(new[] { long.MinValue + 1, long.MaxValue }));
        Assert.That(t["steps"].Dtype, Is.EqualTo(NpyDtype.Int64));
        Assert.That(t["counts"].ToInt64(), Is.EqualTo(new long[] { -7, 0, 3, 2_000_000_000 }));
        Assert.That(t["counts"].Shape, Is.EqualTo(new[] { 2, 2 }));
        Assert.That(t["pixels"].ToInt64(), Is.EqualTo(new long[] { 0, 128, 255 }));
        Assert.That(t["pixels"].Dtype, Is.EqualTo(NpyDtype.UInt8));
        Assert.That(t["mask"].ToInt64(), Is.EqualTo(new long[] { 1, 0, 0, 1 }));
        Assert.That(t["mask"].Dtype, Is.EqualTo(NpyDtype.Bool));
        Assert.That(t["weights"].ToDouble(), Is.EqualTo(new[] { Math.PI, -1e-300 }));
        Assert.That(t["weights"].Dtype.ToString(), Is.EqualTo("float64 (big-endian)"));
        Assert.That(t["fortran"].ToFloat32(), Is.EqualTo(new float[] { 0, 1, 2, 10, 11, 12 }));
    }

    [Test]
    public void Npz_UnsupportedDtype_NamesTheFileTheEntryAndTheDtype()
    {
        string path = Path.Combine(_dir, "complex.npz");
        File.WriteAllBytes(path, NpyImage.Npz([("ok", NpyImage.File("<f4", [1], [1])), ("z", NpyImage.File(NpyImage.Dict("<c8", [2]), new byte[16]))]));
        Assert.That(() => TensorFile.Read(path), Throws.InstanceOf<InvalidDataException>()
            .With.Message.StartsWith($"{path}: entry 'z': unsupported dtype '<c8' (complex)"));
    }

    [Test]
    public void Npz_TruncatedEntry_NamesTheEntryAndTheCounts()
    {
        string path = Path.Combine(_dir, "short.npz");
        File.WriteAllBytes(path, NpyImage.Npz([("w", NpyImage.File("<i8", [3], [1, 2, 3])[..^8])], CompressionLevel.Optimal));
        Assert.That(() => TensorFile.Read(path), Throws.InstanceOf<InvalidDataException>()
            .With.Message.StartsWith($"{path}: entry 'w': truncated data").And.Message.Contains("needs 3 values (24 bytes)").And.Message.Contains("16 bytes (2 values)"));
    }

    [Test]
    public void Safetensors_EveryDtype_LoadsExactly()
    {
        double[] small = [0, 1, 7, 100];
        var bf16 = new byte[8];
        float[] bfValues = [1.5f, -2f, 0.0078125f, 65536f];
        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bf16.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits(bfValues[i]) >> 16));
        }

        var entries = new (string Name, string Dtype, int[] Shape, byte[] Data)[]
        {
            ("b", "BOOL", [4], NpyImage.Encode("|b1", [1, 0, 1, 1])),
            ("i8", "I8", [4], NpyImage.Encode("|i1", [-128, -1, 0, 127])),
            ("i16", "I16", [2, 2], NpyImage.Encode("<i2", [-30000, -1, 0, 30000])),
            ("i32", "I32", [4], NpyImage.Encode("<i4", [int.MinValue, -1, 0, int.MaxValue])),
            ("i64", "I64", [4], NpyImage.Encode("<i8", [-(1L << 62), -1, 0, 1L << 62])),
            ("u8", "U8", [4], NpyImage.Encode("|u1", [0, 1, 128, 255])),
            ("u16", "U16", [4], NpyImage.Encode("<u2", [0, 1, 7, 65535])),
            ("u32", "U32", [4], NpyImage.Encode("<u4", [0, 1, 7, uint.MaxValue])),
            ("u64", "U64", [4], NpyImage.Encode("<u8", small)),
            ("f16", "F16", [4], NpyImage.Encode("<f2", [0.5, -2, 1024, 0.0999755859375])),
            ("bf16", "BF16", [4], bf16),
            ("f64", "F64", [4], NpyImage.Encode("<f8", [Math.E, -1e300, 0, 1])),
        };
        string path = Path.Combine(_dir, "all.safetensors");
        File.WriteAllBytes(path, ModelFiles.Safetensors(new() { ["f32"] = ([1.25f, -3f], [2]) }, false, entries));

        var t = TensorFile.Read(path);
        Assert.That(t["b"].ToInt64(), Is.EqualTo(new long[] { 1, 0, 1, 1 }));
        Assert.That(t["i8"].ToInt64(), Is.EqualTo(new long[] { -128, -1, 0, 127 }));
        Assert.That(t["i16"].ToInt64(), Is.EqualTo(new long[] { -30000, -1, 0, 30000 }));
        Assert.That(t["i16"].Shape, Is.EqualTo(new[] { 2, 2 }));
        Assert.That(t["i32"].ToInt64(), Is.EqualTo(new long[] { int.MinValue, -1, 0, int.MaxValue }));
        Assert.That(t["i64"].ToInt64(), Is.EqualTo(new[] { -(1L << 62), -1, 0, 1L << 62 }));
        Assert.That(t["u8"].ToInt64(), Is.EqualTo(new long[] { 0, 1, 128, 255 }));
        Assert.That(t["u16"].ToInt64(), Is.EqualTo(new long[] { 0, 1, 7, 65535 }));
        Assert.That(t["u32"].ToInt64(), Is.EqualTo(new long[] { 0, 1, 7, uint.MaxValue }));
        Assert.That(t["u64"].ToDouble(), Is.EqualTo(small));
        Assert.That(t["u64"].Dtype.Name, Is.EqualTo("uint64"));
        Assert.That(t["f16"].ToDouble(), Is.EqualTo(new[] { 0.5, -2, 1024, 0.0999755859375 }));
        Assert.That(t["bf16"].ToFloat32(), Is.EqualTo(bfValues));
        Assert.That(t["f32"].ToFloat32(), Is.EqualTo(new[] { 1.25f, -3f }));
        Assert.That(t["f64"].ToDouble(), Is.EqualTo(new[] { Math.E, -1e300, 0, 1 }));
    }

    [Test]
    public void Safetensors_UnsupportedDtype_NamesTheTensor()
    {
        string path = Path.Combine(_dir, "f8.safetensors");
        File.WriteAllBytes(path, ModelFiles.Safetensors([], false, ("q", "F8_E4M3", [2], [0, 0])));
        Assert.That(() => TensorFile.Read(path), Throws.InstanceOf<InvalidDataException>()
            .With.Message.Contains("tensor 'q' has dtype F8_E4M3").And.Message.Contains("I64"));
    }
}
