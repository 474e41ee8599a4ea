using System.Diagnostics;

namespace Engine.Util;

/// <summary>Times a step repeatedly, one Stopwatch per run: the shared loop of the benchmarks.</summary>
public static class StepTimer
{
    /// <summary>Runs <paramref name="step"/> <paramref name="repeats"/> times (at least once) and returns the milliseconds of each run, sorted ascending.</summary>
    public static double[] SortedMilliseconds(int repeats, Action step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var ms = new double[Math.Max(1, repeats)];
        for (int i = 0; i < ms.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            step();
            ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(ms);
        return ms;
    }

    /// <summary>The median of sorted values (the mean of the two middle ones for an even count).</summary>
    public static double Median(double[] sorted)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}
