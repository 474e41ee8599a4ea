using Engine.Tasks.Cognitive;

namespace Engine.Composed;

/// <summary>GEM continual-learning metrics of one network (Lopez-Paz &amp; Ranzato 2017, as SEEDS §6 states them).</summary>
/// <remarks>
/// With a_{i,j} the accuracy on task j after stage i (i = 1..T) and b_j before any training: forgetting
/// F_j = max_{i&lt;T} a_{i,j} − a_{T,j} (j &lt; T), BWT = mean_{j&lt;T} (a_{T,j} − a_{j,j}), FWT = mean_{j&gt;1} (a_{j−1,j} − b_j).
/// With one task, BWT and FWT are NaN and there is no forgetting entry.
/// </remarks>
public sealed record TransferMetrics(double[] Forgetting, double Bwt, double Fwt)
{
    /// <summary>Computes the metrics from the matrix [T + 1][T] (row 0: untrained, row i: after stage i).</summary>
    public static TransferMetrics From(double[][] a)
    {
        ArgumentNullException.ThrowIfNull(a);
        int t = a.Length - 1;
        var forgetting = new double[Math.Max(0, t - 1)];
        for (int j = 0; j < t - 1; j++)
        {
            double best = double.NegativeInfinity;
            for (int i = 1; i < t; i++)
            {
                best = Math.Max(best, a[i][j]);
            }

            forgetting[j] = best - a[t][j];
        }

        double bwt = double.NaN, fwt = double.NaN;
        if (t > 1)
        {
            bwt = Enumerable.Range(0, t - 1).Average(j => a[t][j] - a[j + 1][j]);
            fwt = Enumerable.Range(1, t - 1).Average(j => a[j][j] - a[0][j]);
        }

        return new TransferMetrics(forgetting, bwt, fwt);
    }
}

/// <summary>The result of a continual-learning run: the task × stage accuracy matrices, stages and metrics.</summary>
/// <param name="Tasks">Task names in training order.</param>
/// <param name="Accuracy">Per network [E][T + 1][T]: row 0 untrained, row i after stage i, column j task j.</param>
/// <param name="Stages">One per task.</param>
/// <param name="Metrics">Per network.</param>
/// <param name="ComponentKeys">Component k's context key (composed).</param>
/// <param name="Options">The run's settings.</param>
public sealed record SequenceResult(string[] Tasks, double[][][] Accuracy, StageResult[] Stages, TransferMetrics[] Metrics, IReadOnlyList<string> ComponentKeys, SequenceOptions Options)
{
    /// <summary>The ensemble mean accuracy matrix [T + 1][T].</summary>
    public double[][] MeanAccuracy() => Enumerable.Range(0, Tasks.Length + 1)
        .Select(i => Enumerable.Range(0, Tasks.Length).Select(j => Accuracy.Average(net => net[i][j])).ToArray()).ToArray();
}

/// <summary>The continual-learning protocol of SEEDS §6: train tasks one after another, test every task after each stage.</summary>
public static class ContinualLearning
{
    /// <summary>Checks a task sequence: known names, no repeats, at least one.</summary>
    /// <exception cref="ArgumentException">Named <c>tasks</c>: empty, an unknown task (with the known ones), or a repeat.</exception>
    public static string[] ParseTasks(IEnumerable<string> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        var list = tasks.Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0).ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("tasks: expected at least one task, got none.", nameof(tasks));
        }

        foreach (var t in list)
        {
            if (!CognitiveTask.IsCognitive(t))
            {
                throw new ArgumentException($"tasks: unknown task '{t}' in the sequence; expected one of: {string.Join(", ", CognitiveTask.Names)}.", nameof(tasks));
            }
        }

        var repeat = list.GroupBy(t => t).FirstOrDefault(g => g.Count() > 1);
        if (repeat is not null)
        {
            throw new ArgumentException($"tasks: '{repeat.Key}' appears {repeat.Count()} times; each task is trained once.", nameof(tasks));
        }

        return list;
    }

    /// <summary>Runs the protocol on a fresh learner; returns the result and the trained learner.</summary>
    /// <param name="options">Settings.</param>
    /// <param name="tasks">Task names in order.</param>
    /// <param name="log">Optional progress lines.</param>
    public static (SequenceResult Result, ContinualLearner Learner) Run(SequenceOptions options, IEnumerable<string> tasks, Action<string>? log = null)
    {
        var names = ParseTasks(tasks);
        var learner = new ContinualLearner(options);
        int e = learner.Options.Networks, t = names.Length;
        var acc = Enumerable.Range(0, e).Select(_ => new double[t + 1][]).ToArray();
        void Row(int i)
        {
            var cols = names.Select(learner.Test).ToArray();
            for (int n = 0; n < e; n++)
            {
                acc[n][i] = cols.Select(c => c[n]).ToArray();
            }
        }

        Row(0);
        var stages = new StageResult[t];
        for (int i = 0; i < t; i++)
        {
            stages[i] = learner.TrainTask(names[i], (b, a) => log?.Invoke($"  {names[i]}: batch {b}, test accuracy {a:F3}, loss {learner.LastLoss.Average():F4}"));
            Row(i + 1);
            log?.Invoke($"stage {i + 1} ({names[i]}): {stages[i].Seconds:F1} s; accuracy " + string.Join(", ", names.Select((n, j) => $"{n} {acc.Average(x => x[i + 1][j]):F2}")));
        }

        var result = new SequenceResult(names, acc, stages, acc.Select(TransferMetrics.From).ToArray(), learner.ComponentKeys.ToArray(), learner.Options);
        return (result, learner);
    }
}
