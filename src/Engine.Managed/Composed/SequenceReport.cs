using System.Globalization;
using System.Text;
using Engine.IO;
using Engine.Plotting;
using Engine.Tasks.Cognitive;

namespace Engine.Composed;

/// <summary>Files of a continual-learning run: accuracy matrices (CSV), metrics (JSON) and figures (PNG).</summary>
/// <remarks>
/// accuracy_matrix.csv — ensemble mean, one row per stage (0: untrained), one column per task; accuracy_networks.csv — long
/// form (network, stage, task, accuracy); metrics.json — options, mean matrix, forgetting F_j, BWT, FWT per network and
/// averaged, batches and trials to criterion per task and network, components opened and reused per task, and (when given)
/// from-scratch batches; accuracy_matrix.png — heatmap; context_TASK.png — the context c_k(t) over one test trial of each task
/// with the oracle roles marked. Every file is written through the caller's staged paths (atomic as a set).
/// </remarks>
public static class SequenceReport
{
    /// <summary>Writes every file; <paramref name="pathOf"/> maps a file name to its (staged) path.</summary>
    /// <param name="result">The run.</param>
    /// <param name="learner">The trained learner (for the context figures).</param>
    /// <param name="pathOf">File name → path.</param>
    /// <param name="scratch">Optional per task: each network's batches to criterion when trained alone from scratch.</param>
    public static void Write(SequenceResult result, ContinualLearner learner, Func<string, string> pathOf, IReadOnlyDictionary<string, int?[]>? scratch = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(pathOf);
        var mean = result.MeanAccuracy();
        var inv = CultureInfo.InvariantCulture;
        var csv = new StringBuilder("stage,after," + string.Join(",", result.Tasks) + "\n");
        for (int i = 0; i < mean.Length; i++)
        {
            csv.Append(inv, $"{i},{(i == 0 ? "untrained" : result.Tasks[i - 1])},").AppendJoin(",", mean[i].Select(v => v.ToString("R", inv))).Append('\n');
        }

        AtomicFile.WriteText(pathOf("accuracy_matrix.csv"), csv.ToString());
        var longForm = new StringBuilder("network,stage,task,accuracy\n");
        for (int e = 0; e < result.Accuracy.Length; e++)
        {
            for (int i = 0; i < mean.Length; i++)
            {
                for (int j = 0; j < result.Tasks.Length; j++)
                {
                    longForm.Append(inv, $"{e},{i},{result.Tasks[j]},{result.Accuracy[e][i][j].ToString("R", inv)}\n");
                }
            }
        }

        AtomicFile.WriteText(pathOf("accuracy_networks.csv"), longForm.ToString());
        JsonOutput.Write(pathOf("metrics.json"), Metrics(result, scratch));
        Heatmap(result.Tasks, mean, pathOf("accuracy_matrix.png"), $"{Name(result.Options)}: test accuracy after each stage (mean of {result.Accuracy.Length} network(s))");
        if (result.Options.Cell == CellKind.Composed)
        {
            foreach (var task in result.Tasks)
            {
                ContextFigure(learner, task, pathOf($"context_{task}.png"));
            }
        }
    }

    /// <summary>A short name of the model: "composed (oracle)", "composed (inferred)" or "plain".</summary>
    public static string Name(SequenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Cell == CellKind.Plain ? "plain" : $"composed ({(options.Context == ContextSource.Oracle ? "oracle" : "inferred")})";
    }

    /// <summary>The metrics.json document.</summary>
    public static object Metrics(SequenceResult result, IReadOnlyDictionary<string, int?[]>? scratch = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var o = result.Options;
        var m = result.Metrics;
        int t = result.Tasks.Length;
        return new
        {
            model = Name(o),
            options = new
            {
                cell = o.Cell.ToString().ToLowerInvariant(), context = o.Context.ToString().ToLowerInvariant(), hidden = o.Hidden, components = o.Components, rank = o.Rank,
                networks = o.Networks, batch = o.Batch, lr = o.LearningRate, clip = o.ClipNorm, criterion = o.Criterion, max_batches = o.MaxBatches,
                eval_every = o.EvalEvery, eval_trials = o.EvalTrials, inference_trials = o.InferenceTrials, noise = o.NoiseStd, seed = o.Seed,
                dt_ms = o.Task.Dt, tau_ms = o.Task.Tau, ring = o.Task.Ring, time_scale = o.Task.TimeScale,
            },
            tasks = result.Tasks,
            accuracy_matrix = result.MeanAccuracy(),
            forgetting = Enumerable.Range(0, Math.Max(0, t - 1)).ToDictionary(j => result.Tasks[j], j => m.Average(x => x.Forgetting[j])),
            bwt = t > 1 ? m.Average(x => x.Bwt) : (double?)null,
            fwt = t > 1 ? m.Average(x => x.Fwt) : (double?)null,
            networks = m.Select((x, e) => new
            {
                network = e,
                forgetting = x.Forgetting,
                bwt = JsonOutput.Finite(x.Bwt),
                fwt = JsonOutput.Finite(x.Fwt),
                batches_to_criterion = result.Stages.Select(s => s.Batches[e]).ToArray(),
            }).ToArray(),
            stages = result.Stages.Select(s => new
            {
                task = s.Task,
                batches_to_criterion = s.Batches,
                trials_to_criterion = s.Batches.Select(b => b * o.Batch).ToArray(),
                scratch_batches_to_criterion = scratch?.GetValueOrDefault(s.Task),
                new_components = s.NewComponents,
                reused_components = s.ReusedComponents,
                seconds = s.Seconds,
            }).ToArray(),
            components = result.ComponentKeys,
        };
    }

    private static void Heatmap(string[] tasks, double[][] mean, string path, string title)
    {
        int rows = mean.Length, cols = tasks.Length;
        var data = new double[rows, cols];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                data[i, j] = mean[i][j];
            }
        }

        var plot = Figures.NewPlot();
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        hm.ManualRange = new ScottPlot.Range(0, 1);
        hm.Extent = new ScottPlot.CoordinateRect(-0.5, cols - 0.5, -0.5, rows - 0.5);
        plot.Add.ColorBar(hm).Label = "accuracy";
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                var text = plot.Add.Text(mean[i][j].ToString("F2", CultureInfo.InvariantCulture), j, rows - 1 - i);
                text.LabelFontColor = mean[i][j] > 0.6 ? ScottPlot.Colors.Black : ScottPlot.Colors.White;
                text.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
            }
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(tasks.Select((n, j) => new ScottPlot.Tick(j, n)).ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, rows).Select(i => new ScottPlot.Tick(rows - 1 - i, i == 0 ? "untrained" : $"after {tasks[i - 1]}")).ToArray());
        plot.Axes.SetLimits(-0.5, cols - 0.5, -0.5, rows - 0.5);
        plot.Title(title);
        plot.XLabel("task tested");
        plot.YLabel("stage");
        Figures.SavePng(plot, path, 900, 650);
    }

    /// <summary>c_k(t) of the first test trial of a task (components with any weight), with the oracle roles marked.</summary>
    private static void ContextFigure(ContinualLearner learner, string name, string path)
    {
        var (_, trials, batch) = learner.TestBatch(name);
        int k = learner.Spec.ContextCount, steps = trials.Steps;
        double dt = learner.Options.Task.Dt;
        var plot = Figures.NewPlot();
        var xs = Enumerable.Range(0, steps).Select(t => t * dt).ToArray();
        for (int c = 0; c < Math.Min(k, learner.ComponentKeys.Count); c++)
        {
            var ys = Enumerable.Range(0, steps).Select(t => (double)batch.Context[t * k + c]).ToArray();
            if (ys.All(v => v == 0))
            {
                continue;
            }

            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = learner.ComponentKeys[c];
            line.LineWidth = 2;
        }

        int previous = -1;
        for (int t = 0; t < steps; t++)
        {
            int role = trials.Roles[t];
            if (role != previous)
            {
                var v = plot.Add.VerticalLine(t * dt);
                v.LineColor = ScottPlot.Colors.Gray;
                v.LinePattern = ScottPlot.LinePattern.Dashed;
                var label = plot.Add.Text(EpochRoles.Names[role], t * dt, 1.08);
                label.LabelFontSize = 11;
                previous = role;
            }
        }

        plot.Axes.SetLimitsY(-0.05, 1.15);
        plot.Title($"{name}: context c_k(t) over one test trial ({(learner.Options.Context == ContextSource.Oracle ? "oracle roles" : "inferred epochs")}; dashed: true role changes)");
        plot.XLabel("time (ms)");
        plot.YLabel("c_k(t)");
        plot.ShowLegend(ScottPlot.Alignment.MiddleRight);
        Figures.SavePng(plot, path, 1000, 450);
    }
}
