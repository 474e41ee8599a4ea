using System.Globalization;

namespace Engine.Util;

/// <summary>Durations for progress lines and ETAs.</summary>
public static class Durations
{
    /// <summary>Seconds as "42s", "3.5m" or "1.2h"; "?" when not finite.</summary>
    public static string Short(double seconds)
        => !double.IsFinite(seconds) ? "?"
            : seconds < 90 ? string.Create(CultureInfo.InvariantCulture, $"{seconds:F0}s")
            : seconds < 5400 ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:F1}m")
            : string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:F1}h");
}
