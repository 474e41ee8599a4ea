using Engine.Analysis.PathIntegration;
using Engine.Util;
using NUnit.Framework;

namespace Engine.Tests.Analysis;

/// <summary>Grid and band scores on planted maps with known answers (SEEDS.md §1).</summary>
public sealed class PathIntegrationScoreTests
{
    /// <summary>A hexagonal grid map: the sum of three plane waves 60° apart, with spacing <paramref name="spacing"/> (box = [0, 1]²).</summary>
    internal static double[] Hexagonal(int n, double spacing, double degrees, double x0 = 0.13, double y0 = 0.37)
    {
        var map = new double[n * n];
        double k = 4 * Math.PI / (Math.Sqrt(3) * spacing);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double x = (j + 0.5) / n - x0, y = (i + 0.5) / n - y0, v = 0;
                for (int w = 0; w < 3; w++)
                {
                    double a = (degrees + 60 * w) * Math.PI / 180;
                    v += Math.Cos(k * (x * Math.Cos(a) + y * Math.Sin(a)));
                }

                map[i * n + j] = v;
            }
        }

        return map;
    }

    /// <summary>One plane wave of period <paramref name="period"/> (box = [0, 1]²) along <paramref name="degrees"/>.</summary>
    internal static double[] PlaneWave(int n, double period, double degrees)
    {
        var map = new double[n * n];
        double a = degrees * Math.PI / 180;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double x = (j + 0.5) / n, y = (i + 0.5) / n;
                map[i * n + j] = Math.Cos(2 * Math.PI / period * (x * Math.Cos(a) + y * Math.Sin(a)) + 0.4);
            }
        }

        return map;
    }

    private static double[] Random(int n, long seed)
    {
        var rng = Rng.For(seed, Rng.EvalStream);
        return Enumerable.Range(0, n * n).Select(_ => rng.NextGaussian()).ToArray();
    }

    private static double[] Bump(int n, double width)
    {
        var map = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double x = (j + 0.5) / n - 0.5, y = (i + 0.5) / n - 0.5;
                map[i * n + j] = Math.Exp(-(x * x + y * y) / (2 * width * width));
            }
        }

        return map;
    }

    [TestCase(0.3, 0.0)]
    [TestCase(0.3, 37.0)]
    [TestCase(0.4, 13.0)]
    [TestCase(0.5, 50.0)]
    public void PlantedHexagonalGrid_ScoresHighGrid_AndIsAGridCell_AtAnyRotationAndScale(double spacing, double degrees)
    {
        var (mean, minMax) = GridScore.Scores(Hexagonal(20, spacing, degrees), 20);
        var band = BandScore.Fit(Hexagonal(50, spacing, degrees), 50).Score;
        var plane = BandScore.Fit(PlaneWave(50, spacing, degrees), 50).Score;
        Assert.That(mean, Is.GreaterThan(1.0), "mean form");
        Assert.That(minMax, Is.GreaterThan(1.0), "min/max form");
        Assert.That(band, Is.LessThan(0.75 * plane), "one Gaussian fits one of the grid's three spectral peaks: well below a plane wave of the same spacing");
        Assert.That(PathIntegrationAnalysis.Classify(Hexagonal(20, spacing, degrees), 20, Hexagonal(50, spacing, degrees), 50), Is.EqualTo(UnitClass.Grid));
    }

    [TestCase(0.3, 20.0)]
    [TestCase(0.2, 90.0)]
    [TestCase(0.45, 0.0)]
    [TestCase(0.25, 133.0)]
    public void PlantedPlaneWave_ScoresHighBand_LowGrid_AndIsABandCell_AtAnyRotationAndScale(double period, double degrees)
    {
        var (mean, minMax) = GridScore.Scores(PlaneWave(20, period, degrees), 20);
        var band = BandScore.Fit(PlaneWave(50, period, degrees), 50);
        Assert.That(mean, Is.LessThan(PathIntegrationOptions.PaperGridThreshold));
        Assert.That(minMax, Is.LessThan(PathIntegrationOptions.PaperGridThreshold));
        Assert.That(band.Score, Is.GreaterThan(10));
        Assert.That(PathIntegrationAnalysis.Classify(PlaneWave(20, period, degrees), 20, PlaneWave(50, period, degrees), 50), Is.EqualTo(UnitClass.Band));
    }

    [TestCase(1L)]
    [TestCase(2L)]
    [TestCase(3L)]
    public void RandomMap_IsNeither(long seed)
    {
        Assert.That(PathIntegrationAnalysis.Classify(Random(20, seed), 20, Random(50, seed + 100), 50), Is.EqualTo(UnitClass.Neither));
    }

    /// <summary>SEEDS §1 identity 4: a radially symmetric map has equal ρ_φ for every φ, so both forms are 0 up to interpolation error.</summary>
    /// <remarks>A bump as wide as a fifth of the box is not enough: the overlap region of each lag is square, S picks up that
    /// four-fold shape, ρ90 rises and the min/max form falls to about −0.2 (the mean form to about −0.06).</remarks>
    [TestCase(0.05)]
    [TestCase(0.1)]
    public void RadialBump_GridScoreIsZero(double width)
    {
        var (mean, minMax) = GridScore.Scores(Bump(20, width), 20);
        // finite-box effects: the overlap region of each lag is square, so S is only nearly radial
        Assert.That(mean, Is.EqualTo(0).Within(0.1));
        Assert.That(minMax, Is.EqualTo(0).Within(0.1));
    }

    /// <summary>SEEDS §1 identity 4: a vertical plane wave with m whole cycles leaves one FFT bin; at the fit's optimum σ = 0.05 and the score is ≈ 0.878/0.05.</summary>
    [TestCase(2)]
    [TestCase(5)]
    [TestCase(11)]
    public void VerticalPlaneWave_WholeCycles_BandScoreIs17_6(int cycles)
    {
        var fit = BandScore.Fit(PlaneWave(50, 1.0 / cycles, 90), 50);
        Assert.That(fit.Sigma, Is.EqualTo(0.05).Within(1e-6));
        Assert.That(fit.Score, Is.EqualTo(0.878 / 0.05).Within(0.1));
        // the centre sits on the wave's bin: column n/2 (x = 2/49, half a bin off zero, SEEDS §1) and row n/2 + m
        Assert.That(fit.K0 * Math.Cos(fit.Phi), Is.EqualTo(-2 + 4.0 * 25 / 49).Within(1e-3));
        Assert.That(fit.K0 * Math.Sin(fit.Phi), Is.EqualTo(-2 + 4.0 * (25 + cycles) / 49).Within(1e-3));
    }

    [Test]
    public void Autocorrelogram_IsOneAtZeroLag_AndPointSymmetric()
    {
        var map = Random(20, 9);
        var s = GridScore.Autocorrelogram(map, 20);
        int m = 39;
        Assert.That(s[19 * m + 19], Is.EqualTo(1).Within(1e-12));
        for (int k = 0; k < s.Length; k++)
        {
            Assert.That(s[k], Is.EqualTo(s[s.Length - 1 - k]).Within(1e-12));
        }
    }

    [TestCase(50)]
    [TestCase(20)]
    [TestCase(7)]
    public void Magnitude_MatchesMathNetFft(int n)
    {
        var map = Random(n, 11);
        map[3] = double.NaN;
        var fast = BandScore.Magnitude(map, n);
        var reference = BandScore.MagnitudeReference(map, n);
        for (int k = 0; k < fast.Length; k++)
        {
            Assert.That(fast[k], Is.EqualTo(reference[k]).Within(1e-9 * n * n), $"bin {k}");
        }
    }

    [Test]
    public void Percentile_InterpolatesLinearly()
    {
        Assert.That(PathIntegrationAnalysis.Percentile([0, 1, 2, 3, 4], 95), Is.EqualTo(3.8).Within(1e-12));
        Assert.That(PathIntegrationAnalysis.Percentile([double.NaN, 5], 50), Is.EqualTo(5));
    }
}
