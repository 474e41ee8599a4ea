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

    /// <summary>Throws unless a buffer has exactly the expected length.</summary>
    public static void Length(int actual, long expected, string name, string shape)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} elements, expected {expected} ({shape}).", name);
        }
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
}
