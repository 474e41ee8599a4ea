using System.Globalization;
using Engine.IO;
using Engine.Plotting;
using Engine.Util;

namespace Engine.FixedPointRnn;

/// <summary>One network at one iteration setting and one test length.</summary>
/// <param name="Network">The network.</param>
/// <param name="Iterations">"K" or "converged".</param>
/// <param name="Length">Test sequence length.</param>
/// <param name="SequenceAccuracy">Share of test sequences with every scored position right.</param>
/// <param name="Accuracy">Share of scored positions right.</param>
/// <param name="IterationsRun">Depth iterations the forward pass ran.</param>
/// <param name="IterationStatus">How the iteration ended (converged / max_iterations / nonfinite).</param>
public sealed record FpEvalRow(int Network, string Iterations, int Length, double SequenceAccuracy, double Accuracy, int IterationsRun, string IterationStatus);

/// <summary>Length generalisation: accuracy of every network against test length × iteration setting, with CSV, JSON and PNG outputs.</summary>
/// <remarks>
/// Test sequences for length L come from <c>Rng.For(seed, EvalStream, L)</c>, the same for every network and setting, disjoint
/// from the training stream. Networks run in parallel on the float32 path; results do not depend on the thread count.
/// </remarks>
public static class FpRnnEvaluation
{
    /// <summary>Evaluates every network that did not diverge.</summary>
    public static IReadOnlyList<FpEvalRow> Run(FpRnnEnsemble ensemble, IReadOnlyList<int> lengths, IReadOnlyList<FpIteration> settings, int trials, long seed, int threads)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(settings);
        Guard.AtLeast(trials, 1, "trials");
        Guard.AtLeast(lengths.Count, 1, "lengths (count)");
        Guard.AtLeast(settings.Count, 1, "iterations (count)");
        foreach (int l in lengths)
        {
            Guard.AtLeast(l, ensemble.Task.MinLength, "lengths");
        }

        foreach (var s in settings)
        {
            s.Validate();
        }

        var batches = lengths.Select(l =>
        {
            var tokens = new int[trials * l];
            var targets = new int[trials * l];
            ensemble.Task.Generate(Rng.For(seed, Rng.EvalStream, l), trials, l, tokens, targets);
            return (l, tokens, targets);
        }).ToArray();
        var nets = Enumerable.Range(0, ensemble.Spec.Networks).Where(e => ensemble.Status[e] != FpNetworkStatus.Diverged).ToArray();
        var rows = new FpEvalRow[nets.Length][];
        Parallelism.For(nets.Length, threads, k =>
        {
            int e = nets[k];
            var core = new FpRnnCore<float>(ensemble.Spec);
            var list = new List<FpEvalRow>();
            foreach (var s in settings)
            {
                foreach (var (l, tokens, targets) in batches)
                {
                    core.Forward(ensemble.Network(e), tokens, trials, l, s, keepIterates: false);
                    var (_, correct, scored, right) = core.Loss(ensemble.Network(e), targets, Span<float>.Empty);
                    bool bad = core.Status == FpStatus.NonFinite;
                    list.Add(new FpEvalRow(e, s.Label, l, bad ? 0 : (double)right / trials, bad ? 0 : (double)correct / Math.Max(1, scored), core.IterationsRun,
                        core.Status switch { FpStatus.Converged => "converged", FpStatus.MaxIterations => "max_iterations", _ => "nonfinite" }));
                }
            }

            rows[k] = list.ToArray();
        });
        return rows.SelectMany(r => r).ToArray();
    }

    /// <summary>Mean over networks per (setting, length), in input order.</summary>
    public static IReadOnlyList<(string Iterations, int Length, double SequenceAccuracy, double Accuracy, double IterationsRun)> Means(IReadOnlyList<FpEvalRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return rows.GroupBy(r => (r.Iterations, r.Length))
            .Select(g => (g.Key.Iterations, g.Key.Length, g.Average(r => r.SequenceAccuracy), g.Average(r => r.Accuracy), g.Average(r => (double)r.IterationsRun)))
            .ToArray();
    }

    /// <summary>Writes <c>fprnn-eval.csv</c> (one row per network, setting and length), <c>fprnn-eval.json</c> (with the means) and three PNGs: sequence and per-position accuracy against length (one line per setting), and sequence accuracy against iterations (one line per length).</summary>
    /// <param name="rows">The evaluation.</param>
    /// <param name="pathOf">Maps a file name to where it is written (e.g. an <see cref="OutputStage"/>).</param>
    /// <param name="title">Figure title.</param>
    /// <param name="trainLength">The training length, marked on the figures.</param>
    public static void Write(IReadOnlyList<FpEvalRow> rows, Func<string, string> pathOf, string title, int trainLength)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(pathOf);
        var sb = new System.Text.StringBuilder("network,iterations,length,sequence_accuracy,accuracy,iterations_run,iteration_status\n");
        foreach (var r in rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.Network},{r.Iterations},{r.Length},{r.SequenceAccuracy:G6},{r.Accuracy:G6},{r.IterationsRun},{r.IterationStatus}\n");
        }

        AtomicFile.WriteText(pathOf("fprnn-eval.csv"), sb.ToString());
        var means = Means(rows);
        JsonOutput.Write(pathOf("fprnn-eval.json"), new
        {
            train_length = trainLength,
            means = means.Select(m => new { iterations = m.Iterations, length = m.Length, sequence_accuracy = m.SequenceAccuracy, accuracy = m.Accuracy, iterations_run = m.IterationsRun }),
            rows,
        });
        Plot(means, m => m.SequenceAccuracy, "sequence accuracy", title, trainLength, pathOf("fprnn-eval-sequence.png"));
        Plot(means, m => m.Accuracy, "per-position accuracy", title, trainLength, pathOf("fprnn-eval-position.png"));
        PlotIterations(means, title, pathOf("fprnn-eval-iterations.png"));
    }

    /// <summary>Sequence accuracy against the fixed iteration count (log2 axis), one line per test length; the stopping-rule and direct-solve settings as dashed levels.</summary>
    private static void PlotIterations(IReadOnlyList<(string Iterations, int Length, double SequenceAccuracy, double Accuracy, double IterationsRun)> means, string title, string path)
    {
        var plot = Figures.NewPlot();
        var palette = new ScottPlot.Palettes.Category10();
        int i = 0;
        foreach (var g in means.GroupBy(m => m.Length))
        {
            var color = palette.GetColor(i++);
            var counts = g.Where(m => int.TryParse(m.Iterations, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                .Select(m => (K: int.Parse(m.Iterations, CultureInfo.InvariantCulture), m.SequenceAccuracy)).OrderBy(m => m.K).ToArray();
            if (counts.Length > 0)
            {
                var line = plot.Add.ScatterLine(counts.Select(m => Math.Log2(m.K)).ToArray(), counts.Select(m => m.SequenceAccuracy).ToArray());
                line.Color = color;
                line.MarkerSize = 6;
                line.LegendText = $"L = {g.Key}";
            }

            foreach (var level in g.Where(m => m.Iterations is "converged" or "dense"))
            {
                var h = plot.Add.HorizontalLine(level.SequenceAccuracy);
                h.Color = color;
                h.LinePattern = level.Iterations == "dense" ? ScottPlot.LinePattern.Dashed : ScottPlot.LinePattern.Dotted;
                h.LegendText = $"L = {g.Key}, {(level.Iterations == "dense" ? "fixed point (direct solve)" : "stopping rule")}";
            }
        }

        plot.Axes.SetLimitsY(-0.02, 1.02);
        plot.Title(title);
        plot.XLabel("log2 (depth iterations K)");
        plot.YLabel("sequence accuracy (mean over networks)");
        plot.ShowLegend();
        Figures.SavePng(plot, path);
    }

    private static void Plot(IReadOnlyList<(string Iterations, int Length, double SequenceAccuracy, double Accuracy, double IterationsRun)> means,
        Func<(string Iterations, int Length, double SequenceAccuracy, double Accuracy, double IterationsRun), double> y, string label, string title, int trainLength, string path)
    {
        var plot = Figures.NewPlot();
        foreach (var g in means.GroupBy(m => m.Iterations))
        {
            var pts = g.OrderBy(m => m.Length).ToArray();
            var line = plot.Add.ScatterLine(pts.Select(m => (double)m.Length).ToArray(), pts.Select(y).ToArray());
            line.LegendText = g.Key == "converged" ? "iterated to the stopping rule" : g.Key == "dense" ? "fixed point, direct solve (dense)" : g.Key == "1" ? "1 iteration (diagonal)" : $"{g.Key} iterations";
            line.MarkerSize = 6;
        }

        var mark = plot.Add.VerticalLine(trainLength);
        mark.LinePattern = ScottPlot.LinePattern.Dashed;
        mark.LegendText = "training length";
        plot.Axes.SetLimitsY(-0.02, 1.02);
        plot.Title(title);
        plot.XLabel("test sequence length");
        plot.YLabel(label + " (mean over networks)");
        plot.ShowLegend();
        Figures.SavePng(plot, path);
    }
}
