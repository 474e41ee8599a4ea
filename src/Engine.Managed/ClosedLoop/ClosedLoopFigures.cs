using Engine.Plotting;
using Engine.Tasks.Control;
using ScottPlot;

namespace Engine.ClosedLoop;

/// <summary>The closed-loop figures: loss with stage boundaries, eigenvalues in the complex plane, feedback gains.</summary>
public static class ClosedLoopFigures
{
    /// <summary>
    /// Three stacked panels over training steps for one agent: the closed-loop control loss (log scale; per step when
    /// <paramref name="perStepLoss"/> is given), ρ(P) and |λ₃| against the unit circle, and the short- versus long-horizon
    /// gradient angle. The closed run's three stages are shaded and labelled in every panel; an open-loop run (if recorded)
    /// is drawn in orange for comparison.
    /// </summary>
    /// <remarks>Stage spans (steps): 1 = [unstable-from, plateau start), 2 = [plateau start, entry into the unit circle), 3 = [entry, end].</remarks>
    public static void LossWithStages(IReadOnlyList<StepRecord> records, int agent, ClosedLoopStages stages, string pngPath, string title,
        IReadOnlyList<double>? perStepLoss = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        Figures.EnsureFonts();
        var closed = records.Where(r => r.Mode == "closed" && r.Agent == agent).ToArray();
        var open = records.Where(r => r.Mode == "open" && r.Agent == agent).ToArray();
        double last = records.Count == 0 ? 1 : records.Where(r => r.Agent == agent).Select(r => (double)r.Step).DefaultIfEmpty(1).Max();
        var spans = new List<(double From, double To, string Label, Color Color)>();
        if (stages.UnstableFrom >= 0)
        {
            double end = stages.PlateauStart > stages.UnstableFrom ? stages.PlateauStart : stages.EnterUnitCircle >= 0 ? stages.EnterUnitCircle : last;
            spans.Add((stages.UnstableFrom, end, "1: unstable policy, ρ(P) > 1", Colors.Red));
        }

        if (stages.PlateauStart >= 0 && stages.EnterUnitCircle > stages.PlateauStart)
        {
            spans.Add((stages.PlateauStart, stages.EnterUnitCircle, "2: plateau (gradients conflict)", Colors.DarkOrange));
        }

        if (stages.EnterUnitCircle >= 0)
        {
            spans.Add((stages.EnterUnitCircle, last, "3: refinement (|λ3| grows)", Colors.Green));
        }

        void Shade(Plot plot, bool label)
        {
            foreach (var (from, to, text, color) in spans)
            {
                var sp = plot.Add.HorizontalSpan(from, Math.Max(to, from + 1e-9));
                sp.FillStyle.Color = color.WithAlpha(0.08);
                sp.LineStyle.Width = 0;
                if (label)
                {
                    sp.LegendText = $"{text}: steps {from:0}–{to:0}";
                }
            }

            foreach (var (step, color) in new[] { (stages.PlateauStart, Colors.DarkOrange), (stages.EnterUnitCircle, Colors.Green), (stages.ThirdEigenvalueGrowth, Colors.Purple) })
            {
                if (step >= 0)
                {
                    var v = plot.Add.VerticalLine(step);
                    v.Color = color;
                    v.LineWidth = 1.5f;
                    v.LinePattern = LinePattern.Dashed;
                }
            }
        }

        // panel 1: loss
        var p1 = new Plot();
        Shade(p1, label: true);
        if (perStepLoss is { Count: > 0 })
        {
            var ok = Enumerable.Range(0, perStepLoss.Count).Where(i => perStepLoss[i] > 0 && double.IsFinite(perStepLoss[i])).ToArray();
            var l = p1.Add.ScatterLine(ok.Select(i => (double)i).ToArray(), ok.Select(i => Math.Log10(perStepLoss[i])).ToArray());
            l.Color = Colors.C0;
            l.LineWidth = 1;
            l.LegendText = "closed-loop control loss (every step)";
        }
        else
        {
            AddLine(p1, closed, r => r.ControlLoss > 0 ? Math.Log10(r.ControlLoss) : double.NaN, Colors.C0, "closed-loop control loss");
        }

        AddLine(p1, open, r => r.ControlLoss > 0 ? Math.Log10(r.ControlLoss) : double.NaN, Colors.C1, "open-loop student: control loss");
        Figures.UseLog10Ticks(p1.Axes.Left);
        p1.YLabel("control loss (log)");
        p1.Title(title);
        p1.ShowLegend(Alignment.UpperRight);

        // panel 2: ρ(P), zoomed on the closed run so that the stage-1 excursion above 1 is visible
        var p2 = new Plot();
        Shade(p2, label: false);
        var one = p2.Add.HorizontalLine(1);
        one.Color = Colors.Gray;
        one.LinePattern = LinePattern.Dashed;
        one.LegendText = "ρ = 1 (unit circle)";
        var cr = closed.Where(r => double.IsFinite(r.Rho)).ToArray();
        var or = open.Where(r => double.IsFinite(r.Rho)).ToArray();
        string MaxOf(StepRecord[] rs) => rs.Length == 0 ? "" : $", max {rs.Max(r => r.Rho):F4} at step {rs.MaxBy(r => r.Rho)!.Step}";
        AddLine(p2, cr, r => r.Rho, Colors.C0, $"closed: ρ(P){MaxOf(cr)}");
        AddLine(p2, or, r => r.Rho, Colors.C1, $"open: ρ(P){MaxOf(or)}");
        double hi = cr.Select(r => r.Rho).DefaultIfEmpty(1).Max(), lo = cr.Select(r => r.Rho).DefaultIfEmpty(1).Min();
        p2.Axes.SetLimitsY(Math.Min(lo, 1) - 0.1 * (Math.Max(hi, 1) - Math.Min(lo, 1) + 1e-3), Math.Max(hi, 1) + 0.15 * (Math.Max(hi, 1) - Math.Min(lo, 1) + 1e-3));
        p2.YLabel("ρ(P)");
        p2.ShowLegend(Alignment.LowerLeft);

        // panel 3: the third eigenvalue
        var p3 = new Plot();
        Shade(p3, label: false);
        AddLine(p3, closed, r => r.ThirdEigenvalue, Colors.Purple, "closed: |λ3| (largest outside the leading complex pair)");
        AddLine(p3, open, r => r.ThirdEigenvalue, Colors.C1, "open: |λ3|");
        p3.Axes.SetLimitsY(-0.05, 1.05);
        p3.YLabel("|λ3|");
        p3.ShowLegend(Alignment.UpperLeft);

        // panel 4: conflict angle and zig-zag
        var p4 = new Plot();
        Shade(p4, label: false);
        var ninety = p4.Add.HorizontalLine(90);
        ninety.Color = Colors.Gray;
        ninety.LinePattern = LinePattern.Dashed;
        ninety.LegendText = "90°";
        AddLine(p4, closed, r => r.ConflictDegrees, Colors.C0, "closed: angle between short- and full-horizon gradients (left)");
        var zz = closed.Where(r => double.IsFinite(r.ZigZag)).ToArray();
        if (zz.Length > 0)
        {
            var z = p4.Add.ScatterLine(zz.Select(r => (double)r.Step).ToArray(), zz.Select(r => r.ZigZag).ToArray());
            z.Axes.YAxis = p4.Axes.Right;
            z.Color = Colors.Gray;
            z.LinePattern = LinePattern.Dotted;
            z.LineWidth = 2;
            z.LegendText = "closed: zig-zag, share of anti-parallel consecutive updates (right)";
        }

        p4.Axes.SetLimitsY(-5, 185);
        p4.Axes.SetLimitsY(-0.03, 1.03, p4.Axes.Right);
        p4.Axes.Right.Label.Text = "zig-zag share";
        p4.YLabel("angle (degrees)");
        p4.XLabel("training step");
        p4.ShowLegend(Alignment.LowerLeft);

        var mp = new Multiplot();
        mp.Reset(p1);
        mp.AddPlot(p2);
        mp.AddPlot(p3);
        mp.AddPlot(p4);
        mp.SharedAxes.ShareX([p1, p2, p3, p4]);
        foreach (var p in new[] { p1, p2, p3, p4 })
        {
            p.Axes.SetLimitsX(0, last);
            p.Axes.Left.MinimumSize = 70;
            p.Axes.Right.MinimumSize = 70;
        }

        var bytes = mp.Render(1100, 1400).GetImageBytes(ImageFormat.Png, 100);
        IO.AtomicFile.Write(pngPath, st => st.Write(bytes));
    }

    /// <summary>The tracking loss of each frequency alone (log scale) over training, with the step where each was acquired.</summary>
    /// <remarks>Frequency k's curve is L_k(step) = the closed-loop loss on <see cref="TrackingTask.Only"/>(k); acquired = half of its fall (<see cref="FrequencyAcquisition"/>).</remarks>
    public static void FrequencyLosses(IReadOnlyList<int> steps, IReadOnlyList<double[]> curves, IReadOnlyList<double> frequencies, IReadOnlyList<int> acquiredAt,
        IReadOnlyList<double>? total, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(curves);
        ArgumentNullException.ThrowIfNull(frequencies);
        ArgumentNullException.ThrowIfNull(acquiredAt);
        var plot = Figures.NewPlot();
        Color[] palette = [Colors.C0, Colors.C1, Colors.C2, Colors.C3, Colors.C4, Colors.C5, Colors.C6, Colors.C7];
        if (total is not null)
        {
            var ok = Enumerable.Range(0, Math.Min(total.Count, steps.Count)).Where(i => total[i] > 0 && double.IsFinite(total[i])).ToArray();
            var t = plot.Add.ScatterLine(ok.Select(i => (double)steps[i]).ToArray(), ok.Select(i => Math.Log10(total[i])).ToArray());
            t.Color = Colors.Black;
            t.LineWidth = 2.5f;
            t.LegendText = "all frequencies (training loss)";
        }

        for (int k = 0; k < curves.Count; k++)
        {
            var c = curves[k];
            var color = palette[k % palette.Length];
            var ok = Enumerable.Range(0, Math.Min(c.Length, steps.Count)).Where(i => c[i] > 0 && double.IsFinite(c[i])).ToArray();
            var l = plot.Add.ScatterLine(ok.Select(i => (double)steps[i]).ToArray(), ok.Select(i => Math.Log10(c[i])).ToArray());
            l.Color = color;
            l.LineWidth = 2;
            l.LegendText = $"ω = {frequencies[k]:G3} rad/step" + (acquiredAt[k] >= 0 ? $", acquired at step {acquiredAt[k]}" : ", not acquired");
            if (acquiredAt[k] >= 0)
            {
                var v = plot.Add.VerticalLine(acquiredAt[k]);
                v.Color = color;
                v.LinePattern = LinePattern.Dashed;
                v.LineWidth = 1.5f;
            }
        }

        Figures.UseLog10Ticks(plot.Axes.Left);
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title(title);
        plot.XLabel("training step");
        plot.YLabel("tracking loss of each frequency alone (log)");
        Figures.SavePng(plot, pngPath, 1000, 600);
    }

    private static void AddLine(Plot plot, StepRecord[] rs, Func<StepRecord, double> y, Color color, string label, LinePattern? pattern = null)
    {
        var ok = rs.Where(r => double.IsFinite(y(r))).ToArray();
        if (ok.Length == 0)
        {
            return;
        }

        var l = plot.Add.ScatterLine(ok.Select(r => (double)r.Step).ToArray(), ok.Select(y).ToArray());
        l.Color = color;
        l.LineWidth = 2;
        l.LinePattern = pattern ?? LinePattern.Solid;
        l.LegendText = label;
    }

    /// <summary>The leading eigenvalues of P over training in the complex plane (colour = step), with the unit circle.</summary>
    public static void EigenvalueTrajectories(IReadOnlyList<StepRecord> records, int agent, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(records);
        var plot = Figures.NewPlot();
        var circle = plot.Add.Circle(0, 0, 1);
        circle.LineColor = Colors.Black;
        circle.LineStyle.Pattern = LinePattern.Dashed;
        circle.LegendText = "unit circle";
        int maxStep = Math.Max(1, records.Count == 0 ? 1 : records.Max(r => r.Step));
        var cmap = new ScottPlot.Colormaps.Viridis();
        foreach (var (mode, shape) in new[] { ("closed", MarkerShape.FilledCircle), ("open", MarkerShape.OpenSquare) })
        {
            var rs = records.Where(r => r.Mode == mode && r.Agent == agent).ToArray();
            bool first = true;
            foreach (var r in rs)
            {
                var c = cmap.GetColor(r.Step / (double)maxStep);
                var m = plot.Add.Markers(r.Eigenvalues.Select(e => e.Real).ToArray(), r.Eigenvalues.Select(e => e.Imaginary).ToArray(), shape, 5, c);
                if (first)
                {
                    m.LegendText = $"{mode}-loop eigenvalues (early purple → late yellow)";
                    first = false;
                }
            }
        }

        plot.Axes.SquareUnits();
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Title(title);
        plot.XLabel("Re λ");
        plot.YLabel("Im λ");
        Figures.SavePng(plot, pngPath, 800, 800);
    }

    /// <summary>The trajectory of the feedback gains (k1, k2) over training, per mode, with start and end marked.</summary>
    public static void Gains(IReadOnlyList<StepRecord> records, int agent, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(records);
        var plot = Figures.NewPlot();
        foreach (var (mode, color) in new[] { ("closed", Colors.C0), ("open", Colors.C1) })
        {
            var rs = records.Where(r => r.Mode == mode && r.Agent == agent && double.IsFinite(r.K1) && double.IsFinite(r.K2)).ToArray();
            if (rs.Length == 0)
            {
                continue;
            }

            var s = plot.Add.ScatterLine(rs.Select(r => r.K1).ToArray(), rs.Select(r => r.K2).ToArray());
            s.Color = color;
            s.LineWidth = 2;
            s.LegendText = $"{mode}-loop";
            var start = plot.Add.Marker(rs[0].K1, rs[0].K2, MarkerShape.OpenCircle, 12, color);
            start.LegendText = $"{mode} start";
            var end = plot.Add.Marker(rs[^1].K1, rs[^1].K2, MarkerShape.FilledSquare, 10, color);
            end.LegendText = $"{mode} end";
        }

        plot.ShowLegend(Alignment.UpperLeft);
        plot.Title(title);
        plot.XLabel("k1 (position gain)");
        plot.YLabel("k2 (velocity gain)");
        Figures.SavePng(plot, pngPath, 800, 700);
    }
}
