using System.Globalization;
using System.Text;
using Engine.IO;
using Engine.Plotting;

namespace Engine.Analysis.WorkingMemory;

/// <summary>Writes a working-memory analysis of one or more runs (the conditions of the 2 × 2 design): CSV, JSON, .npy and PNGs.</summary>
/// <remarks>
/// Files: <c>wm.csv</c> (run, condition, delay, bin, θ, SD, bias, trials; angles in degrees), <c>wm_contrasts.csv</c> (per run
/// and delay: mean SD, oblique − cardinal SD, low − high reward SD, mean |bias|), <c>wm.json</c> (settings, per-run summary,
/// left-out networks), <c>run_i_network_sd.npy</c> float64 [E'][D][K] (radians); figures <c>run_i_sd.png</c> and
/// <c>run_i_bias.png</c> (against orientation, one line per delay), <c>contrast_cardinal.png</c> and
/// <c>contrast_reward.png</c> (against delay, one line per run).
/// </remarks>
public static class OrientationMemoryFiles
{
    private const double Deg = 180 / Math.PI;

    /// <summary>Writes every file; <paramref name="pathOf"/> maps a file name to its path (e.g. inside an output stage).</summary>
    public static void Write(IReadOnlyList<OrientationMemoryResult> results, OrientationMemoryOptions options, Func<string, string> pathOf, IReadOnlyDictionary<string, object>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pathOf);
        var csv = new StringBuilder("run,condition,delay,bin,theta_deg,sd_deg,bias_deg,trials\n");
        var contrasts = new StringBuilder("run,condition,delay,mean_sd_deg,oblique_minus_cardinal_deg,low_minus_high_reward_deg,reward_region,mean_abs_bias_deg\n");
        var runs = new List<object>();
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            int trials = r.Networks.Length * options.Repeats;
            for (int d = 0; d < r.Delays.Length; d++)
            {
                for (int k = 0; k < r.Bins; k++)
                {
                    csv.Append(CultureInfo.InvariantCulture,
                        $"{i},{r.Task.Condition},{r.Delays[d]},{k},{r.Centre(k) * Deg:R},{r.Sd[d * r.Bins + k] * Deg:R},{r.Bias[d * r.Bins + k] * Deg:R},{trials}\n");
                }
            }

            double[] card = r.CardinalContrast, reward = r.RewardContrast, absBias = r.MeanAbsBias, meanSd = r.MeanSd;
            string region = r.RewardFromTask ? "task" : "oblique-control";
            for (int d = 0; d < r.Delays.Length; d++)
            {
                contrasts.Append(CultureInfo.InvariantCulture,
                    $"{i},{r.Task.Condition},{r.Delays[d]},{meanSd[d] * Deg:R},{card[d] * Deg:R},{reward[d] * Deg:R},{region},{absBias[d] * Deg:R}\n");
            }

            Npy.Write(pathOf($"run_{i}_network_sd.npy"), r.NetworkSd, r.Networks.Length, r.Delays.Length, r.Bins);
            SdFigure(r, pathOf($"run_{i}_sd.png"), bias: false);
            SdFigure(r, pathOf($"run_{i}_bias.png"), bias: true);
            runs.Add(new
            {
                run = i, source = r.Source, condition = r.Task.Condition, task = r.Task.Settings, width = r.Width, noise = r.Noise,
                networks = r.Networks, left_out = r.LeftOut.Select(l => new { network = l.Network, status = NetworkHealth.DivergedName, reason = l.Reason }),
                delays = r.Delays, reward_region = region,
                mean_sd_deg = meanSd.Select(v => JsonOutput.Finite(v * Deg)),
                oblique_minus_cardinal_deg = card.Select(v => JsonOutput.Finite(v * Deg)),
                low_minus_high_reward_deg = reward.Select(v => JsonOutput.Finite(v * Deg)),
                mean_abs_bias_deg = absBias.Select(v => JsonOutput.Finite(v * Deg)),
            });
        }

        AtomicFile.WriteText(pathOf("wm.csv"), csv.ToString());
        AtomicFile.WriteText(pathOf("wm_contrasts.csv"), contrasts.ToString());
        ContrastFigure(results, r => r.CardinalContrast, pathOf("contrast_cardinal.png"), "SD(oblique) − SD(cardinal) (deg)", "Prior effect: oblique − cardinal variability against delay");
        ContrastFigure(results, r => r.RewardContrast, pathOf("contrast_reward.png"), "SD(low reward) − SD(high reward) (deg)", "Reward effect: low − high reward variability against delay");
        JsonOutput.Write(pathOf("wm.json"), new
        {
            analysis = "wm-orientation report errors (SEEDS §7)", bins = options.Bins, repeats = options.Repeats, seed = options.Seed,
            formulas = "e = wrap(theta_hat - theta) to (-90, 90] deg; bias = 0.5 arg E[exp(2ie)]; SD = 0.5 sqrt(-2 ln |E[exp(2ie)]|); errors of every healthy network pooled per (delay, bin)",
            extra, runs,
        });
    }

    private static void SdFigure(OrientationMemoryResult r, string path, bool bias)
    {
        var plot = Figures.NewPlot();
        var x = Enumerable.Range(0, r.Bins).Select(k => r.Centre(k) * Deg).ToArray();
        for (int d = 0; d < r.Delays.Length; d++)
        {
            var src = bias ? r.Bias : r.Sd;
            var y = Enumerable.Range(0, r.Bins).Select(k => src[d * r.Bins + k] * Deg).ToArray();
            var line = plot.Add.Scatter(x, y);
            line.Color = ScottPlot.Colors.Category10[d % 10];
            line.LegendText = $"delay {r.Delays[d]} steps";
        }

        plot.Axes.Bottom.Label.Text = "orientation θ (deg)";
        plot.Axes.Left.Label.Text = bias ? "bias (deg)" : "SD (deg)";
        plot.Title($"{r.Task.Condition}, N = {r.Width}, σ = {r.Noise:G3}: {(bias ? "bias" : "variability")} against orientation");
        plot.ShowLegend();
        Figures.SavePng(plot, path);
    }

    private static void ContrastFigure(IReadOnlyList<OrientationMemoryResult> results, Func<OrientationMemoryResult, double[]> value, string path, string label, string title)
    {
        var plot = Figures.NewPlot();
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var line = plot.Add.Scatter(r.Delays.Select(v => (double)v).ToArray(), value(r).Select(v => v * Deg).ToArray());
            line.Color = ScottPlot.Colors.Category10[i % 10];
            line.LegendText = $"{i}: {r.Task.Condition}";
        }

        plot.Axes.Bottom.Label.Text = "delay (steps)";
        plot.Axes.Left.Label.Text = label;
        plot.Title(title);
        plot.ShowLegend();
        Figures.SavePng(plot, path);
    }
}
