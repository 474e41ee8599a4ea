using Engine.Backends;
using Engine.Model;
using Engine.Tasks.Control;

namespace Engine.ClosedLoop;

/// <summary>The per-frequency tracking losses of an agent (forward only): the loss of each <see cref="TrackingTask.Only"/> task.</summary>
public sealed class TrackingProbe : IDisposable
{
    private readonly IClosedLoopAgents[] _only;

    /// <summary>A probe for agents with <paramref name="options"/> on <paramref name="task"/> over horizon T, computed on <paramref name="backend"/> (owned by the caller).</summary>
    public TrackingProbe(IEnsembleBackend backend, Plant plant, TrackingTask task, ClosedLoopOptions options, int horizon)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(plant);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(options);
        var layout = ParameterLayout.Agent(options.Hidden, task.AgentInputs(plant), plant.P);
        _only = Enumerable.Range(0, task.Frequencies.Length)
            .Select(k => backend.CreateClosedLoopAgents(new ClosedLoopProblem(plant, task.Only(k), layout, options.Activation, 0, options.Leak, [horizon]))).ToArray();
    }

    /// <summary>L_k for every frequency k at parameters <paramref name="theta"/> (β = 0).</summary>
    public double[] Losses(double[] theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        return _only.Select(a => a.ClosedLoop(0, theta, null, false)).ToArray();
    }

    /// <summary>Frees the per-frequency workspaces.</summary>
    public void Dispose()
    {
        foreach (var a in _only)
        {
            a.Dispose();
        }
    }
}

/// <summary>When each frequency of a tracking task is acquired, from per-frequency loss curves.</summary>
public static class FrequencyAcquisition
{
    /// <summary>
    /// Per frequency, the first recorded step where its loss has covered half of its fall (L_k ≤ L_k(0) − ½ (L_k(0) − min L_k));
    /// −1 when it never fell. Returns the steps and the frequency indices in the order they were acquired.
    /// </summary>
    public static (int[] Steps, int[] Order) Analyze(IReadOnlyList<double[]> perFrequencyLoss)
    {
        ArgumentNullException.ThrowIfNull(perFrequencyLoss);
        int kf = perFrequencyLoss.Count;
        var steps = new int[kf];
        for (int k = 0; k < kf; k++)
        {
            var c = perFrequencyLoss[k];
            double l0 = c[0], min = c.Where(double.IsFinite).DefaultIfEmpty(l0).Min();
            steps[k] = -1;
            if (min < l0)
            {
                double level = l0 - 0.5 * (l0 - min);
                for (int i = 0; i < c.Length; i++)
                {
                    if (c[i] <= level)
                    {
                        steps[k] = i;
                        break;
                    }
                }
            }
        }

        var order = Enumerable.Range(0, kf).Where(k => steps[k] >= 0).OrderBy(k => steps[k]).ToArray();
        return (steps, order);
    }
}
