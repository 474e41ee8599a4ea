namespace Engine.ClosedLoop;

/// <summary>The three stages of closed-loop learning found in one agent's training record (indices into the record; −1 = not seen).</summary>
/// <param name="UnstableFrom">First step with ρ(P) &gt; 1 (stage 1: an unstable, myopic policy).</param>
/// <param name="PlateauStart">First step after the initial fall where the loss's smoothed relative decrease per step drops below 10% of its peak (stage 2).</param>
/// <param name="EnterUnitCircle">First step after which ρ(P) stays below 1, having been above it (end of stage 2).</param>
/// <param name="ThirdEigenvalueGrowth">First step after the entry where |λ₃| has covered half of its rise to its later maximum (stage 3: refinement).</param>
public readonly record struct ClosedLoopStages(int UnstableFrom, int PlateauStart, int EnterUnitCircle, int ThirdEigenvalueGrowth);

/// <summary>Finds the stages of Ger &amp; Barak's closed-loop learning in a per-step record of loss, ρ(P) and |λ₃|.</summary>
/// <remarks>
/// Heuristics, stated so that they can be checked: the relative decrease r_k = (L_{k−w} − L_k) / (w L_{k−w}) is
/// smoothed over w = max(1, K/100) steps; the plateau starts at the first k past the peak of r where r_k &lt; 0.1 max r.
/// </remarks>
public static class StageDetector
{
    /// <summary>Detects the stages; all three arrays have one entry per recorded step.</summary>
    public static ClosedLoopStages Detect(IReadOnlyList<double> loss, IReadOnlyList<double> rho, IReadOnlyList<double> lambda3)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(rho);
        ArgumentNullException.ThrowIfNull(lambda3);
        int k = Math.Min(loss.Count, Math.Min(rho.Count, lambda3.Count));
        int unstable = -1;
        for (int i = 0; i < k; i++)
        {
            if (rho[i] > 1)
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
}
