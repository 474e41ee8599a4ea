using Engine.Study;
using NUnit.Framework;

namespace Engine.Tests.Study;

/// <summary>Spearman, σ, pair means, the seeded bootstrap, summaries and trend verdicts, against hand-computed answers.</summary>
public sealed class StudyStatisticsTests
{
    [Test]
    public void Ranks_AverageTies()
    {
        Assert.That(StudyStatistics.Ranks([10, 20, 20, 30]), Is.EqualTo(new[] { 1, 2.5, 2.5, 4 }));
        Assert.That(StudyStatistics.Ranks([3, 1, 3, 3]), Is.EqualTo(new[] { 3, 1, 3, 3 }));
    }

    [Test]
    public void Spearman_MatchesHandComputed_WithTies()
    {
        // y ranks [1, 2, 3.5, 5, 3.5]: Σdxdy = 8, Σdx² = 10, Σdy² = 9.5 → ρ = 8/√95.
        Assert.That(StudyStatistics.Spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), Is.EqualTo(8 / Math.Sqrt(95)).Within(1e-12));
        // Ties on both sides: x ranks [1.5, 1.5, 3], y ranks [1, 2.5, 2.5] → ρ = 0.75/√(1.5·1.5) = 0.5.
        Assert.That(StudyStatistics.Spearman([1, 1, 2], [0, 4, 4]), Is.EqualTo(0.5).Within(1e-12));
    }

    [Test]
    public void Spearman_MonotoneIsOne_ConstantIsNaN()
    {
        Assert.That(StudyStatistics.Spearman([1, 2, 3, 4], [1, 10, 100, 1000]), Is.EqualTo(1).Within(1e-12));
        Assert.That(StudyStatistics.Spearman([1, 2, 3, 4], [9, 3, 2, -5]), Is.EqualTo(-1).Within(1e-12));
        Assert.That(StudyStatistics.Spearman([1, 2, 3], [2, 2, 2]), Is.NaN);
        Assert.That(StudyStatistics.Spearman([1], [2]), Is.NaN);
    }

    [Test]
    public void PopulationStd_DividesByN()
    {
        Assert.That(StudyStatistics.PopulationStd([2, 4, 4, 4, 5, 5, 7, 9]), Is.EqualTo(2).Within(1e-12));
        Assert.That(StudyStatistics.PopulationStd([1, 2, 3, 4, 5, 6]), Is.EqualTo(Math.Sqrt(17.5 / 6)).Within(1e-12));
        Assert.That(StudyStatistics.PopulationStd([3]), Is.NaN);
    }

    [Test]
    public void Percentile_InterpolatesLinearly()
    {
        double[] sorted = [1, 2, 3, 4, 5];
        Assert.That(StudyStatistics.Percentile(sorted, 0.025), Is.EqualTo(1.1).Within(1e-12));
        Assert.That(StudyStatistics.Percentile(sorted, 0.975), Is.EqualTo(4.9).Within(1e-12));
        Assert.That(StudyStatistics.Percentile(sorted, 0.5), Is.EqualTo(3));
    }

    private static PairTable Known3()
    {
        var t = new PairTable([0, 1, 2]);
        t.Set(0, 1, 1);
        t.Set(0, 2, 2);
        t.Set(1, 2, 3);
        return t;
    }

    [Test]
    public void PairMean_KnownMatrix_SkipsSameNetworkDraws()
    {
        var t = Known3();
        Assert.That(StudyStatistics.PairMean(t, [0, 1, 2]), Is.EqualTo(2).Within(1e-12));
        // Pairs of positions: (0,0) skipped, (0,1) = 1 twice → 1.
        Assert.That(StudyStatistics.PairMean(t, [0, 0, 1]), Is.EqualTo(1).Within(1e-12));
        // d01 + 2·d02 + 2·d12 over 5 pairs ((2,2) skipped) = 11/5.
        Assert.That(StudyStatistics.PairMean(t, [0, 1, 2, 2]), Is.EqualTo(2.2).Within(1e-12));
        Assert.That(StudyStatistics.PairMean(t, [1, 1, 1]), Is.NaN);
    }

    [Test]
    public void BootstrapPairs_ContainsValue_AndIsDeterministic()
    {
        var t = Known3();
        var a = StudyStatistics.BootstrapPairs(t, 500, StudyStatistics.BootstrapRng(2025, "c|dsa"));
        Assert.That(a.Value, Is.EqualTo(2).Within(1e-12));
        // Every resample of 3 networks averages distances in [1, 3]; with 500 draws both extremes occur.
        Assert.That((a.Low, a.High), Is.EqualTo((1.0, 3.0)));

        var rng = new Engine.Util.Rng(3);
        var big = new PairTable(Enumerable.Range(0, 8).ToArray());
        foreach (var (i, j) in Engine.Distances.PairwiseMatrix.Pairs(8))
        {
            big.Set(i, j, rng.NextDouble());
        }

        var b1 = StudyStatistics.BootstrapPairs(big, 500, StudyStatistics.BootstrapRng(2025, "c|dsa"));
        var b2 = StudyStatistics.BootstrapPairs(big, 500, StudyStatistics.BootstrapRng(2025, "c|dsa"));
        var b3 = StudyStatistics.BootstrapPairs(big, 500, StudyStatistics.BootstrapRng(2026, "c|dsa"));
        Assert.That(b2, Is.EqualTo(b1));
        Assert.That(b1.Low, Is.LessThan(b1.Value));
        Assert.That(b1.High, Is.GreaterThan(b1.Value));
        Assert.That(b3, Is.Not.EqualTo(b1), "another seed, other resamples");
        Assert.That(b3.Value, Is.EqualTo(b1.Value), "the point estimate does not depend on the seed");
    }

    [Test]
    public void Bootstrap_OneValue_NaNSigma()
    {
        var e = StudyStatistics.Bootstrap([4.0], StudyStatistics.PopulationStd, 100, StudyStatistics.BootstrapRng(1, "x"));
        Assert.That(e.Value, Is.NaN);
        Assert.That(e.Low, Is.NaN);
        Assert.That(StudyStatistics.BootstrapPairs(new PairTable([3]), 100, StudyStatistics.BootstrapRng(1, "x")).Value, Is.NaN);
    }

    [Test]
    public void StableHash_IsFixed()
    {
        // FNV-1a 64 of no bytes is the offset basis; the hash must not change between runs (string.GetHashCode does).
        Assert.That(StudyStatistics.StableHash(""), Is.EqualTo(0xCBF29CE484222325UL));
        Assert.That(StudyStatistics.StableHash("a|dsa"), Is.Not.EqualTo(StudyStatistics.StableHash("a|pif")));
    }

    [Test]
    public void Conditions_SigmaUsesConvergedOnly_AndN()
    {
        var r = StudyTestData.TwoTasks();
        var s = StudySummaries.Conditions(r);
        Assert.That(s, Has.Count.EqualTo(6));
        var n32 = s[0];
        Assert.That(n32.Condition, Is.EqualTo("flipflop-bits3-n32-std"));
        Assert.That(n32.SigmaOod.Value, Is.EqualTo(Math.Sqrt(17.5 / 6)).Within(1e-12));
        Assert.That(n32.MeanOodMse.Value, Is.EqualTo(3.5).Within(1e-12));
        Assert.That(n32.SigmaOod.Low, Is.LessThan(n32.SigmaOod.Value));
        Assert.That(n32.SigmaOod.High, Is.GreaterThan(n32.SigmaOod.Value));
        Assert.That(n32.FixedPoints.Value, Is.EqualTo(3), "only network 0 ran a census; −1 is skipped");
        Assert.That(n32.WeightChange.Value, Is.EqualTo(2.75).Within(1e-12));

        var n64 = s[1];
        Assert.That((n64.Converged, n64.Networks), Is.EqualTo((5, 6)));
        Assert.That(n64.SigmaOod.Value, Is.LessThan(1), "the diverged network's OOD MSE of 1e6 is left out");
        Assert.That(n64.MeanDsa.Value, Is.EqualTo(0.35).Within(0.011));

        var failed = s[5];
        Assert.That(failed.Failed, Is.True);
        Assert.That(failed.Reason, Is.EqualTo(StudyTestData.FailedReason));
        Assert.That((failed.Converged, failed.Networks), Is.EqualTo((0, 6)));
        Assert.That(failed.SigmaOod.Value, Is.NaN);
        Assert.That(failed.MeanDsa.Value, Is.NaN);
    }

    [Test]
    public void Summaries_DoNotDependOnRowOrder()
    {
        var r = StudyTestData.TwoTasks();
        var shuffled = StudyTestData.Shuffled(r, 99);
        Assert.That(StudySummaries.Conditions(shuffled), Is.EqualTo(StudySummaries.Conditions(r)));
        Assert.That(StudySummaries.Trends(shuffled), Is.EqualTo(StudySummaries.Trends(r)));
    }

    [Test]
    public void Verdict_Logic()
    {
        Assert.That(TrendVerdicts.Of(5, new Estimate(-0.9, -1, -0.6), -1), Is.EqualTo("agrees"));
        Assert.That(TrendVerdicts.Of(5, new Estimate(0.9, 0.6, 1), -1), Is.EqualTo("disagrees"));
        Assert.That(TrendVerdicts.Of(5, new Estimate(0.3, -0.4, 0.9), -1), Is.EqualTo("inconclusive"));
        Assert.That(TrendVerdicts.Of(5, new Estimate(0.9, 0.6, 1), 0), Is.EqualTo("no published direction"));
        Assert.That(TrendVerdicts.Of(5, new Estimate(0.3, -0.4, 0.9), 0), Is.EqualTo("inconclusive"));
        Assert.That(TrendVerdicts.Of(5, new Estimate(1, double.NaN, double.NaN), 1), Is.EqualTo("inconclusive"));
        Assert.That(TrendVerdicts.Of(2, new Estimate(-1, -1, -1), -1), Is.EqualTo("too few levels"));
    }

    [Test]
    public void PaperDirections_Table()
    {
        Assert.That(PaperDirections.Of("width", "dynamics"), Is.EqualTo(-1));
        Assert.That(PaperDirections.Of("complexity", "weights"), Is.EqualTo(+1));
        Assert.That(PaperDirections.Of("gamma", "behavior"), Is.EqualTo(0));
        Assert.That(PaperDirections.Of("rank", "behavior"), Is.EqualTo(+1));
        Assert.That(PaperDirections.Of("nuclear", "weights"), Is.EqualTo(-1));
        Assert.That(PaperDirections.Of("learning_rate", "dynamics"), Is.EqualTo(0));
        Assert.That(PaperDirections.Of("width", "representation"), Is.EqualTo(0));
    }

    private static TrendRow DsaTrend(StudyResults r) => StudySummaries.Trends(r).Single(t => t.Metric == "dsa");

    [Test]
    public void Trend_DsaFallsWithWidth_Agrees()
    {
        var t = DsaTrend(StudyTestData.WidthSeries(4, l => 0.8 - 0.15 * l, 0.05));
        Assert.That((t.Level, t.PaperDirection, t.Points), Is.EqualTo(("dynamics", -1, 4)));
        Assert.That(t.Rho.Value, Is.EqualTo(-1).Within(1e-12));
        Assert.That(t.Rho.High, Is.LessThan(0));
        Assert.That(t.Rho.Low, Is.LessThanOrEqualTo(t.Rho.High));
        Assert.That(t.Verdict, Is.EqualTo("agrees"));
    }

    [Test]
    public void Trend_DsaRisesWithWidth_Disagrees()
    {
        var t = DsaTrend(StudyTestData.WidthSeries(4, l => 0.2 + 0.15 * l, 0.05));
        Assert.That(t.Rho.Value, Is.EqualTo(1).Within(1e-12));
        Assert.That(t.Rho.Low, Is.GreaterThan(0));
        Assert.That(t.Verdict, Is.EqualTo("disagrees"));
    }

    [Test]
    public void Trend_FlatNoise_Inconclusive()
    {
        var t = DsaTrend(StudyTestData.WidthSeries(4, _ => 0.5, 0.4));
        Assert.That(t.Rho.Low, Is.LessThanOrEqualTo(0));
        Assert.That(t.Rho.High, Is.GreaterThanOrEqualTo(0));
        Assert.That(t.Verdict, Is.EqualTo("inconclusive"));
    }

    [Test]
    public void Trend_TwoLevels_TooFewLevels()
    {
        var t = DsaTrend(StudyTestData.WidthSeries(2, l => 0.8 - 0.3 * l, 0.05));
        Assert.That(t.Points, Is.EqualTo(2));
        Assert.That(t.Rho.Value, Is.EqualTo(-1).Within(1e-12), "ρ is still reported");
        Assert.That(t.Verdict, Is.EqualTo("too few levels"));
    }

    [Test]
    public void Trends_TwoTasks_RowsAndVerdicts()
    {
        var trends = StudySummaries.Trends(StudyTestData.TwoTasks());
        // flipflop/width and sine/l1, each with sigma_ood, dsa, pif, cka.
        Assert.That(trends.Select(t => $"{t.Task}/{t.Factor}/{t.Metric}"), Is.EqualTo(new[]
        {
            "flipflop/width/sigma_ood", "flipflop/width/dsa", "flipflop/width/pif", "flipflop/width/cka",
            "sine/l1/sigma_ood", "sine/l1/dsa", "sine/l1/pif", "sine/l1/cka",
        }));
        Assert.That(trends[1].Verdict, Is.EqualTo("agrees"), "DSA falls with width as published");
        Assert.That(trends[2].Verdict, Is.EqualTo("agrees"), "d_PIF falls with width as published");
        Assert.That(trends.Where(t => t.Task == "sine").Select(t => (t.Points, t.Verdict)), Is.All.EqualTo((2, "too few levels")),
            "the failed l1 level has no data");
        Assert.That(trends[6].Rho.Value, Is.EqualTo(1).Within(1e-12), "d_PIF rises with l1 in the synthetic data");
    }
}
