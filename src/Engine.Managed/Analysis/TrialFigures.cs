using Engine.Model;
using Engine.Plotting;

namespace Engine.Analysis;

/// <summary>Example trials: targets against network outputs.</summary>
public static class TrialFigures
{
    /// <summary>
    /// Up to <paramref name="maxTrials"/> trials of network <paramref name="network"/> laid end to end (separated by dotted
    /// lines), up to three output channels: targets as dots where the mask scores them, outputs as lines.
    /// </summary>
    public static void Examples(TrialBatch batch, ReadOnlySpan<float> outputs, int network, string pngPath, string title, int maxTrials = 3)
    {
        int trials = Math.Min(maxTrials, batch.Trials), steps = batch.Steps, no = batch.OutputSize, set = batch.SetOf(network);
        int channels = Math.Min(3, no), gap = Math.Max(2, steps / 10);
        int per = batch.Trials * steps * no;
        var plot = Figures.NewPlot();
        for (int c = 0; c < channels; c++)
        {
            var color = ScottPlot.Colors.Category10[c];
            for (int b = 0; b < trials; b++)
            {
                int x0 = b * (steps + gap);
                var tx = new List<double>();
                var ty = new List<double>();
                var ox = new double[steps];
                var oy = new double[steps];
                for (int t = 0; t < steps; t++)
                {
                    int k = (b * steps + t) * no + c;
                    ox[t] = x0 + t;
                    oy[t] = outputs[network * per + k];
                    if (batch.Mask[set * per + k] > 0)
                    {
                        tx.Add(x0 + t);
                        ty.Add(batch.Targets[set * per + k]);
                    }
                }

                var target = plot.Add.ScatterPoints(tx.ToArray(), ty.ToArray());
                target.Color = color.WithAlpha(0.45);
                target.MarkerSize = 4;
                var output = plot.Add.ScatterLine(ox, oy);
                output.Color = color;
                output.LineWidth = 1.5f;
                if (b == 0)
                {
                    target.LegendText = $"target {c}";
                    output.LegendText = $"output {c}";
                }
            }
        }

        for (int b = 1; b < trials; b++)
        {
            var line = plot.Add.VerticalLine(b * (steps + gap) - gap / 2.0);
            line.Color = ScottPlot.Colors.Gray;
            line.LinePattern = ScottPlot.LinePattern.Dotted;
        }

        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.Title(title);
        plot.XLabel($"step ({trials} trials of {steps} steps, end to end)");
        Figures.SavePng(plot, pngPath, 1100, 450);
    }
}
