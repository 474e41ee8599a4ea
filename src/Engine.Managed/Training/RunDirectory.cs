using System.Globalization;
using System.Text;
using System.Text.Json;
using Engine.IO;

namespace Engine.Training;

/// <summary>The files of one training run: checkpoint, <c>metrics.csv</c>, <c>summary.json</c>.</summary>
/// <remarks>
/// metrics.csv has one row per network and epoch trained: <c>network,epoch,loss,learning_rate</c>. Rows are
/// buffered and appended just before each checkpoint; on resume, rows past the checkpoint's epoch (from a run
/// killed between the two writes) are dropped, so the file always matches the checkpoint.
/// </remarks>
public sealed class RunDirectory
{
    private readonly StringBuilder _pending = new();
    private readonly StringBuilder _pendingRepresentation = new();
    private double[]? _lastAlignment, _lastPredictability;

    /// <summary>Opens (creating if needed) a run directory; the caller claims it with <see cref="FolderLock"/> before writing.</summary>
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

    /// <summary>The representational terms' file: CKA to the guide and predictability per network and epoch.</summary>
    public string RepresentationPath => System.IO.Path.Combine(Path, "representation.csv");

    /// <summary>The header row of representation.csv.</summary>
    public const string RepresentationHeader = "network,epoch,guide_cka,predictability";

    /// <summary>The header row of metrics.csv.</summary>
    public const string MetricsHeader = "network,epoch,loss,learning_rate";

    /// <summary>The files a run (and the analyses that write beside it) leaves in its directory.</summary>
    public static IReadOnlyList<string> RunFiles { get; } =
        [Checkpoint.FileName, "metrics.csv", "summary.json", "config.json", "loss.png", "examples.png", "eval.csv", "eval.json", "examples_ood.png",
            "representation.csv", "representation.png", Representation.RepresentationTargets.GuideFile];

    /// <summary>The folders analyses of a run write inside its directory.</summary>
    public static IReadOnlyList<string> RunFolders { get; } = ["distances", "fixed-points"];

    /// <summary>The names of <see cref="RunFiles"/> and <see cref="RunFolders"/> present here (folders with a trailing '/').</summary>
    public IReadOnlyList<string> ExistingRunFiles()
        => RunFiles.Where(f => File.Exists(System.IO.Path.Combine(Path, f)))
            .Concat(RunFolders.Where(d => Directory.Exists(System.IO.Path.Combine(Path, d))).Select(d => d + "/"))
            .ToArray();

    /// <summary>Deletes every one of <see cref="RunFiles"/> and <see cref="RunFolders"/> here (other files are left alone).</summary>
    public void ClearRun()
    {
        foreach (string f in RunFiles)
        {
            File.Delete(System.IO.Path.Combine(Path, f));
        }

        foreach (string f in Directory.GetFiles(Path, "earlier_states_*.npy"))
        {
            File.Delete(f); // the diversity targets a run keeps (Representation.RepresentationTargets.EarlierFile)
        }

        foreach (string d in RunFolders.Select(d => System.IO.Path.Combine(Path, d)).Where(Directory.Exists))
        {
            Directory.Delete(d, recursive: true);
        }
    }

    /// <summary>Starts a fresh metrics file (header only).</summary>
    public void ResetMetrics() => AtomicFile.WriteText(MetricsPath, MetricsHeader + "\n");

    /// <summary>Keeps only the whole, well-formed rows up to <paramref name="epoch"/> (resume after a crash) and returns the last epoch kept.</summary>
    /// <remarks>
    /// Rows past <paramref name="epoch"/> come from a run killed between appending its metrics and writing its checkpoint,
    /// and are redone. A row cut short (no final newline, fewer than four fields, a field that does not parse) is dropped
    /// too. When the returned epoch is below <paramref name="epoch"/>, the file lost rows the checkpoint had (it was cut
    /// or edited): those losses cannot be recovered, and the caller should say so.
    /// </remarks>
    /// <returns>The highest epoch left in the file (0 when it has no rows or did not exist).</returns>
    public int TruncateMetrics(int epoch)
    {
        if (!File.Exists(MetricsPath))
        {
            ResetMetrics();
            return 0;
        }

        string text = File.ReadAllText(MetricsPath);
        var lines = text.Split('\n');
        var keep = new StringBuilder(MetricsHeader).Append('\n');
        int last = 0;
        var inv = CultureInfo.InvariantCulture;

        // The last element follows the final newline: empty for a whole file, a cut row otherwise.
        for (int i = 0; i < lines.Length - 1; i++)
        {
            var parts = lines[i].Split(',');
            if (parts.Length == 4
                && int.TryParse(parts[0], NumberStyles.Integer, inv, out int net) && net >= 0
                && int.TryParse(parts[1], NumberStyles.Integer, inv, out int ep) && ep >= 1 && ep <= epoch
                && double.TryParse(parts[2], NumberStyles.Float, inv, out _)
                && double.TryParse(parts[3], NumberStyles.Float, inv, out _))
            {
                keep.Append(lines[i]).Append('\n');
                last = Math.Max(last, ep);
            }
        }

        AtomicFile.WriteText(MetricsPath, keep.ToString());
        return last;
    }

    /// <summary>Keeps only the rows of representation.csv up to <paramref name="epoch"/> (resume), like <see cref="TruncateMetrics"/>.</summary>
    public void TruncateRepresentation(int epoch)
    {
        if (!File.Exists(RepresentationPath))
        {
            return;
        }

        var keep = new StringBuilder(RepresentationHeader).Append('\n');
        var lines = File.ReadAllText(RepresentationPath).Split('\n');
        for (int i = 1; i < lines.Length - 1; i++)
        {
            var parts = lines[i].Split(',');
            if (parts.Length == 4 && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int ep) && ep >= 1 && ep <= epoch)
            {
                keep.Append(lines[i]).Append('\n');
            }
        }

        AtomicFile.WriteText(RepresentationPath, keep.ToString());
    }

    /// <summary>Buffers the rows of one epoch.</summary>
    public void AddMetrics(EpochReport report)
    {
        if (report.Alignment is not null || report.Predictability is not null)
        {
            int count = report.Losses.Length;
            _lastAlignment ??= report.Alignment is null ? null : Enumerable.Repeat(double.NaN, count).ToArray();
            _lastPredictability ??= report.Predictability is null ? null : Enumerable.Repeat(double.NaN, count).ToArray();
            for (int e = 0; e < count; e++)
            {
                if (report.Trained[e])
                {
                    double a = report.Alignment?[e] ?? double.NaN, p = report.Predictability?[e] ?? double.NaN;
                    if (_lastAlignment is not null)
                    {
                        _lastAlignment[e] = a;
                    }

                    if (_lastPredictability is not null)
                    {
                        _lastPredictability[e] = p;
                    }

                    _pendingRepresentation.Append(CultureInfo.InvariantCulture, $"{e},{report.Epoch},{a:R},{p:R}\n");
                }
            }
        }

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

        if (_pendingRepresentation.Length > 0)
        {
            if (!File.Exists(RepresentationPath))
            {
                AtomicFile.WriteText(RepresentationPath, RepresentationHeader + "\n");
            }

            File.AppendAllText(RepresentationPath, _pendingRepresentation.ToString());
            _pendingRepresentation.Clear();
        }

        Checkpoint.Save(CheckpointPath, state);
        WriteSummary(state, backend);
    }

    /// <summary>The status as written in files: training, converged, diverged, not_converged.</summary>
    public static string StatusName(NetworkStatus status) => status == NetworkStatus.NotConverged ? "not_converged" : status.ToString().ToLowerInvariant();

    /// <summary>Writes summary.json: per network status, epochs, final loss; and run totals.</summary>
    public void WriteSummary(TrainingState state, string backend)
    {
        var nets = state.Networks.Select((n, e) => new
        {
            network = e,
            seed = state.Ensemble.Seeds[e],
            status = StatusName(n.Status),
            epochs = n.Epochs,
            final_loss = n.LastLoss,
            learning_rate = state.Options.LearningRateOf(e) * (state.Options.Parameterization == Parameterization.MuP ? state.Options.GammaOf(e) : 1) * n.LrScale,
            gamma = state.Options.Parameterization == Parameterization.MuP ? (double?)state.Options.GammaOf(e) : null,
            weight_change = state.WeightChange[e],
            kernel_alignment = state.KernelAlignment[e],
            guide_cka = _lastAlignment?[e],
            predictability = _lastPredictability?[e],
            train_samples = state.Options.FiniteData ? (int?)state.Options.TrainSamplesOf(e) : null,
            test_mse = state.Options.FiniteData ? JsonOutput.Finite(n.TestLoss) : null,
            best_test_mse = state.Options.FiniteData ? JsonOutput.Finite(n.BestTestLoss) : null,
            best_test_epoch = state.Options.FiniteData ? (int?)n.BestTestEpoch : null,
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
            guide = state.Options.GuideSource,
            guide_strength = state.Options.HasGuidance(state.Ensemble.Spec.Networks) ? state.Options.GuideStrength : (double?)null,
            diversity = state.Options.HasRepresentationalLoss(state.Ensemble.Spec.Networks) ? state.Options.Diversity : (double?)null,
            per_network = nets,
        };
        JsonOutput.Write(SummaryPath, summary);
    }
}
