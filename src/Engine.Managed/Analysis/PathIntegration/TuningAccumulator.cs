namespace Engine.Analysis.PathIntegration;

/// <summary>Speed correlation and heading tuning of every unit, accumulated over samples (inputs of the 2D task: cos θ, sin θ, speed).</summary>
internal sealed class TuningAccumulator
{
    private const int HeadingBins = 36;
    private readonly int _networks, _units;
    private readonly double[] _h, _hh, _hv, _head; // [E][N], [E][N], [E][N], [E][N][36]
    private readonly long[] _headCount = new long[HeadingBins];
    private double _v, _vv;
    private long _count;

    public TuningAccumulator(int networks, int units)
    {
        _networks = networks;
        _units = units;
        _h = new double[networks * units];
        _hh = new double[networks * units];
        _hv = new double[networks * units];
        _head = new double[networks * units * HeadingBins];
    }

    public void Add(float[] states, ReadOnlySpan<float> inputs, int samples, int threads)
    {
        var speed = new float[samples];
        var bin = new int[samples];
        for (int s = 0; s < samples; s++)
        {
            speed[s] = inputs[s * 3 + 2];
            double th = Math.Atan2(inputs[s * 3 + 1], inputs[s * 3]);
            bin[s] = Math.Clamp((int)Math.Floor((th + Math.PI) / (2 * Math.PI) * HeadingBins), 0, HeadingBins - 1);
            _v += speed[s];
            _vv += (double)speed[s] * speed[s];
            _headCount[bin[s]]++;
        }

        _count += samples;
        int n = _units;
        Parallel.For(0, _networks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, e =>
        {
            for (int s = 0; s < samples; s++)
            {
                long row = ((long)e * samples + s) * n;
                for (int u = 0; u < n; u++)
                {
                    double h = states[row + u];
                    int k = e * n + u;
                    _h[k] += h;
                    _hh[k] += h * h;
                    _hv[k] += h * speed[s];
                    _head[k * HeadingBins + bin[s]] += h;
                }
            }
        });
    }

    /// <summary>(speed correlation, heading resultant length, preferred heading) of one unit.</summary>
    public (double Speed, double Heading, double Preferred) Of(int e, int u)
    {
        int k = e * _units + u;
        double c = _count, mh = _h[k] / c, mv = _v / c;
        double cov = _hv[k] / c - mh * mv, vh = _hh[k] / c - mh * mh, vv = _vv / c - mv * mv;
        double speed = vh > 1e-15 && vv > 1e-15 ? cov / Math.Sqrt(vh * vv) : 0;
        var curve = new double[HeadingBins];
        double min = double.PositiveInfinity;
        for (int b = 0; b < HeadingBins; b++)
        {
            curve[b] = _headCount[b] > 0 ? _head[k * HeadingBins + b] / _headCount[b] : double.NaN;
            if (double.IsFinite(curve[b]))
            {
                min = Math.Min(min, curve[b]);
            }
        }

        double re = 0, im = 0, sum = 0;
        for (int b = 0; b < HeadingBins; b++)
        {
            if (!double.IsFinite(curve[b]))
            {
                continue;
            }

            double w = curve[b] - min, a = -Math.PI + (b + 0.5) * 2 * Math.PI / HeadingBins;
            re += w * Math.Cos(a);
            im += w * Math.Sin(a);
            sum += w;
        }

        return (speed, sum > 1e-15 ? Math.Sqrt(re * re + im * im) / sum : 0, Math.Atan2(im, re));
    }
}
