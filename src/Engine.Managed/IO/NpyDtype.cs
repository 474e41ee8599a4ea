namespace Engine.IO;

/// <summary>What the elements of a numpy array are.</summary>
public enum NpyKind
{
    /// <summary>numpy <c>bool</c> (<c>b1</c>): one byte, 0 or nonzero.</summary>
    Bool,

    /// <summary>Signed integers <c>i1 i2 i4 i8</c>.</summary>
    SignedInteger,

    /// <summary>Unsigned integers <c>u1 u2 u4 u8</c>.</summary>
    UnsignedInteger,

    /// <summary>IEEE floats <c>f2 f4 f8</c>.</summary>
    Float,
}

/// <summary>The byte order a numpy dtype was stored in (numpy's <c>&lt;</c>, <c>&gt;</c>, <c>|</c>; <c>=</c> is the writer's native order).</summary>
public enum NpyByteOrder
{
    /// <summary><c>&lt;</c>, or <c>=</c> written on a little-endian machine.</summary>
    Little,

    /// <summary><c>&gt;</c>, or <c>=</c> written on a big-endian machine.</summary>
    Big,

    /// <summary><c>|</c>: one-byte types, where order does not apply.</summary>
    NotApplicable,
}

/// <summary>A numpy dtype that <see cref="Npy"/> reads: kind, size in bytes and the byte order it was stored in.</summary>
/// <param name="Kind">Bool, signed, unsigned or float.</param>
/// <param name="Size">Bytes per element: 1, 2, 4 or 8.</param>
/// <param name="ByteOrder">The order in the file; <see cref="NpyArray"/> holds the values in native order whatever it was.</param>
public readonly record struct NpyDtype(NpyKind Kind, int Size, NpyByteOrder ByteOrder)
{
    /// <summary>Little-endian float32, <c>&lt;f4</c>.</summary>
    public static NpyDtype Float32 => new(NpyKind.Float, 4, NpyByteOrder.Little);

    /// <summary>Little-endian float64, <c>&lt;f8</c>.</summary>
    public static NpyDtype Float64 => new(NpyKind.Float, 8, NpyByteOrder.Little);

    /// <summary>Little-endian int32, <c>&lt;i4</c>.</summary>
    public static NpyDtype Int32 => new(NpyKind.SignedInteger, 4, NpyByteOrder.Little);

    /// <summary>Little-endian int64, <c>&lt;i8</c>.</summary>
    public static NpyDtype Int64 => new(NpyKind.SignedInteger, 8, NpyByteOrder.Little);

    /// <summary>uint8, <c>|u1</c>.</summary>
    public static NpyDtype UInt8 => new(NpyKind.UnsignedInteger, 1, NpyByteOrder.NotApplicable);

    /// <summary>bool, <c>|b1</c>.</summary>
    public static NpyDtype Bool => new(NpyKind.Bool, 1, NpyByteOrder.NotApplicable);

    /// <summary>True for bool and the integer kinds.</summary>
    public bool IsIntegral => Kind != NpyKind.Float;

    /// <summary>numpy's descr string, e.g. <c>&lt;f8</c>, <c>&gt;i4</c>, <c>|b1</c>.</summary>
    public string Descr => (ByteOrder switch { NpyByteOrder.Little => "<", NpyByteOrder.Big => ">", _ => "|" })
        + (Kind switch { NpyKind.Bool => "b", NpyKind.SignedInteger => "i", NpyKind.UnsignedInteger => "u", _ => "f" }) + Size;

    /// <summary>numpy's name for the type, e.g. <c>float64</c>, <c>uint8</c>, <c>bool</c>.</summary>
    public string Name => Kind switch
    {
        NpyKind.Bool => "bool",
        NpyKind.SignedInteger => $"int{8 * Size}",
        NpyKind.UnsignedInteger => $"uint{8 * Size}",
        _ => $"float{8 * Size}",
    };

    /// <summary>The name and, for multi-byte types, the stored order: <c>float64</c>, <c>float64 (big-endian)</c>.</summary>
    public override string ToString() => ByteOrder == NpyByteOrder.Big ? $"{Name} (big-endian)" : Name;

    /// <summary>Parses a numpy descr (<c>&lt;f4</c>, <c>&gt;i8</c>, <c>|b1</c>, <c>u2</c>); null with the reason when it is not one of the readable types.</summary>
    internal static NpyDtype? Parse(string descr, out string why)
    {
        why = "";
        string rest = descr;
        // '=' (and '|' or nothing on a multi-byte type, which numpy does not write) mean the machine's order.
        var order = BitConverter.IsLittleEndian ? NpyByteOrder.Little : NpyByteOrder.Big;
        if (rest.Length > 0 && rest[0] is '<' or '>' or '|' or '=')
        {
            order = rest[0] switch { '<' => NpyByteOrder.Little, '>' => NpyByteOrder.Big, _ => order };
            rest = rest[1..];
        }

        NpyKind? kind = rest.Length == 0 ? null : rest[0] switch
        {
            'b' => NpyKind.Bool,
            'i' => NpyKind.SignedInteger,
            'u' => NpyKind.UnsignedInteger,
            'f' => NpyKind.Float,
            _ => null,
        };
        int size = rest.Length > 1 && int.TryParse(rest.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int s) ? s : 0;
        bool sizeOk = kind switch
        {
            NpyKind.Bool => size == 1,
            NpyKind.Float => size is 2 or 4 or 8,
            null => false,
            _ => size is 1 or 2 or 4 or 8,
        };
        if (!sizeOk)
        {
            why = rest.Length == 0 ? "empty" : rest[0] switch
            {
                'c' => "complex",
                'O' => "Python objects",
                'U' or 'S' or 'a' => "strings",
                'V' => "raw or structured records",
                'M' or 'm' => "datetime/timedelta",
                'f' => "a float size other than 2, 4, 8",
                'i' or 'u' => "an integer size other than 1, 2, 4, 8",
                _ => "not a numeric type",
            };
            return null;
        }

        return new NpyDtype(kind!.Value, size, size == 1 ? NpyByteOrder.NotApplicable : order);
    }
}
