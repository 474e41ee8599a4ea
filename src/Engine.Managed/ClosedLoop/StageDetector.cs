namespace Engine.ClosedLoop;

/// <summary>The three stages of closed-loop learning found in one agent's training record (indices into the record; −1 = not seen).</summary>
/// <param name="UnstableFrom">First step with ρ(P) &gt; 1 + tol (stage 1: an unstable, myopic policy).</param>
/// <param name="PlateauStart">First step after the initial fall where the loss's smoothed relative decrease per step drops below 10% of its peak (stage 2).</param>
/// <param name="EnterUnitCircle">First step after which ρ(P) stays below 1, having been above 1 + tol (end of stage 2).</param>
/// <param name="ThirdEigenvalueGrowth">First step after the entry where |λ₃| has covered half of its rise to its later maximum (stage 3: refinement).</param>
public readonly record struct ClosedLoopStages(int UnstableFrom, int PlateauStart, int EnterUnitCircle, int ThirdEigenvalueGrowth);

/// <summary>Finds the stages of Ger &amp; Barak's closed-loop learning in a per-step record of loss, ρ(P) and |λ₃|.</summary>
/// <remarks>
/// Heuristics, stated so that they can be checked (k indexes the K records): unstable from the first k with
/// ρ_k &gt; 1 + tol (tol = 1e-3 by default, so a loop started at the open plant's ρ = 1 is not counted by rounding);
/// the entry is one past the last k with ρ_k ≥ 1. The relative decrease r_k = (L_{k−w} − L_k) / (w L_{k−w}) is
/// taken over w = max(1, K/100) records; the plateau starts at the first k past the peak of r where r_k &lt; 0.1 max r.
/// The third eigenvalue grows at the first k ≥ entry where |λ₃|_k ≥ |λ₃|_entry + ½ (max_{j ≥ entry} |λ₃|_j − |λ₃|_entry).
/// </remarks>
public static class StageDetector
{
    /// <summary>Detects the stages; all three arrays have one entry per recorded step.</summary>
    public static ClosedLoopStages Detect(IReadOnlyList<double> loss, IReadOnlyList<double> rho, IReadOnlyList<double> lambda3, double tolerance = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(rho);
        ArgumentNullException.ThrowIfNull(lambda3);
        int k = Math.Min(loss.Count, Math.Min(rho.Count, lambda3.Count));
        int unstable = -1;
        for (int i = 0; i < k; i++)
        {
            if (rho[i] > 1 + tolerance)
            {
                unstable = i;
                break;
            }
        }

        int enter = -1;
        if (unstable >= 0)
        {
            int lastAbove = -1;
            for (int i = 0; i < k; i++)
            {
                if (!(rho[i] < 1))
                {
                    lastAbove = i;
                }
            }

            enter = lastAbove + 1 < k ? lastAbove + 1 : -1;
        }

        int w = Math.Max(1, k / 100), plateau = -1, peakAt = -1;
        double peak = 0;
        for (int i = w; i < k; i++)
        {
            double r = (loss[i - w] - loss[i]) / (w * Math.Abs(loss[i - w]));
            if (!double.IsFinite(r))
            {
                continue;
            }

            if (r > peak)
            {
                peak = r;
                peakAt = i;
            }
            else if (peakAt >= 0 && r < 0.1 * peak)
            {
                plateau = i;
                break;
            }
        }

        int third = -1;
        if (enter >= 0)
        {
            double start = lambda3[enter], max = start;
            for (int i = enter; i < k; i++)
            {
                max = Math.Max(max, lambda3[i]);
            }

            if (max > start)
            {
                for (int i = enter; i < k; i++)
                {
                    if (lambda3[i] >= start + 0.5 * (max - start))
                    {
                        third = i;
                        break;
                    }
                }
            }
        }

        return new ClosedLoopStages(unstable, plateau, enter, third);
    }

    /// <summary>Detects the stages of one agent's records of one mode (loss, ρ(P) and |λ₃| of each record).</summary>
    public static ClosedLoopStages Detect(IReadOnlyList<StepRecord> records, double tolerance = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(records);
        return Detect(records.Select(r => r.Loss).ToArray(), records.Select(r => r.Rho).ToArray(), records.Select(r => r.ThirdEigenvalue).ToArray(), tolerance);
    }

    /// <summary>What each stage looked like in one agent's records, given its stages as record indices.</summary>
    /// <remarks>
    /// Stage 1 = records [UnstableFrom, PlateauStart), stage 2 (plateau) = [PlateauStart, EnterUnitCircle), stage 3 =
    /// [EnterUnitCircle, K). Medians of the conflict angle and means of the zig-zag fraction skip NaN; a stage that was
    /// not found gives NaN.
    /// </remarks>
    public static StageStatistics Statistics(IReadOnlyList<StepRecord> records, ClosedLoopStages stages)
    {
        ArgumentNullException.ThrowIfNull(records);
        int k = records.Count;
        IEnumerable<StepRecord> Range(int from, int to) => from >= 0 && to > from ? records.Skip(from).Take(Math.Min(to, k) - from) : [];
        static double Median(IEnumerable<double> v)
        {
            var a = v.Where(double.IsFinite).Order().ToArray();
            return a.Length == 0 ? double.NaN : a.Length % 2 == 1 ? a[a.Length / 2] : 0.5 * (a[a.Length / 2 - 1] + a[a.Length / 2]);
        }

        static double Mean(IEnumerable<double> v)
        {
            var a = v.Where(double.IsFinite).ToArray();
            return a.Length == 0 ? double.NaN : a.Average();
        }

        var plateau = Range(stages.PlateauStart, stages.EnterUnitCircle).ToArray();
        var refine = Range(stages.EnterUnitCircle, k).ToArray();
        int peak = -1;
        for (int i = 0; i < k; i++)
        {
            if (double.IsFinite(records[i].Rho) && (peak < 0 || records[i].Rho > records[peak].Rho))
            {
                peak = i;
            }
        }

        return new StageStatistics(
            peak >= 0 ? records[peak].Rho : double.NaN,
            peak,
            Median(plateau.Select(r => r.ConflictDegrees)),
            Median(refine.Select(r => r.ConflictDegrees)),
            Mean(plateau.Select(r => r.ZigZag)),
            Mean(refine.Select(r => r.ZigZag)),
            stages.EnterUnitCircle >= 0 ? records[stages.EnterUnitCircle].ThirdEigenvalue : double.NaN,
            k > 0 ? records[^1].ThirdEigenvalue : double.NaN);
    }
}

/// <summary>Per-stage numbers of one agent's closed-loop run (see <see cref="StageDetector.Statistics"/>).</summary>
/// <param name="MaxRho">The largest ρ(P) recorded.</param>
/// <param name="MaxRhoAt">The record index where it was reached.</param>
/// <param name="PlateauConflictDegrees">Median short- versus long-horizon gradient angle during the plateau (degrees).</param>
/// <param name="RefinementConflictDegrees">The same during refinement (stage 3).</param>
/// <param name="PlateauZigZag">Mean fraction of anti-parallel consecutive updates during the plateau.</param>
/// <param name="RefinementZigZag">The same during refinement.</param>
/// <param name="ThirdEigenvalueAtEntry">|λ₃| when ρ(P) enters the unit circle.</param>
/// <param name="ThirdEigenvalueFinal">|λ₃| at the last record.</param>
public readonly record struct StageStatistics(double MaxRho, int MaxRhoAt, double PlateauConflictDegrees, double RefinementConflictDegrees,
    double PlateauZigZag, double RefinementZigZag, double ThirdEigenvalueAtEntry, double ThirdEigenvalueFinal);
