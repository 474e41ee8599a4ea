namespace Engine.ClosedLoop;

/// <summary>One fall of a stepwise loss curve: where it starts and ends (training steps) and the loss either side.</summary>
/// <param name="StartStep">First recorded step of the fall.</param>
/// <param name="EndStep">Last recorded step of the fall.</param>
/// <param name="LossBefore">The loss a window before the start.</param>
/// <param name="LossAfter">The loss a window after the end.</param>
public readonly record struct LossDrop(int StartStep, int EndStep, double LossBefore, double LossAfter)
{
    /// <summary>The fraction of the loss the fall removed, 1 − after / before.</summary>
    public double Fraction => 1 - LossAfter / LossBefore;
}

/// <summary>Finds the falls of a loss curve that drops in steps (fast falls separated by plateaus).</summary>
/// <remarks>
/// On the log loss y_k of K records, with a window of w = max(1, round(f K)) records (f = <c>window</c>, default 2%):
/// record k is falling when y_{k−w} − y_{k+w} &gt; ln(1 / (1 − r)) (the loss fell by more than r = <c>rate</c>,
/// default 5%, across 2w records). Falling records closer than 2w apart merge into one fall; a fall counts when it
/// removed at least <c>minFraction</c> (default 10%) of the loss (from y_{start−w} to y_{end+w}). Between two
/// counted falls lie more than 2w non-falling records (a plateau), so two falls are two steps. The first fall is
/// usually the initial transient from the untrained agent.
/// </remarks>
public static class LossSteps
{
    /// <summary>The falls of <paramref name="loss"/> recorded at <paramref name="steps"/> (the finite prefix is used).</summary>
    public static IReadOnlyList<LossDrop> Detect(IReadOnlyList<int> steps, IReadOnlyList<double> loss, double window = 0.02, double rate = 0.05,
        double minFraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(loss);
        Util.Guard.InRange(window, 1e-6, 0.5, "window");
        Util.Guard.InRange(rate, 1e-9, 0.999, "rate");
        Util.Guard.InRange(minFraction, 0, 0.999, "min fraction");
        int k = Math.Min(steps.Count, loss.Count);
        int finite = 0;
        while (finite < k && double.IsFinite(loss[finite]) && loss[finite] > 0)
        {
            finite++;
        }

        var y = new double[finite];
        for (int i = 0; i < finite; i++)
        {
            y[i] = Math.Log(loss[i]);
        }

        int w = Math.Max(1, (int)Math.Round(window * finite));
        double threshold = Math.Log(1 / (1 - rate));
        var drops = new List<LossDrop>();
        int start = -1, last = -1;
        void Close()
        {
            if (start < 0)
            {
                return;
            }

            int before = Math.Max(0, start - w), after = Math.Min(finite - 1, last + w);
            var d = new LossDrop(steps[start], steps[last], loss[before], loss[after]);
            if (d.Fraction >= minFraction)
            {
                drops.Add(d);
            }

            start = -1;
        }

        for (int i = 0; i < finite; i++)
        {
            double fall = y[Math.Max(0, i - w)] - y[Math.Min(finite - 1, i + w)];
            if (fall > threshold)
            {
                if (start >= 0 && i - last > 2 * w)
                {
                    Close();
                }

                if (start < 0)
                {
                    start = i;
                }

                last = i;
            }
        }

        Close();
        return drops;
    }
}
