namespace Engine.Analysis.PathIntegration;

/// <summary>Which combination of the rotated autocorrelogram correlations makes the grid score.</summary>
public enum GridScoreForm
{
    /// <summary>g = (ρ60 + ρ120)/2 − (ρ30 + ρ90 + ρ150)/3 (the authors' code and notebooks; the default).</summary>
    Mean,

    /// <summary>g = min(ρ60, ρ120) − max(ρ30, ρ90, ρ150) (the form SCIENCE.md §3 quotes).</summary>
    MinMax,
}

/// <summary>Spatial autocorrelogram and grid score of an n × n rate map (SEEDS.md §1, after DeepMind's scorer).</summary>
/// <remarks>
/// Maps are row-major [n][n] (row = y bin, column = x bin). The autocorrelogram S is [(2n−1)][(2n−1)] with lag (0, 0) at the
/// centre (n−1, n−1): S(dy, dx) is the Pearson correlation of map[i, j] and map[i+dy, j+dx] over the bins where both exist
/// (NaN bins skipped; a lag with fewer than 2 pairs or no variance gives 0). Rotations of S about its centre use bilinear
/// interpolation (the authors use a cubic spline; bilinear is enough for scores and keeps this dependency-free), with 0
/// outside S. Ten annuli: inner radius 0.2n, outer radius 0.4n … 1.0n evenly spaced (in bins). Per annulus, with m the mean
/// of S in the ring, ρ_φ = Σ (S − m)(R_φ S − m) / (Σ (S − m)² + 1e-5 |ring|); the score is the best annulus's.
/// </remarks>
public static class GridScore
{
    /// <summary>Angles of the rotations, degrees.</summary>
    private static readonly int[] Angles = [30, 60, 90, 120, 150];

    /// <summary>The normalised spatial autocorrelogram [(2n−1)][(2n−1)] of a map [n][n].</summary>
    public static double[] Autocorrelogram(ReadOnlySpan<double> map, int n)
    {
        Util.Guard.AtLeast(n, 2, nameof(n));
        Util.Guard.Length(map.Length, (long)n * n, nameof(map), $"[n={n}][n={n}]");
        int m = 2 * n - 1;
        var s = new double[m * m];
        for (int dy = 0; dy < n; dy++)
        {
            for (int dx = -(n - 1); dx < n; dx++)
            {
                if (dy == 0 && dx < 0)
                {
                    continue;
                }

                double r = Lag(map, n, dy, dx);
                s[(dy + n - 1) * m + dx + n - 1] = r;
                s[(-dy + n - 1) * m - dx + n - 1] = r; // S(−lag) = S(lag)
            }
        }

        return s;
    }

    private static double Lag(ReadOnlySpan<double> map, int n, int dy, int dx)
    {
        double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
        int count = 0;
        int i0 = Math.Max(0, -dy), i1 = Math.Min(n, n - dy), j0 = Math.Max(0, -dx), j1 = Math.Min(n, n - dx);
        for (int i = i0; i < i1; i++)
        {
            int ra = i * n, rb = (i + dy) * n + dx;
            for (int j = j0; j < j1; j++)
            {
                double a = map[ra + j], b = map[rb + j];
                if (double.IsNaN(a) || double.IsNaN(b))
                {
                    continue;
                }

                sa += a;
                sb += b;
                saa += a * a;
                sbb += b * b;
                sab += a * b;
                count++;
            }
        }

        if (count < 2)
        {
            return 0;
        }

        double va = saa / count - sa * sa / ((double)count * count);
        double vb = sbb / count - sb * sb / ((double)count * count);
        double cov = sab / count - sa * sb / ((double)count * count);
        double den = Math.Sqrt(Math.Max(va, 0) * Math.Max(vb, 0));
        return den > 1e-12 ? Math.Clamp(cov / den, -1, 1) : 0;
    }

    /// <summary>Rotates a square array [m][m] about its centre by <paramref name="degrees"/> (bilinear; 0 outside).</summary>
    public static double[] Rotate(ReadOnlySpan<double> image, int m, double degrees)
    {
        Util.Guard.Length(image.Length, (long)m * m, nameof(image), $"[m={m}][m={m}]");
        var dst = new double[m * m];
        double c = (m - 1) / 2.0, cos = Math.Cos(degrees * Math.PI / 180), sin = Math.Sin(degrees * Math.PI / 180);
        for (int y = 0; y < m; y++)
        {
            for (int x = 0; x < m; x++)
            {
                double xs = c + cos * (x - c) + sin * (y - c);
                double ys = c - sin * (x - c) + cos * (y - c);
                int x0 = (int)Math.Floor(xs), y0 = (int)Math.Floor(ys);
                double fx = xs - x0, fy = ys - y0, v = 0;
                for (int k = 0; k < 4; k++)
                {
                    int xi = x0 + (k & 1), yi = y0 + (k >> 1);
                    double w = ((k & 1) == 1 ? fx : 1 - fx) * ((k >> 1) == 1 ? fy : 1 - fy);
                    if (w != 0 && xi >= 0 && xi < m && yi >= 0 && yi < m)
                    {
                        v += w * image[yi * m + xi];
                    }
                }

                dst[y * m + x] = v;
            }
        }

        return dst;
    }

    /// <summary>Both grid-score forms of a map [n][n] (NaN bins allowed): (mean form, min/max form), each the best over the ten annuli.</summary>
    public static (double Mean, double MinMax) Scores(ReadOnlySpan<double> map, int n)
        => ScoresOfAutocorrelogram(Autocorrelogram(map, n), n);

    /// <summary>The grid score of a map [n][n] in one form.</summary>
    public static double Score(ReadOnlySpan<double> map, int n, GridScoreForm form = GridScoreForm.Mean)
    {
        var (mean, minMax) = Scores(map, n);
        return form == GridScoreForm.Mean ? mean : minMax;
    }

    /// <summary>Both grid-score forms from an autocorrelogram [(2n−1)][(2n−1)].</summary>
    public static (double Mean, double MinMax) ScoresOfAutocorrelogram(ReadOnlySpan<double> sac, int n)
    {
        int m = 2 * n - 1;
        Util.Guard.Length(sac.Length, (long)m * m, nameof(sac), $"[2n−1={m}][2n−1={m}]");
        var rotated = new double[Angles.Length][];
        for (int a = 0; a < Angles.Length; a++)
        {
            rotated[a] = Rotate(sac, m, Angles[a]);
        }

        double bestMean = double.NegativeInfinity, bestMinMax = double.NegativeInfinity;
        Span<double> rho = stackalloc double[Angles.Length];
        for (int k = 0; k < 10; k++)
        {
            double inner = 0.2 * n, outer = (0.4 + 0.6 * k / 9.0) * n;
            double sum = 0;
            int count = 0;
            for (int y = 0; y < m; y++)
            {
                for (int x = 0; x < m; x++)
                {
                    double r = Math.Sqrt((double)(x - n + 1) * (x - n + 1) + (double)(y - n + 1) * (y - n + 1));
                    if (r <= outer && r > inner)
                    {
                        sum += sac[y * m + x];
                        count++;
                    }
                }
            }

            if (count == 0)
            {
                continue;
            }

            double mu = sum / count, variance = 0;
            rho.Clear();
            for (int y = 0; y < m; y++)
            {
                for (int x = 0; x < m; x++)
                {
                    double r = Math.Sqrt((double)(x - n + 1) * (x - n + 1) + (double)(y - n + 1) * (y - n + 1));
                    if (r <= outer && r > inner)
                    {
                        double d = sac[y * m + x] - mu;
                        variance += d * d;
                        for (int a = 0; a < Angles.Length; a++)
                        {
                            rho[a] += d * (rotated[a][y * m + x] - mu);
                        }
                    }
                }
            }

            double den = variance + 1e-5 * count;
            for (int a = 0; a < Angles.Length; a++)
            {
                rho[a] /= den;
            }

            // rho: 0 → 30°, 1 → 60°, 2 → 90°, 3 → 120°, 4 → 150°
            double mean = (rho[1] + rho[3]) / 2 - (rho[0] + rho[2] + rho[4]) / 3;
            double minMax = Math.Min(rho[1], rho[3]) - Math.Max(rho[0], Math.Max(rho[2], rho[4]));
            bestMean = Math.Max(bestMean, mean);
            bestMinMax = Math.Max(bestMinMax, minMax);
        }

        return (bestMean, bestMinMax);
    }
}
