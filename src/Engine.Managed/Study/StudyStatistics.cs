using Engine.Util;

namespace Engine.Study;

/// <summary>A point estimate and its bootstrap 95% percentile interval; NaN where not computable.</summary>
/// <param name="Value">The statistic on the original sample.</param>
/// <param name="Low">2.5% percentile of the resampled statistic.</param>
/// <param name="High">97.5% percentile of the resampled statistic.</param>
public sealed record Estimate(double Value, double Low, double High)
{
    /// <summary>Not computable: all three NaN.</summary>
    public static Estimate NaN { get; } = new(double.NaN, double.NaN, double.NaN);

    /// <summary>True when the interval is finite and lies above zero.</summary>
    internal bool ExcludesZeroAbove => double.IsFinite(Low) && Low > 0;

    /// <summary>True when the interval is finite and lies below zero.</summary>
    internal bool ExcludesZeroBelow => double.IsFinite(High) && High < 0;
}

/// <summary>The statistics of a study report: Spearman's ρ, means and spreads over seeds, and seeded bootstrap intervals.</summary>
/// <remarks>
/// Every bootstrap draws from its own generator, <see cref="BootstrapRng"/>(seed, key), where the key names what is
/// estimated (condition id and metric, or task, factor and metric), so an interval does not depend on the order in
/// which the report computes things. Samples are sorted by network index before resampling, so it does not depend on
/// the order of the rows either. Intervals are the 2.5% and 97.5% percentiles of the resampled statistic, with linear
/// interpolation between order statistics (NumPy's default, "type 7"); resamples whose statistic is not finite are
/// skipped, and an estimate with no finite resample has a NaN interval.
/// </remarks>
public static class StudyStatistics
{
    /// <summary>Lower percentile of the 95% interval.</summary>
    public const double LowQuantile = 0.025;

    /// <summary>Upper percentile of the 95% interval.</summary>
    public const double HighQuantile = 0.975;

    /// <summary>Arithmetic mean of the finite values (NaN when there are none).</summary>
    public static double Mean(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        double sum = 0;
        int n = 0;
        foreach (double v in values)
        {
            if (double.IsFinite(v))
            {
                sum += v;
                n++;
            }
        }

        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>Population standard deviation √(Σ(x − x̄)²/n) of the values (divides by n, not n − 1); NaN with fewer than 2 values or any non-finite one.</summary>
    public static double PopulationStd(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int n = values.Count;
        if (n < 2)
        {
            return double.NaN;
        }

        double mean = 0;
        for (int i = 0; i < n; i++)
        {
            mean += values[i];
        }

        mean /= n;
        double ss = 0;
        for (int i = 0; i < n; i++)
        {
            double d = values[i] - mean;
            ss += d * d;
        }

        return double.IsFinite(ss) ? Math.Sqrt(ss / n) : double.NaN;
    }

    /// <summary>Ranks 1 … n of the values, tied values sharing the average of their ranks.</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int n = values.Count;
        var order = Enumerable.Range(0, n).OrderBy(i => values[i]).ThenBy(i => i).ToArray();
        var ranks = new double[n];
        int start = 0;
        while (start < n)
        {
            int end = start;
            while (end + 1 < n && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }

            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++)
            {
                ranks[order[k]] = rank;
            }

            start = end + 1;
        }

        return ranks;
    }

    /// <summary>Spearman's ρ: the Pearson correlation of the ranks (ties get average ranks).</summary>
    /// <remarks>NaN with fewer than 2 pairs, with a non-finite value, or when either side is constant.</remarks>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count)
        {
            throw new ArgumentException($"y has {y.Count} values, expected {x.Count} (one per x).", nameof(y));
        }

        int n = x.Count;
        if (n < 2 || x.Any(v => !double.IsFinite(v)) || y.Any(v => !double.IsFinite(v)))
        {
            return double.NaN;
        }

        var rx = Ranks(x);
        var ry = Ranks(y);
        double mx = rx.Average(), my = ry.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = rx[i] - mx, dy = ry[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }

        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>The <paramref name="q"/> quantile (0 … 1) of sorted values, interpolating linearly between order statistics.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        Guard.InRange(q, 0, 1, nameof(q));
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        double h = (sorted.Count - 1) * q;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>A 64-bit FNV-1a hash of the UTF-16 code units of <paramref name="text"/>: stable across runs, machines and .NET versions (unlike <see cref="string.GetHashCode()"/>).</summary>
    public static ulong StableHash(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ulong h = 0xCBF29CE484222325UL;
        foreach (char c in text)
        {
            h = (h ^ (byte)c) * 0x100000001B3UL;
            h = (h ^ (byte)(c >> 8)) * 0x100000001B3UL;
        }

        return h;
    }

    /// <summary>The generator of one bootstrap: the study's seed mixed with the stable hash of <paramref name="key"/>.</summary>
    public static Rng BootstrapRng(long seed, string key) => Rng.For(seed, StableHash(key));

    /// <summary>Bootstrap of a statistic of a sample: resample the values with replacement <paramref name="samples"/> times and recompute.</summary>
    /// <param name="values">The sample (e.g. one value per converged network, in network order).</param>
    /// <param name="statistic">The statistic; non-finite results are skipped.</param>
    /// <param name="samples">B, resamples.</param>
    /// <param name="rng">The generator (see <see cref="BootstrapRng"/>).</param>
    public static Estimate Bootstrap(IReadOnlyList<double> values, Func<IReadOnlyList<double>, double> statistic, int samples, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(statistic);
        ArgumentNullException.ThrowIfNull(rng);
        Guard.AtLeast(samples, 0, nameof(samples));
        double value = values.Count == 0 ? double.NaN : statistic(values);
        if (!double.IsFinite(value))
        {
            return new Estimate(value, double.NaN, double.NaN);
        }

        int n = values.Count;
        var draw = new double[n];
        var stats = new List<double>(samples);
        for (int b = 0; b < samples; b++)
        {
            for (int i = 0; i < n; i++)
            {
                draw[i] = values[rng.NextInt(n)];
            }

            double s = statistic(draw);
            if (double.IsFinite(s))
            {
                stats.Add(s);
            }
        }

        return Interval(value, stats);
    }

    /// <summary>Mean over pairs of draws of a pair table: every pair of positions i &lt; j whose networks differ contributes d(draw[i], draw[j]).</summary>
    /// <remarks>Draws of the same network twice are skipped; NaN when no pair of distinct networks (with a finite distance) is left.</remarks>
    public static double PairMean(PairTable table, IReadOnlyList<int> draws)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(draws);
        double sum = 0;
        long count = 0;
        for (int i = 0; i < draws.Count; i++)
        {
            for (int j = i + 1; j < draws.Count; j++)
            {
                if (draws[i] == draws[j])
                {
                    continue;
                }

                double d = table[draws[i], draws[j]];
                if (double.IsFinite(d))
                {
                    sum += d;
                    count++;
                }
            }
        }

        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>Bootstrap of the mean pairwise distance: resample the networks with replacement and take <see cref="PairMean"/> of the draws.</summary>
    /// <remarks>Value is the mean over the original pairs (NaN with fewer than 2 networks); resamples with no pair of distinct networks are skipped.</remarks>
    public static Estimate BootstrapPairs(PairTable table, int samples, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rng);
        Guard.AtLeast(samples, 0, nameof(samples));
        int n = table.Size;
        double value = n < 2 ? double.NaN : PairMean(table, Enumerable.Range(0, n).ToArray());
        if (!double.IsFinite(value))
        {
            return new Estimate(value, double.NaN, double.NaN);
        }

        var draw = new int[n];
        var stats = new List<double>(samples);
        for (int b = 0; b < samples; b++)
        {
            for (int i = 0; i < n; i++)
            {
                draw[i] = rng.NextInt(n);
            }

            double s = PairMean(table, draw);
            if (double.IsFinite(s))
            {
                stats.Add(s);
            }
        }

        return Interval(value, stats);
    }

    /// <summary>The estimate with the 2.5% and 97.5% percentiles of the resampled statistics (NaN interval when there are none).</summary>
    public static Estimate Interval(double value, IEnumerable<double> resampled)
    {
        ArgumentNullException.ThrowIfNull(resampled);
        var sorted = resampled.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0
            ? new Estimate(value, double.NaN, double.NaN)
            : new Estimate(value, Percentile(sorted, LowQuantile), Percentile(sorted, HighQuantile));
    }
}

/// <summary>The distances of one condition under one metric, by position 0 … n − 1 of its networks (in network-index order).</summary>
public sealed class PairTable
{
    private readonly double[] _d;

    /// <summary>An n × n table of NaN (no pair measured) for networks named <paramref name="ids"/>.</summary>
    public PairTable(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        Ids = ids.ToArray();
        _d = new double[Size * Size];
        Array.Fill(_d, double.NaN);
    }

    /// <summary>The table of one condition and metric from its pair rows; networks are those appearing in a row, sorted by index.</summary>
    public static PairTable FromRows(IEnumerable<PairRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var list = rows.ToList();
        var ids = list.SelectMany(r => new[] { r.NetworkA, r.NetworkB }).Distinct().Order().ToArray();
        var table = new PairTable(ids);
        var pos = ids.Select((id, k) => (id, k)).ToDictionary(t => t.id, t => t.k);
        foreach (var r in list)
        {
            if (r.NetworkA != r.NetworkB)
            {
                table.Set(pos[r.NetworkA], pos[r.NetworkB], r.Value);
            }
        }

        return table;
    }

    /// <summary>n, networks.</summary>
    public int Size => Ids.Length;

    /// <summary>Network index (within the condition) of each position.</summary>
    public int[] Ids { get; }

    /// <summary>d(i, j) by position (NaN when not measured; 0 on the diagonal is never read).</summary>
    public double this[int i, int j] => _d[i * Size + j];

    /// <summary>Sets d(i, j) = d(j, i) by position.</summary>
    public void Set(int i, int j, double value)
    {
        _d[i * Size + j] = value;
        _d[j * Size + i] = value;
    }
}
