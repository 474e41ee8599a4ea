using Engine.Study;
using NUnit.Framework;

namespace Engine.Tests.Study;

/// <summary>The trend figure's axis choice and a log-x figure with a zero level.</summary>
public sealed class StudyFiguresTests
{
    [Test]
    public void UseLogX_WhenPositiveLevelsSpanADecade()
    {
        Assert.That(StudyFigures.UseLogX([0, 1e-4, 1e-3, 1e-2]), Is.True, "a zero level does not prevent a log axis");
        Assert.That(StudyFigures.UseLogX([1e-4, 1e-3]), Is.True);
        Assert.That(StudyFigures.UseLogX([32, 64, 128]), Is.False);
        Assert.That(StudyFigures.UseLogX([0, 1e-3]), Is.False, "one positive level");
        Assert.That(StudyFigures.UseLogX([-1, 1, 100]), Is.False);
    }

    [Test]
    public void Trend_LogXWithZeroLevel_WritesPng()
    {
        string dir = Directory.CreateTempSubdirectory("study-fig").FullName;
        try
        {
            string png = Path.Combine(dir, "l1.png");
            StudyFigures.Trend(
                [(0, new Estimate(0.5, 0.4, 0.6)), (1e-4, new Estimate(0.4, 0.35, 0.45)), (1e-3, new Estimate(0.3, double.NaN, double.NaN)), (1e-2, Estimate.NaN)],
                "l1", "mean DSA distance", png, "log-x test");
            var bytes = File.ReadAllBytes(png);
            Assert.That(bytes[1..4], Is.EqualTo("PNG"u8.ToArray()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
