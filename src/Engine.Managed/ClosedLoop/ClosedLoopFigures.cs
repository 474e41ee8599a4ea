using Engine.Plotting;
using ScottPlot;

namespace Engine.ClosedLoop;

/// <summary>The closed-loop figures: loss with stage boundaries, eigenvalues in the complex plane, feedback gains.</summary>
public static class ClosedLoopFigures
{
    /// <summary>log10 loss (left axis) and ρ(P) (right axis) of one agent per mode, with the stage boundaries of the closed run.</summary>
    public static void LossWithStages(IReadOnlyList<StepRecord> records, int agent, ClosedLoopStages stages, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(records);
        var plot = Figures.NewPlot();
        foreach (var (mode, color) in new[] { ("closed", Colors.C0), ("open", Colors.C1) })
        {
            var rs = records.Where(r => r.Mode == mode && r.Agent == agent && r.ControlLoss > 0 && double.IsFinite(r.ControlLoss)).ToArray();
            if (rs.Length == 0)
            {
                continue;
            }

            var l = plot.Add.ScatterLine(rs.Select(r => (double)r.Step).ToArray(), rs.Select(r => Math.Log10(r.ControlLoss)).ToArray());
            l.Color = color;
            l.LineWidth = 2;
            l.LegendText = $"{mode}-loop: control loss";
            var rr = rs.Where(r => double.IsFinite(r.Rho)).ToArray();
            var rho = plot.Add.ScatterLine(rr.Select(r => (double)r.Step).ToArray(), rr.Select(r => r.Rho).ToArray());
            rho.Axes.YAxis = plot.Axes.Right;
            rho.Color = color.WithAlpha(0.7);
            rho.LinePattern = LinePattern.Dotted;
            rho.LineWidth = 2;
            rho.LegendText = $"{mode}-loop: ρ(P) (right axis)";
        }

        var one = plot.Add.HorizontalLine(1);
        one.Axes.YAxis = plot.Axes.Right;
        one.Color = Colors.Gray;
        one.LinePattern = LinePattern.Dashed;
        foreach (var (step, label, color) in new[]
                 {
                     (stages.PlateauStart, "plateau starts", Colors.DarkOrange),
                     (stages.EnterUnitCircle, "ρ(P) < 1", Colors.Green),
                     (stages.ThirdEigenvalueGrowth, "|λ3| grows", Colors.Purple),
                 })
        {
            if (step >= 0)
            {
                var v = plot.Add.VerticalLine(step);
                v.Color = color;
                v.LineWidth = 1.5f;
                v.LegendText = $"{label} (step {step})";
            }
        }

        Figures.UseLog10Ticks(plot.Axes.Left);
        plot.Axes.Right.Label.Text = "ρ(P)";
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title(title);
        plot.XLabel("training step");
        plot.YLabel("closed-loop loss (log scale)");
        Figures.SavePng(plot, pngPath, 1000, 600);
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
