using System.Globalization;
using System.Text;
using Engine.Backends;
using Engine.IO;
using Engine.Plotting;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Analysis.Crq;

/// <summary>CRQ accuracy of one trained run: per network, at the trained depth and one level deeper (OOD).</summary>
/// <param name="Source">The run directory.</param>
/// <param name="Task">The run's task.</param>
/// <param name="Width">N.</param>
/// <param name="Accuracy">Fraction of test trees answered right per network, NaN for a left-out network [E].</param>
/// <param name="OodAccuracy">The same one level deeper [E].</param>
/// <param name="Trials">Test trees per depth.</param>
/// <param name="LeftOut">Networks left out and why.</param>
public sealed record CrqResult(string Source, CrqTask Task, int Width, double[] Accuracy, double[] OodAccuracy, int Trials, IReadOnlyList<(int Network, string Reason)> LeftOut)
{
    /// <summary>Accuracies of the healthy networks.</summary>
    public double[] Healthy => Accuracy.Where(double.IsFinite).ToArray();

    /// <summary>OOD accuracies of the healthy networks.</summary>
    public double[] HealthyOod => OodAccuracy.Where(double.IsFinite).ToArray();
}

/// <summary>
/// Accuracy of CRQ-trained networks (SEEDS §9): fresh trees, the output at the last step, correct when its nearest leaf by
/// cosine is the answer leaf (<see cref="CrqTask.Correct"/>); the study reads accuracy against depth for several widths.
/// </summary>
public static class CrqAnalysis
{
    /// <summary>Loads the task of a trained run and checks that it is <c>crq</c>.</summary>
    /// <exception cref="ArgumentException">The run was trained on another task.</exception>
    public static CrqTask TaskOf(TrainingState state, string source)
    {
        ArgumentNullException.ThrowIfNull(state);
        return TaskRegistry.Create(state.TaskName, state.TaskSettings) as CrqTask
            ?? throw new ArgumentException($"{source}: trained on task '{state.TaskName}'; analyze crq needs a crq run.", nameof(state));
    }

    /// <summary>Accuracy of every network on <paramref name="trials"/> fresh trees at the trained depth and one deeper.</summary>
    /// <exception cref="ArgumentException">Not a crq run, or trials &lt; 1.</exception>
    public static CrqResult Run(IEnsembleBackend backend, TrainingState state, int trials = 512, long seed = 12345, string source = "run")
    {
        ArgumentNullException.ThrowIfNull(backend);
        Guard.AtLeast(trials, 1, nameof(trials));
        var task = TaskOf(state, source);
        int steps = state.Options.StepsFor(task);
        var problems = NetworkHealth.Problems(state);
        var id = Accuracies(backend, state, task, trials, steps, seed, problems);
        var ood = Accuracies(backend, state, (CrqTask)task.OutOfDistribution(), trials, task.OodSteps(steps), seed + 1, problems);
        var left = Enumerable.Range(0, problems.Length).Where(e => problems[e] is not null).Select(e => (e, problems[e]!)).ToArray();
        return new CrqResult(source, task, state.Ensemble.Spec.Hidden, id, ood, trials, left);
    }

    /// <summary>Per network, the fraction of a batch's trials answered right (outputs [E][B][T][O]); NaN where <paramref name="problems"/> names a reason, which is set for non-finite outputs.</summary>
    private static double[] Accuracies(IEnsembleBackend backend, TrainingState state, CrqTask task, int trials, int steps, long seed, string?[] problems)
    {
        var ens = state.Ensemble;
        var batch = Evaluation.SharedTrials(ens, task, trials, steps, seed);
        var (outputs, _) = ens.Run(backend, batch, keepStates: false);
        int d = task.Dimension, inLen = steps * task.Inputs, outLen = steps * d;
        var acc = new double[ens.Spec.Networks];
        for (int e = 0; e < acc.Length; e++)
        {
            var y = outputs.AsSpan(e * trials * outLen, trials * outLen);
            if (problems[e] is null && !NetworkHealth.AllFinite(y))
            {
                problems[e] = "non-finite outputs";
            }

            if (problems[e] is not null)
            {
                acc[e] = double.NaN;
                continue;
            }

            int right = 0;
            for (int b = 0; b < trials; b++)
            {
                int last = b * outLen + (steps - 1) * d;
                if (task.Correct(batch.Inputs.AsSpan(b * inLen, inLen), y.Slice(last, d), batch.Targets.AsSpan(last, d)))
                {
                    right++;
                }
            }

            acc[e] = (double)right / trials;
        }

        return acc;
    }

    /// <summary>Writes <c>crq.csv</c> (per network), <c>crq_summary.csv</c> (per run: depth, width, mean, sd, min, max), <c>crq.json</c> and <c>crq_accuracy.png</c> (mean accuracy against depth, one line per width).</summary>
    public static void Write(IReadOnlyList<CrqResult> results, Func<string, string> pathOf, IReadOnlyDictionary<string, object>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(pathOf);
        var csv = new StringBuilder("run,depth,arity,order,width,network,accuracy,ood_accuracy,status\n");
        var summary = new StringBuilder("run,depth,arity,order,width,networks,mean,sd,min,max,ood_mean\n");
        var runs = new List<object>();
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var t = r.Task;
            string order = t.Settings["order"];
            for (int e = 0; e < r.Accuracy.Length; e++)
            {
                string status = r.LeftOut.FirstOrDefault(l => l.Network == e).Reason is { } why ? $"{NetworkHealth.DivergedName} ({why})" : "ok";
                csv.Append(CultureInfo.InvariantCulture, $"{i},{t.Depth},{t.Arity},{order},{r.Width},{e},{Num(r.Accuracy[e])},{Num(r.OodAccuracy[e])},{status}\n");
            }

            var h = r.Healthy;
            var (mean, sd) = MeanSd(h);
            summary.Append(CultureInfo.InvariantCulture,
                $"{i},{t.Depth},{t.Arity},{order},{r.Width},{h.Length},{Num(mean)},{Num(sd)},{Num(h.Length > 0 ? h.Min() : double.NaN)},{Num(h.Length > 0 ? h.Max() : double.NaN)},{Num(MeanSd(r.HealthyOod).Mean)}\n");
            runs.Add(new
            {
                run = i, source = r.Source, task = t.Settings, nodes = t.Nodes, pending_answers = t.Order == CrqOrder.Post ? t.Depth + 1 : (int?)null, width = r.Width, trials = r.Trials,
                accuracy = r.Accuracy.Select(JsonOutput.Finite), ood_accuracy = r.OodAccuracy.Select(JsonOutput.Finite),
                mean = JsonOutput.Finite(mean), sd = JsonOutput.Finite(sd),
                left_out = r.LeftOut.Select(l => new { network = l.Network, status = NetworkHealth.DivergedName, reason = l.Reason }),
            });
        }

        AtomicFile.WriteText(pathOf("crq.csv"), csv.ToString());
        AtomicFile.WriteText(pathOf("crq_summary.csv"), summary.ToString());
        JsonOutput.Write(pathOf("crq.json"), new { analysis = "CRQ accuracy against depth (SEEDS §9)", chance = "1 / leaves", extra, runs });
        var plot = Figures.NewPlot();
        int color = 0;
        foreach (var g in results.GroupBy(r => r.Width).OrderBy(g => g.Key))
        {
            var pts = g.Where(r => r.Healthy.Length > 0).GroupBy(r => r.Task.Depth).OrderBy(d => d.Key)
                .Select(d => (Depth: (double)d.Key, Acc: d.SelectMany(r => r.Healthy).Average())).ToArray();
            if (pts.Length == 0)
            {
                continue;
            }

            var line = plot.Add.Scatter(pts.Select(p => p.Depth).ToArray(), pts.Select(p => p.Acc).ToArray());
            line.Color = ScottPlot.Colors.Category10[color++ % 10];
            line.LegendText = $"N = {g.Key}";
        }

        var depths = results.Select(r => r.Task).GroupBy(t => t.Depth).Select(d => d.First()).OrderBy(t => t.Depth).ToArray();
        if (depths.Length > 0)
        {
            var chance = plot.Add.Scatter(depths.Select(t => (double)t.Depth).ToArray(), depths.Select(t => 1.0 / Math.Pow(t.Arity, t.Depth)).ToArray());
            chance.Color = ScottPlot.Colors.Gray;
            chance.LinePattern = ScottPlot.LinePattern.Dashed;
            chance.LegendText = "chance (1 / leaves)";
        }

        plot.Axes.Bottom.Label.Text = "tree depth D";
        plot.Axes.Left.Label.Text = "accuracy (nearest leaf is the answer)";
        plot.Axes.SetLimitsY(0, 1.05);
        plot.Title("CRQ accuracy against depth, one line per width");
        plot.ShowLegend();
        Figures.SavePng(plot, pathOf("crq_accuracy.png"));
    }

    private static (double Mean, double Sd) MeanSd(double[] v)
    {
        if (v.Length == 0)
        {
            return (double.NaN, double.NaN);
        }

        double m = v.Average();
        return (m, Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / v.Length));
    }

    private static string Num(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";
}
