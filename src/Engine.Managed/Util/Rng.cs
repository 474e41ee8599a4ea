namespace Engine.Util;

/// <summary>
/// A small, fast, fully specified random generator (xoshiro256**, seeded through SplitMix64), so that the
/// same seed gives the same numbers on every machine and .NET version.
/// </summary>
/// <remarks>
/// Streams are derived, not shared: <see cref="For(long, ulong, long)"/> mixes a network's seed, a purpose
/// tag and an index (e.g. the epoch) into an independent generator. Trial batches therefore depend only on
/// (seed, epoch): a resumed run regenerates exactly the batches it would have seen.
/// </remarks>
public sealed class Rng
{
    /// <summary>Purpose tag for parameter initialisation.</summary>
    public const ulong InitStream = 0x1A17;

    /// <summary>Purpose tag for training trials.</summary>
    public const ulong DataStream = 0xDA7A;

    /// <summary>Purpose tag for process noise.</summary>
    public const ulong NoiseStream = 0x7015E;

    /// <summary>Purpose tag for evaluation trials (disjoint from training).</summary>
    public const ulong EvalStream = 0xE7A1;

    private ulong _s0, _s1, _s2, _s3;
    private double _spare = double.NaN;

    /// <summary>Seeds the generator.</summary>
    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>An independent generator for (seed, purpose, index).</summary>
    public static Rng For(long seed, ulong stream, long index = 0)
    {
        ulong x = (ulong)seed;
        ulong a = SplitMix(ref x);
        x = a ^ (stream * 0x9E3779B97F4A7C15UL);
        ulong b = SplitMix(ref x);
        x = b ^ ((ulong)index * 0xD1B54A32D192ED03UL);
        return new Rng(SplitMix(ref x));
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)(NextDouble() * n);

    /// <summary>Standard normal (Box–Muller, both values used).</summary>
    public double NextGaussian()
    {
        if (!double.IsNaN(_spare))
        {
            double s = _spare;
            _spare = double.NaN;
            return s;
        }

        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fills with standard normals.</summary>
    public void FillGaussian(Span<float> dst)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = (float)NextGaussian();
        }
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
