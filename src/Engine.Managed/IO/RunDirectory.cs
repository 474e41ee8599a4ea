using System.Globalization;
using System.Text;
using System.Text.Json;
using Engine.Training;

namespace Engine.IO;

/// <summary>The files of one training run: checkpoint, <c>metrics.csv</c>, <c>summary.json</c>.</summary>
/// <remarks>
/// metrics.csv has one row per network and epoch trained: <c>network,epoch,loss,learning_rate</c>. Rows are
/// buffered and appended just before each checkpoint; on resume, rows past the checkpoint's epoch (from a run
/// killed between the two writes) are dropped, so the file always matches the checkpoint.
/// </remarks>
public sealed class RunDirectory
{
    private readonly StringBuilder _pending = new();

    /// <summary>Opens (creating if needed) a run directory.</summary>
    public RunDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>The checkpoint file.</summary>
    public string CheckpointPath => System.IO.Path.Combine(Path, Checkpoint.FileName);

    /// <summary>The metrics file.</summary>
    public string MetricsPath => System.IO.Path.Combine(Path, "metrics.csv");

    /// <summary>The summary file.</summary>
    public string SummaryPath => System.IO.Path.Combine(Path, "summary.json");

    /// <summary>Whether a checkpoint exists here.</summary>
    public bool HasCheckpoint => File.Exists(CheckpointPath);

    /// <summary>Starts a fresh metrics file (header only).</summary>
    public void ResetMetrics() => AtomicFile.WriteText(MetricsPath, "network,epoch,loss,learning_rate\n");

    /// <summary>Drops metrics rows past <paramref name="epoch"/> (resume after a crash).</summary>
    public void TruncateMetrics(int epoch)
    {
        if (!File.Exists(MetricsPath))
        {
            ResetMetrics();
            return;
        }

        var keep = new StringBuilder();
        foreach (var line in File.ReadLines(MetricsPath))
        {
            var parts = line.Split(',');
            if (keep.Length == 0 || (parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int ep) && ep <= epoch))
            {
                keep.Append(line).Append('\n');
            }
        }

        AtomicFile.WriteText(MetricsPath, keep.ToString());
    }

    /// <summary>Buffers the rows of one epoch.</summary>
    public void AddMetrics(EpochReport report)
    {
        for (int e = 0; e < report.Losses.Length; e++)
        {
            if (report.Trained[e])
            {
                _pending.Append(CultureInfo.InvariantCulture, $"{e},{report.Epoch},{report.Losses[e]:R},{report.LearningRates[e]:R}\n");
            }
        }
    }

    /// <summary>Appends buffered metrics, then writes the checkpoint, then rewrites the summary.</summary>
    /// <remarks>Metrics go first: a crash in between leaves rows ahead of the checkpoint, which a resume drops and redoes.</remarks>
    public void Save(TrainingState state, string backend)
    {
        if (_pending.Length > 0)
        {
            File.AppendAllText(MetricsPath, _pending.ToString());
            _pending.Clear();
        }

        Checkpoint.Save(CheckpointPath, state);
        WriteSummary(state, backend);
    }

    /// <summary>The status as written in files: training, converged, diverged, not_converged.</summary>
    public static string StatusName(NetworkStatus status) => status == NetworkStatus.NotConverged ? "not_converged" : status.ToString().ToLowerInvariant();

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>Writes summary.json: per network status, epochs, final loss; and run totals.</summary>
    public void WriteSummary(TrainingState state, string backend)
    {
        var nets = state.Networks.Select((n, e) => new
        {
            network = e,
            seed = state.Ensemble.Seeds[e],
            status = StatusName(n.Status),
            epochs = n.Epochs,
            final_loss = Finite(n.LastLoss),
            learning_rate = state.Options.LearningRateOf(e) * (state.Options.Parameterization == Parameterization.MuP ? state.Options.GammaOf(e) : 1) * n.LrScale,
            gamma = state.Options.Parameterization == Parameterization.MuP ? (double?)state.Options.GammaOf(e) : null,
            weight_change = Finite(state.WeightChange[e]),
            kernel_alignment = Finite(state.KernelAlignment[e]),
        }).ToArray();
        var summary = new
        {
            task = state.TaskName,
            task_settings = state.TaskSettings,
            backend,
            epoch = state.Epoch,
            networks = state.Ensemble.Spec.Networks,
            hidden = state.Ensemble.Spec.Hidden,
            converged = state.Networks.Count(n => n.Status == NetworkStatus.Converged),
            diverged = state.Networks.Count(n => n.Status == NetworkStatus.Diverged),
            finished = state.Finished,
            parameterization = state.Options.Parameterization.ToString().ToLowerInvariant(),
            rank = state.Options.Rank,
            per_network = nets,
        };
        AtomicFile.WriteText(SummaryPath, JsonSerializer.Serialize(summary, Checkpoint.Json));
    }
}
