using System.Globalization;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;

namespace Engine.Benchmarks;

/// <summary>Wall time for an ensemble to reach a task's threshold, split into trial generation and the rest (kernels).</summary>
/// <param name="Task">Task name and settings.</param>
/// <param name="Backend">Backend name.</param>
/// <param name="Networks">E.</param>
/// <param name="Hidden">N.</param>
/// <param name="Epochs">Epochs until every network stopped (or the budget ran out).</param>
/// <param name="Converged">Networks converged.</param>
/// <param name="WallSeconds">Whole training wall time.</param>
/// <param name="GenerationSeconds">Of which, trial generation.</param>
public sealed record TimeToThresholdResult(string Task, string Backend, int Networks, int Hidden, int Epochs, int Converged,
    double WallSeconds, double GenerationSeconds)
{
    /// <summary>Machine-readable line.</summary>
    public string FormatLine() => string.Create(CultureInfo.InvariantCulture,
        $"time-to-threshold task={Task} E={Networks} N={Hidden} backend={Backend} epochs={Epochs} converged={Converged}/{Networks} wall_s={WallSeconds:F1} generation_s={GenerationSeconds:F2} generation_share={GenerationSeconds / Math.Max(1e-9, WallSeconds):F3}");
}

/// <summary>Trains an ensemble with no files written and reports the time to threshold.</summary>
public static class TimeToThreshold
{
    /// <summary>Runs one measurement.</summary>
    public static TimeToThresholdResult Run(IEnsembleBackend backend, ITrialTask task, int networks, int hidden, TrainingOptions options, Action<EpochReport>? onEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        var spec = new EnsembleSpec { Networks = networks, Hidden = hidden, Inputs = task.Inputs, Outputs = task.Outputs };
        return Run(backend, task, spec, options, onEpoch);
    }

    /// <summary>Runs one measurement on an explicit architecture (e.g. the rate cell that µP needs); seeds 0 … E − 1.</summary>
    public static TimeToThresholdResult Run(IEnsembleBackend backend, ITrialTask task, EnsembleSpec spec, TrainingOptions options, Action<EpochReport>? onEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        int networks = spec.Networks, hidden = spec.Hidden;
        EpochReport? last = null;
        var state = Trainer.Train(backend, task, spec, Ensemble.ConsecutiveSeeds(0, networks), options with { ProbeTrials = 0 }, onEpoch: r =>
        {
            last = r;
            onEpoch?.Invoke(r);
        });
        string name = task.Name + string.Concat(task.Settings.Select(kv => $",{kv.Key}={kv.Value}"));
        return new TimeToThresholdResult(name, backend.Name, networks, hidden, state.Epoch,
            state.Networks.Count(n => n.Status == NetworkStatus.Converged),
            last?.Elapsed.TotalSeconds ?? 0, last?.GenerationTime.TotalSeconds ?? 0);
    }
}
