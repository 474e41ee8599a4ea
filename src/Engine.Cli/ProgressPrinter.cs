using System.Diagnostics;
using System.Globalization;
using Engine.Training;

namespace Engine.Cli;

/// <summary>One progress line about once a second: epoch, loss spread across networks, converged count, ETA.</summary>
internal sealed class ProgressPrinter(bool quiet)
{
    private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
    private bool _first = true;

    public void Epoch(EpochReport r, int maxEpochs)
    {
        if (quiet || (!_first && _sinceLine.Elapsed.TotalSeconds < 1.0 && r.Training > 0))
        {
            return;
        }

        _first = false;
        _sinceLine.Restart();
        var losses = r.Losses.Where(double.IsFinite).Order().ToArray();
        string spread = losses.Length == 0 ? "-" : string.Create(CultureInfo.InvariantCulture,
            $"min {losses[0]:E2} median {losses[losses.Length / 2]:E2} max {losses[^1]:E2}");
        double perEpoch = r.Elapsed.TotalSeconds / Math.Max(1, r.EpochsThisCall);
        double etaMax = perEpoch * (maxEpochs - r.Epoch);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {r.Epoch,6}  loss {spread}  converged {r.Converged}/{r.Losses.Length}  diverged {r.Diverged}  training {r.Training}  {1.0 / perEpoch:F1} epoch/s  ETA ≤ {Engine.Util.Durations.Short(etaMax)}"));
    }

    public void Summary(TrainingState state)
    {
        Console.WriteLine($"epoch {state.Epoch}: {state.Networks.Count(n => n.Status == NetworkStatus.Converged)} converged, " +
            $"{state.Networks.Count(n => n.Status == NetworkStatus.Diverged)} diverged, " +
            $"{state.Networks.Count(n => n.Status == NetworkStatus.NotConverged)} not converged, " +
            $"{state.Networks.Count(n => n.Status == NetworkStatus.Training)} still training");
        for (int e = 0; e < state.Networks.Length; e++)
        {
            var n = state.Networks[e];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  network {e,3}  seed {state.Ensemble.Seeds[e],6}  {n.Status,-13} epochs {n.Epochs,6}  loss {n.LastLoss:E3}"));
        }
    }
}
