using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace Engine.Analysis.PathIntegration;

/// <summary>The Gaussian fitted to a map's Fourier magnitude, and the band score it gives.</summary>
/// <param name="Score">cos(F, G) / σ.</param>
/// <param name="Cosine">Cosine similarity of the half-plane magnitude F and the fitted Gaussian G.</param>
/// <param name="K0">Distance of the Gaussian's centre from the origin, in the scorer's coordinates ([0.2, 1]).</param>
/// <param name="Phi">Angle of the centre, radians in [0, π].</param>
/// <param name="Sigma">Width of the Gaussian ([0.05, 0.5]).</param>
/// <param name="Orientation">Power-weighted mean orientation of the spectrum, arg(Σ F² e^{2iα}) / 2, radians in (−π/2, π/2].</param>
public readonly record struct BandFit(double Score, double Cosine, double K0, double Phi, double Sigma, double Orientation)
{
    /// <summary>Spatial period of the fitted wave, in the units of <paramref name="side"/>: L = 2π/k, k = k0·π/(2·dx), dx = side/n.</summary>
    public double Spacing(double side, int n) => 2 * Math.PI / (K0 * Math.PI / (2 * side / n));
}

/// <summary>Band score of an n × n rate map (SEEDS.md §1): a bounded Gaussian fit to one half-plane of its 2D Fourier magnitude.</summary>
/// <remarks>
/// The map [n][n] (row = y) is mean-subtracted (NaN bins count as the mean), F = |fftshift(FFT2(map))| (magnitude) and its first
/// n/2 rows are set to 0. Coordinates: n points evenly spaced in [−2, 2] per axis (the authors' convention, half a bin off the
/// zero frequency for even n). G(x) = A exp(−|x − k0 (cos φ, sin φ)|² / 2σ²) with A ≥ 0, k0 ∈ [0.2, 1], φ ∈ [0, π],
/// σ ∈ [0.05, 0.5]. For fixed (k0, φ, σ) the least-squares A is ⟨F, G₁⟩/⟨G₁, G₁⟩ ≥ 0, and the residual is
/// |F|²(1 − cos²(F, G)), so the bounded least-squares fit is the maximum of cos(F, G) over (k0, φ, σ): found by Nelder–Mead
/// with bounds by clamping, started at the spectral peak (σ = 0.1) and also at the authors' fixed start (k0 = 0.2, φ = 0,
/// σ = 0.1); the better fit is kept. Score = cos(F, G) / σ (1e-8 guard).
/// </remarks>
public static class BandScore
{
    /// <summary>Fits and scores one map [n][n].</summary>
    public static BandFit Fit(ReadOnlySpan<double> map, int n)
    {
        Util.Guard.AtLeast(n, 4, nameof(n));
        Util.Guard.Length(map.Length, (long)n * n, nameof(map), $"[n={n}][n={n}]");
        var f = Magnitude(map, n);
        var coord = new double[n];
        for (int k = 0; k < n; k++)
        {
            coord[k] = -2 + 4.0 * k / (n - 1);
        }

        double norm = 0, peak = -1;
        int py = n / 2, px = n / 2;
        for (int i = 0; i < n * n; i++)
        {
            norm += f[i] * f[i];
            if (f[i] > peak)
            {
                peak = f[i];
                py = i / n;
                px = i % n;
            }
        }

        norm = Math.Sqrt(norm);
        double orientation = Orientation(f, coord, n);
        if (norm <= 0)
        {
            return new BandFit(0, 0, 0.2, 0, 0.5, orientation);
        }

        var gx = new double[n];
        var gy = new double[n];
        double Cosine(ReadOnlySpan<double> p)
        {
            double k0 = p[0], phi = p[1], sigma = p[2];
            double mx = k0 * Math.Cos(phi), my = k0 * Math.Sin(phi), inv = 1 / (2 * sigma * sigma), sx = 0, sy = 0;
            for (int k = 0; k < n; k++)
            {
                gx[k] = Math.Exp(-(coord[k] - mx) * (coord[k] - mx) * inv);
                gy[k] = Math.Exp(-(coord[k] - my) * (coord[k] - my) * inv);
                sx += gx[k] * gx[k];
                sy += gy[k] * gy[k];
            }

            double dot = 0;
            for (int i = n / 2; i < n; i++)
            {
                double row = 0;
                for (int j = 0; j < n; j++)
                {
                    row += f[i * n + j] * gx[j];
                }

                dot += gy[i] * row;
            }

            return dot / (norm * Math.Sqrt(sx * sy) + 1e-8);
        }

        double[] lo = [0.2, 0, 0.05], hi = [1, Math.PI, 0.5];
        double cx = coord[px], cy = coord[py];
        double[] fromPeak = [Math.Clamp(Math.Sqrt(cx * cx + cy * cy), lo[0], hi[0]), Math.Clamp(Math.Atan2(cy, cx), lo[1], hi[1]), 0.1];
        var a = NelderMead.Minimize(p => -Cosine(p), fromPeak, [0.05, 0.1, 0.03], lo, hi);
        var b = NelderMead.Minimize(p => -Cosine(p), [0.2, 0, 0.1], [0.05, 0.1, 0.03], lo, hi);
        var best = a.Value <= b.Value ? a : b;
        double cos = -best.Value;
        return new BandFit(cos / best.Point[2], cos, best.Point[0], best.Point[1], best.Point[2], orientation);
    }

    /// <summary>|fftshift(FFT2(map − mean))| [n][n] with the first n/2 rows zeroed.</summary>
    public static double[] Magnitude(ReadOnlySpan<double> map, int n)
    {
        double mean = MeanOfNumbers(map);
        // 2D DFT of a real map as two passes of precomputed twiddles (n³ work; for n = 50 about ten times faster than MathNet's
        // Bluestein transform, which the reference test below compares against)
        var (cos, sin) = Twiddles(n); // [n][n]: cos(2π jk/n), sin(2π jk/n)
        var x = new double[n * n];
        for (int i = 0; i < n * n; i++)
        {
            x[i] = double.IsNaN(map[i]) ? 0 : map[i] - mean;
        }

        var re = new double[n * n];
        var im = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * n, n);
            for (int k = 0; k < n; k++)
            {
                var ck = cos.AsSpan(k * n, n);
                var sk = sin.AsSpan(k * n, n);
                double sr = 0, si = 0;
                for (int j = 0; j < n; j++)
                {
                    sr += row[j] * ck[j];
                    si -= row[j] * sk[j];
                }

                re[i * n + k] = sr;
                im[i * n + k] = si;
            }
        }

        var c = new Complex[n * n];
        var colRe = new double[n];
        var colIm = new double[n];
        for (int k = 0; k < n; k++)
        {
            for (int i = 0; i < n; i++)
            {
                colRe[i] = re[i * n + k];
                colIm[i] = im[i * n + k];
            }

            for (int l = 0; l < n - n / 2; l++) // only the frequency rows the kept half-plane shows
            {
                var cl = cos.AsSpan(l * n, n);
                var sl = sin.AsSpan(l * n, n);
                double sr = 0, si = 0;
                for (int i = 0; i < n; i++)
                {
                    sr += colRe[i] * cl[i] + colIm[i] * sl[i];
                    si += colIm[i] * cl[i] - colRe[i] * sl[i];
                }

                c[l * n + k] = new Complex(sr, si);
            }
        }

        var f = new double[n * n];
        int h = n / 2;
        for (int i = h; i < n; i++)
        {
            int si = (i - h + n) % n; // fftshift: shifted row i holds frequency row (i − n/2) mod n
            for (int j = 0; j < n; j++)
            {
                int sj = (j - h + n) % n;
                f[i * n + j] = c[si * n + sj].Magnitude;
            }
        }

        return f;
    }

    /// <summary>The mean of the entries that are not NaN (0 when none is): what both transforms subtract.</summary>
    private static double MeanOfNumbers(ReadOnlySpan<double> map)
    {
        double sum = 0;
        int count = 0;
        foreach (double v in map)
        {
            if (!double.IsNaN(v))
            {
                sum += v;
                count++;
            }
        }

        return count > 0 ? sum / count : 0;
    }

    /// <summary>|fftshift(FFT2(map − mean))| with the first n/2 rows zeroed, through MathNet's FFT (the reference for <see cref="Magnitude"/>).</summary>
    public static double[] MagnitudeReference(ReadOnlySpan<double> map, int n)
    {
        double mean = MeanOfNumbers(map);
        var c = new Complex[n * n];
        for (int i = 0; i < n * n; i++)
        {
            c[i] = double.IsNaN(map[i]) ? Complex.Zero : new Complex(map[i] - mean, 0);
        }

        var line = new Complex[n];
        for (int i = 0; i < n; i++)
        {
            c.AsSpan(i * n, n).CopyTo(line);
            Fourier.Forward(line, FourierOptions.NoScaling);
            line.CopyTo(c.AsSpan(i * n, n));
        }

        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < n; i++)
            {
                line[i] = c[i * n + j];
            }

            Fourier.Forward(line, FourierOptions.NoScaling);
            for (int i = 0; i < n; i++)
            {
                c[i * n + j] = line[i];
            }
        }

        var f = new double[n * n];
        int h = n / 2;
        for (int i = h; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                f[i * n + j] = c[(i - h + n) % n * n + (j - h + n) % n].Magnitude;
            }
        }

        return f;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, (double[] Cos, double[] Sin)> TwiddleCache = new();

    private static (double[] Cos, double[] Sin) Twiddles(int n) => TwiddleCache.GetOrAdd(n, m =>
    {
        var c = new double[m * m];
        var s = new double[m * m];
        for (int k = 0; k < m; k++)
        {
            for (int j = 0; j < m; j++)
            {
                c[k * m + j] = Math.Cos(2 * Math.PI * (j * k % m) / m);
                s[k * m + j] = Math.Sin(2 * Math.PI * (j * k % m) / m);
            }
        }

        return (c, s);
    });

    private static double Orientation(double[] f, double[] coord, int n)
    {
        double re = 0, im = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double w = f[i * n + j] * f[i * n + j];
                if (w == 0)
                {
                    continue;
                }

                double ang = 2 * Math.Atan2(coord[i], coord[j]);
                re += w * Math.Cos(ang);
                im += w * Math.Sin(ang);
            }
        }

        return Math.Atan2(im, re) / 2;
    }
}
