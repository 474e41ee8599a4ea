using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.IO;

/// <summary>A numpy array as read by <see cref="Npy"/>: its dtype, its shape, and its values in C order, converted on request.</summary>
/// <remarks>
/// Whatever the file's byte order and <c>fortran_order</c>, the values are held little-endian in C (row-major) order, so
/// element [i, j] of an R×C array is at flat index i·C + j. The conversions copy.
/// </remarks>
public sealed class NpyArray
{
    private readonly byte[] _data;
    private readonly int[] _shape;

    internal NpyArray(string source, NpyDtype dtype, int[] shape, byte[] littleEndianCOrder)
    {
        Source = source;
        Dtype = dtype;
        _shape = shape;
        _data = littleEndianCOrder;
        Count = littleEndianCOrder.Length / dtype.Size;
        if (Count * (long)dtype.Size != littleEndianCOrder.Length || Count != shape.Aggregate(1L, (a, b) => a * b))
        {
            throw new ArgumentException($"{source}: {littleEndianCOrder.Length} bytes do not hold shape ({Dims(shape)}) of {dtype.Descr}.", nameof(littleEndianCOrder));
        }
    }

    /// <summary>The file (and, inside an archive, the entry) the array came from; errors start with it.</summary>
    public string Source { get; }

    /// <summary>The dtype as stored in the file, byte order included.</summary>
    public NpyDtype Dtype { get; }

    /// <summary>The dimensions, outermost first; empty for a 0-d (scalar) array.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The number of elements (the product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public int Count { get; }

    /// <summary>The dimensions as a new array.</summary>
    public int[] ShapeArray() => (int[])_shape.Clone();

    /// <summary>Every value as float64: exact for bool (0/1), floats and integers up to 2^53 in magnitude, rounded beyond.</summary>
    public double[] ToDouble() => ToFloating<double>();

    /// <summary>Every value as float32, rounded to nearest (float64 and integers beyond 2^24 lose precision; float64 beyond float32's range becomes ±∞).</summary>
    public float[] ToFloat32() => ToFloating<float>();

    /// <summary>Every value as int64: bool as 0/1, integers exactly, floats only when every value is a whole number in range.</summary>
    /// <exception cref="InvalidDataException">A float that is not a whole number (or NaN, ±∞, beyond int64), or a uint64 above
    /// <see cref="long.MaxValue"/>; the message names <see cref="Source"/>, the element and its value.</exception>
    public long[] ToInt64()
    {
        if (Dtype.Kind == NpyKind.SignedInteger && Dtype.Size == 8)
        {
            return MemoryMarshal.Cast<byte, long>(_data).ToArray();
        }

        var r = new long[Count];
        for (int i = 0; i < r.Length; i++)
        {
            switch (Dtype.Kind)
            {
                case NpyKind.Float:
                    double v = FloatAt(i);

                    // −2^63 is exact in double, 2^63 is the first value out of range.
                    if (!(Math.Floor(v) == v && v >= -9.2233720368547758e18 && v < 9.2233720368547758e18))
                    {
                        throw new InvalidDataException($"{Source}: element [{Index(i)}] of the {Dtype.Name} array is {v.ToString("R", CultureInfo.InvariantCulture)}, "
                            + "not a whole number in int64 range; expected integral values to read it as int64.");
                    }

                    r[i] = (long)v;
                    break;
                case NpyKind.UnsignedInteger:
                    ulong u = UnsignedAt(i);
                    if (u > long.MaxValue)
                    {
                        throw new InvalidDataException($"{Source}: element [{Index(i)}] of the {Dtype.Name} array is {u}, above int64's maximum {long.MaxValue}.");
                    }

                    r[i] = (long)u;
                    break;
                default:
                    r[i] = SignedAt(i);
                    break;
            }
        }

        return r;
    }

    private T[] ToFloating<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Dtype.Kind == NpyKind.Float && Dtype.Size == Unsafe.SizeOf<T>())
        {
            return MemoryMarshal.Cast<byte, T>(_data).ToArray();
        }

        var r = new T[Count];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = Dtype.Kind switch
            {
                NpyKind.Float => T.CreateTruncating(FloatAt(i)),
                NpyKind.UnsignedInteger => T.CreateTruncating(UnsignedAt(i)),
                _ => T.CreateTruncating(SignedAt(i)),
            };
        }

        return r;
    }

    /// <summary>The number of elements of <paramref name="shape"/>; a negative dimension or a count past any array's length is an error naming <paramref name="source"/>.</summary>
    internal static long CountOf(IReadOnlyList<int> shape, string source)
    {
        if (shape.Any(d => d < 0))
        {
            throw new InvalidDataException($"{source}: shape ({Dims(shape)}) has a negative dimension.");
        }

        if (shape.Contains(0))
        {
            return 0;
        }

        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
            if (count > Array.MaxLength)
            {
                throw new InvalidDataException($"{source}: shape ({Dims(shape)}) has more values than a .NET array holds.");
            }
        }

        return count;
    }

    internal static string Dims(IReadOnlyList<int> shape) => shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape);

    private double FloatAt(int i) => Dtype.Size switch
    {
        2 => (double)BinaryPrimitives.ReadHalfLittleEndian(_data.AsSpan(2 * i)),
        4 => BinaryPrimitives.ReadSingleLittleEndian(_data.AsSpan(4 * i)),
        _ => BinaryPrimitives.ReadDoubleLittleEndian(_data.AsSpan(8 * i)),
    };

    private long SignedAt(int i) => Dtype.Kind == NpyKind.Bool ? (_data[i] != 0 ? 1 : 0) : Dtype.Size switch
    {
        1 => (sbyte)_data[i],
        2 => BinaryPrimitives.ReadInt16LittleEndian(_data.AsSpan(2 * i)),
        4 => BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan(4 * i)),
        _ => BinaryPrimitives.ReadInt64LittleEndian(_data.AsSpan(8 * i)),
    };

    private ulong UnsignedAt(int i) => Dtype.Size switch
    {
        1 => _data[i],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(2 * i)),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(4 * i)),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(_data.AsSpan(8 * i)),
    };

    /// <summary>The C-order multi-index of flat element <paramref name="flat"/>, e.g. "1, 2".</summary>
    private string Index(int flat)
    {
        var idx = new int[_shape.Length];
        for (int d = _shape.Length - 1; d >= 0; d--)
        {
            idx[d] = flat % _shape[d];
            flat /= _shape[d];
        }

        return string.Join(", ", idx);
    }
}
