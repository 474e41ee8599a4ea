namespace Engine.Study;

/// <summary>The statistics of one condition over its converged networks, each with a bootstrap 95% interval over seeds.</summary>
/// <param name="Condition">Condition id.</param>
/// <param name="Converged">Networks with status <c>converged</c>.</param>
/// <param name="Networks">All networks of the condition.</param>
/// <param name="SigmaOod">σ_OOD: population standard deviation (÷ n) of the OOD MSE.</param>
/// <param name="MeanOodMse">Mean OOD MSE.</param>
/// <param name="MeanDsa">Mean pairwise DSA distance.</param>
/// <param name="MeanPif">Mean pairwise d_PIF (weight-space distance).</param>
/// <param name="MeanCka">Mean pairwise CKA distance.</param>
/// <param name="MeanShape">Mean pairwise shape-metric distance.</param>
/// <param name="WeightChange">Mean ‖W_T − W_0‖_F.</param>
/// <param name="KernelAlignment">Mean tangent-kernel alignment.</param>
/// <param name="FixedPoints">Mean number of fixed points found (networks without a census skipped).</param>
/// <param name="Failed">The condition's outcome says it failed.</param>
/// <param name="Reason">Why it failed (null when it did not).</param>
public sealed record ConditionSummary(
    string Condition, int Converged, int Networks, Estimate SigmaOod, Estimate MeanOodMse, Estimate MeanDsa, Estimate MeanPif,
    Estimate MeanCka, Estimate MeanShape, Estimate WeightChange, Estimate KernelAlignment, Estimate FixedPoints, bool Failed,
    string? Reason);

/// <summary>The trend of one degeneracy level along one factor of one task: Spearman's ρ with a bootstrap interval and the verdict against the paper.</summary>
/// <param name="Task">Task name.</param>
/// <param name="Factor">Factor name.</param>
/// <param name="Level">behavior, dynamics, weights or representation.</param>
/// <param name="Metric">sigma_ood, dsa, pif or cka.</param>
/// <param name="Points">Conditions of the series with a finite statistic.</param>
/// <param name="Rho">ρ between factor value and statistic, with its bootstrap interval.</param>
/// <param name="PaperDirection">+1, −1, or 0 (no published direction); see <see cref="PaperDirections"/>.</param>
/// <param name="Verdict">agrees, disagrees, inconclusive, no published direction, or too few levels.</param>
public sealed record TrendRow(string Task, string Factor, string Level, string Metric, int Points, Estimate Rho, int PaperDirection, string Verdict);

/// <summary>What <see cref="StudyReport.Write"/> computed and where it put the report.</summary>
/// <param name="Conditions">One summary per condition, in plan order.</param>
/// <param name="Trends">One row per (task, factor) series and degeneracy level with data.</param>
/// <param name="MarkdownPath">Full path of report.md.</param>
/// <param name="HtmlPath">Full path of report.html.</param>
public sealed record StudyReportSummary(IReadOnlyList<ConditionSummary> Conditions, IReadOnlyList<TrendRow> Trends, string MarkdownPath, string HtmlPath);

/// <summary>Verdict strings of a <see cref="TrendRow"/>.</summary>
public static class TrendVerdicts
{
    /// <summary>The interval excludes 0 on the side the paper reports.</summary>
    public const string Agrees = "agrees";

    /// <summary>The interval excludes 0 on the opposite side.</summary>
    public const string Disagrees = "disagrees";

    /// <summary>The interval contains 0 (or could not be computed).</summary>
    public const string Inconclusive = "inconclusive";

    /// <summary>The interval excludes 0 but the paper states no direction.</summary>
    public const string NoPublishedDirection = "no published direction";

    /// <summary>Fewer than 3 levels with a finite statistic.</summary>
    public const string TooFewLevels = "too few levels";

    /// <summary>The verdict of a trend with <paramref name="points"/> levels and interval <paramref name="rho"/> against <paramref name="paperDirection"/>.</summary>
    /// <remarks>
    /// Fewer than 3 points: too few levels. Otherwise the sign is + when the interval's low end is above 0, − when its
    /// high end is below 0, else inconclusive; a sign then agrees or disagrees with a published direction, or is
    /// reported as having none.
    /// </remarks>
    public static string Of(int points, Estimate rho, int paperDirection)
    {
        ArgumentNullException.ThrowIfNull(rho);
        if (points < 3)
        {
            return TooFewLevels;
        }

        int sign = rho.ExcludesZeroAbove ? +1 : rho.ExcludesZeroBelow ? -1 : 0;
        if (sign == 0)
        {
            return Inconclusive;
        }

        if (paperDirection == 0)
        {
            return NoPublishedDirection;
        }

        return sign == Math.Sign(paperDirection) ? Agrees : Disagrees;
    }
}
