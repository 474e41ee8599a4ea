using System.Diagnostics;
using System.Globalization;
using Engine.Training;

namespace Engine.Study;

/// <summary>Progress lines for a whole study: the stage, the share of the study's estimated work done and an ETA.</summary>
/// <remarks>
/// Work is counted in the groups' cost estimates (<see cref="StudyGroup.Cost"/>): a group's training counts as 80% of
/// its cost, spread over its epoch budget (an upper bound: networks stop early), and its analyses as the other 20%.
/// The ETA extrapolates from the work this process has done, so resumed work does not make it optimistic.
/// </remarks>
internal sealed class StudyProgress
{
    private const double TrainShare = 0.8;
    private readonly Action<string>? _log;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
    private readonly double _total;
    private readonly double _doneAtStart;
    private readonly Dictionary<string, double> _cost;
    private readonly HashSet<string> _trainedAtStart = [];
    private double _done;
    private double _current;

    public StudyProgress(StudyPlan plan, StudyLayout layout, int[] shards, Action<string>? log)
    {
        _log = log;
        _cost = plan.Groups.ToDictionary(g => g.Id, g => g.Cost);
        foreach (int s in shards)
        {
            foreach (var g in plan.Shards[s].Groups)
            {
                _total += _cost[g];
                if (File.Exists(layout.TrainRecord(s, g)))
                {
                    _doneAtStart += TrainShare * _cost[g];
                    _trainedAtStart.Add(g);
                }
            }
        }

        _done = _doneAtStart;
    }

    /// <summary>The share of the study done, 0 … 1.</summary>
    public double Fraction => _total <= 0 ? 1 : Math.Clamp((_done + _current) / _total, 0, 1);

    public void Epoch(StudyGroup group, EpochReport r, int maxEpochs)
    {
        _current = TrainShare * group.Cost * Math.Min(1, (double)r.Epoch / Math.Max(1, maxEpochs));
        if (_sinceLine.Elapsed.TotalSeconds < 5 && r.Training > 0)
        {
            return;
        }

        Line(string.Create(CultureInfo.InvariantCulture,
            $"train {group.Id}: epoch {r.Epoch}/{maxEpochs}, {r.Converged}/{r.Losses.Length} converged, {r.Diverged} diverged, {r.Training} training"));
    }

    public void GroupDone(string group)
    {
        _done += _cost[group] - (_trainedAtStart.Contains(group) ? TrainShare * _cost[group] : 0);
        _current = 0;
    }

    public void Line(string text)
    {
        _sinceLine.Restart();
        if (_log is null)
        {
            return;
        }

        double done = _done + _current - _doneAtStart, left = _total - _done - _current;
        string eta = done <= 0 ? "?" : Engine.Util.Durations.Short(_clock.Elapsed.TotalSeconds * left / done);
        _log(string.Create(CultureInfo.InvariantCulture, $"[study {100 * Fraction,3:F0}% ETA {eta}] {text}"));
    }
}
