using System.Runtime.CompilerServices;

namespace Engine.Util;

/// <summary>Validation at the managed boundary: one place that words every error the same way.</summary>
public static class Guard
{
    /// <summary>Throws unless <paramref name="value"/> is at least <paramref name="min"/>.</summary>
    public static void AtLeast(int value, int min, string name)
    {
        if (value < min)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least {min}, got {value}.");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is finite and within [min, max].</summary>
    public static void InRange(double value, double min, double max, string name)
    {
        if (!double.IsFinite(value) || value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{min}, {max}], got {value}.");
        }
    }

    /// <summary>Throws unless a buffer has exactly the expected length (shape text already formatted).</summary>
    public static void Length(int actual, long expected, string name, string shape)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} elements, expected {expected} ({shape}).", name);
        }
    }

    /// <summary>Throws unless a buffer has exactly the expected length.</summary>
    /// <remarks>The shape text is an interpolated string that is only formatted when the check fails, so hot paths allocate nothing.</remarks>
    public static void Length(int actual, long expected, string name,
        [InterpolatedStringHandlerArgument(nameof(actual), nameof(expected))] ref ShapeText shape)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} elements, expected {expected} ({shape.ToStringAndClear()}).", name);
        }
    }

    /// <summary>An interpolated string formatted only when a length check fails.</summary>
    [InterpolatedStringHandler]
    public ref struct ShapeText
    {
        private DefaultInterpolatedStringHandler _inner;
        private readonly bool _enabled;

        /// <summary>Called by the compiler; formats only when <paramref name="actual"/> differs from <paramref name="expected"/>.</summary>
        public ShapeText(int literalLength, int formattedCount, int actual, long expected, out bool enabled)
        {
            _enabled = enabled = actual != expected;
            _inner = enabled ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
        }

        /// <summary>Appends literal text.</summary>
        public void AppendLiteral(string value)
        {
            if (_enabled)
            {
                _inner.AppendLiteral(value);
            }
        }

        /// <summary>Appends a value.</summary>
        public void AppendFormatted<T>(T value)
        {
            if (_enabled)
            {
                _inner.AppendFormatted(value);
            }
        }

        /// <summary>The formatted text (empty when the check passed).</summary>
        public string ToStringAndClear() => _enabled ? _inner.ToStringAndClear() : "";
    }

    /// <summary>Throws if any element is NaN or ±Inf, naming the first offending index.</summary>
    public static void Finite(ReadOnlySpan<float> values, string name)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException($"{name}[{i}] is {values[i]}; all values must be finite.", name);
            }
        }
    }

    /// <summary>
    /// Checks, before allocating, that a buffer of Π <paramref name="dims"/> elements of <paramref name="elementBytes"/> bytes can
    /// exist: at most <see cref="Array.MaxLength"/> elements and no more bytes than the memory this process may use.
    /// </summary>
    /// <param name="what">What the buffer holds and its shape in words, e.g. "states [E][B][T][N]".</param>
    /// <param name="elementBytes">Bytes per element (4 for float32).</param>
    /// <param name="dims">The dimensions; each must be ≥ 0.</param>
    /// <returns>The element count.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The product overflows an array or the memory; the message gives the size asked for, the bytes it needs and the limit.</exception>
    public static int Buffer(string what, int elementBytes, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        double count = 1;
        foreach (long d in dims)
        {
            if (d < 0)
            {
                throw new ArgumentOutOfRangeException(what, d, $"{what}: a dimension is negative ({d}).");
            }

            count *= d;
        }

        string shape = string.Join(" × ", dims.Select(d => d.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)));
        double bytes = count * elementBytes;
        if (count > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(what, count, System.FormattableString.Invariant(
                $"{what}: {shape} = {count:N0} elements ({Bytes(bytes)}) is more than one array can hold ({Array.MaxLength:N0} elements); use fewer networks, trials, steps or units."));
        }

        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (available > 0 && bytes > available)
        {
            throw new ArgumentOutOfRangeException(what, count, System.FormattableString.Invariant(
                $"{what}: {shape} = {count:N0} elements needs {Bytes(bytes)}, more than the {Bytes(available)} this process may use."));
        }

        return (int)count;
    }

    private static string Bytes(double b) => b >= 1 << 30 ? System.FormattableString.Invariant($"{b / (1 << 30):F1} GiB") : System.FormattableString.Invariant($"{b / (1 << 20):F1} MiB");
}
