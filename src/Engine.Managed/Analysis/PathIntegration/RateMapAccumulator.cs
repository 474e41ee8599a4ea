namespace Engine.Analysis.PathIntegration;

/// <summary>Sums of activity per spatial bin for every unit of every network, at one resolution, with circularly shifted copies for the null.</summary>
/// <remarks>
/// Samples are numbered t = 0 … L−1 over all trials (trial-major). Shuffle k of unit (e, i) bins the activity of sample t at the
/// position of sample (t − shift) mod L; a circular shift permutes the samples, so every shuffle shares the real occupancy.
/// Sums are [1 + S][E][N][n²] (copy 0 the real maps).
/// </remarks>
internal sealed class RateMapAccumulator
{
    private readonly int[] _bin;
    private readonly int _networks, _units, _cells, _copies;
    private readonly int[] _shift; // [S][E][N]

    public RateMapAccumulator(int[] bin, int networks, int units, int n, int[] shifts, int shuffles)
    {
        _bin = bin;
        _networks = networks;
        _units = units;
        Bins = n;
        _cells = n * n;
        _copies = 1 + shuffles;
        _shift = shifts;
        Sums = new double[(long)_copies * networks * units * _cells];
        Occupancy = new long[_cells];
        foreach (int b in bin)
        {
            if (b >= 0)
            {
                Occupancy[b]++;
            }
        }
    }

    public int Bins { get; }

    public double[] Sums { get; }

    public long[] Occupancy { get; }

    /// <summary>Adds states [E][B][T][N] of samples starting at global sample <paramref name="first"/>.</summary>
    public void Add(float[] states, int samples, int first, int threads)
    {
        int n = _units, total = _bin.Length;
        Parallel.For(0, _networks * _copies, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, job =>
        {
            int e = job % _networks, copy = job / _networks;
            long baseState = (long)e * samples * n;
            for (int u = 0; u < n; u++)
            {
                long sumBase = (((long)copy * _networks + e) * n + u) * _cells;
                int shift = copy == 0 ? 0 : _shift[((copy - 1) * _networks + e) * n + u];
                for (int s = 0; s < samples; s++)
                {
                    int t = first + s - shift;
                    if (t < 0)
                    {
                        t += total;
                    }

                    int b = _bin[t];
                    if (b >= 0)
                    {
                        Sums[sumBase + b] += states[baseState + (long)s * n + u];
                    }
                }
            }
        });
    }

    /// <summary>The rate map of one unit in one copy (mean activity per bin; 0 where the bin was never visited) into <paramref name="dst"/>.</summary>
    public void Map(int copy, int e, int u, Span<double> dst)
    {
        long sumBase = (((long)copy * _networks + e) * _units + u) * _cells;
        for (int b = 0; b < _cells; b++)
        {
            dst[b] = Occupancy[b] > 0 ? Sums[sumBase + b] / Occupancy[b] : 0;
        }
    }
}
