using System.Diagnostics;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Analysis.PathIntegration;

/// <summary>Band and grid cells in a trained path-integration ensemble (Chu et al. 2025; SEEDS.md §1): rate maps, scores, a shuffle null, classes, pruning.</summary>
/// <remarks>
/// Long random walks from the task's own generator (every network sees the same trials) are run through the backend; each unit's
/// activity is averaged per spatial bin (<see cref="RateMapAccumulator"/>), scored (<see cref="GridScore"/>, <see cref="BandScore"/>) and
/// compared with the same scores after circularly shifting its activity against position by a random offset in [T, L − T]
/// (at least one trial away). Classes use the null's percentile (or the paper's 0.88 / 5.8). Then <see cref="Pruning"/>.
/// </remarks>
public static class PathIntegrationAnalysis
{
    /// <summary>Checks that a run is a 2D path-integration run; returns its task.</summary>
    /// <exception cref="ArgumentException">Another task, or 3D.</exception>
    public static PathIntegrationTask TaskOf(TrainingState state, string run = "the run")
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.TaskName != "pathint")
        {
            throw new ArgumentException($"run {run} was trained on task '{state.TaskName}', analyze pathint needs 'pathint'.", nameof(state));
        }

        var task = (PathIntegrationTask)TaskRegistry.Create(state.TaskName, state.TaskSettings);
        if (task.Dimensions != 2)
        {
            throw new ArgumentException($"run {run} is {task.Dimensions}D path integration; analyze pathint maps 2D arenas only.", nameof(state));
        }

        return task;
    }

    /// <summary>Runs the whole analysis on a trained run.</summary>
    /// <exception cref="ArgumentException">Not a 2D pathint run, an option out of range, or too few samples for the maps.</exception>
    public static PathIntegrationResult Run(IEnsembleBackend backend, TrainingState state, PathIntegrationOptions options, string run = "the run")
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        var task = TaskOf(state, run);
        var ens = state.Ensemble;
        var spec = ens.Spec;
        int steps = options.Steps ?? state.Options.StepsFor(task);
        Guard.AtLeast(options.Bins, 4, "bins");
        Guard.AtLeast(options.BandBins, 4, "band-bins");
        Guard.AtLeast(options.Trials, 1, "trials");
        Guard.AtLeast(steps, 1, "steps");
        Guard.AtLeast(options.Shuffles, 0, "shuffles");
        Guard.InRange(options.Percentile, 0, 100, "percentile");
        Guard.AtLeast(options.PruneTrials, 1, "prune-trials");
        Guard.AtLeast(options.Chunk, 1, "chunk");
        if (options.Shuffles == 0 && options.Thresholds == ClassThresholds.Shuffle)
        {
            throw new ArgumentException("shuffle thresholds need at least one shuffle; use --shuffles 1 or more, or --thresholds paper.", "shuffles");
        }

        long samples = (long)options.Trials * steps;
        long need = 10L * Math.Max(options.Bins, options.BandBins) * Math.Max(options.Bins, options.BandBins);
        if (samples < need || samples <= 2L * steps)
        {
            throw new ArgumentException($"too few samples to fill the rate maps: {options.Trials} trials × {steps} steps = {samples} samples for "
                + $"{options.BandBins} × {options.BandBins} bins; need at least {need} (10 per bin): raise --trials.", "trials");
        }

        Guard.Buffer("map trials [B][T][I]", sizeof(float), options.Trials, steps, task.Inputs);
        int total = (int)samples, n = spec.Hidden, ne = spec.Networks;

        // all trials first: positions decide the bins (and the shuffles) before any network runs
        var inputs = new float[total * task.Inputs];
        var positions = new float[total * 2];
        var targets = new float[(long)total * task.Outputs];
        task.GenerateWithPositions(Rng.For(options.Seed, Rng.EvalStream, 7), options.Trials, steps, inputs, targets, new float[targets.Length], positions);
        double extent = options.Extent ?? Percentile99Extent(positions);
        Guard.InRange(extent, 1e-6, double.MaxValue, "extent");
        var binA = Bins(positions, extent, options.Bins);
        var binB = Bins(positions, extent, options.BandBins);
        var rng = Rng.For(options.Seed, Rng.EvalStream, 8);
        var shifts = new int[options.Shuffles * ne * n];
        for (int k = 0; k < shifts.Length; k++)
        {
            shifts[k] = steps + rng.NextInt(total - 2 * steps + 1);
        }

        var accA = new RateMapAccumulator(binA, ne, n, options.Bins, shifts, options.Shuffles);
        var accB = new RateMapAccumulator(binB, ne, n, options.BandBins, shifts, options.Shuffles);
        var tuning = new TuningAccumulator(ne, n);
        var run1 = Stopwatch.StartNew();
        var score = new Stopwatch();
        using (var runner = backend.CreateRunner(spec))
        {
            runner.SetParameters(ens.Parameters);
            for (int first = 0; first < options.Trials; first += options.Chunk)
            {
                int b = Math.Min(options.Chunk, options.Trials - first);
                var batch = TrialBatch.For(spec, 1, b, steps);
                inputs.AsSpan(first * steps * task.Inputs, b * steps * task.Inputs).CopyTo(batch.Inputs);
                targets.AsSpan(first * steps * task.Outputs, b * steps * task.Outputs).CopyTo(batch.Targets);
                batch.Mask.AsSpan().Fill(1);
                for (int e = 0; e < ne && batch.Noise.Length > 0; e++)
                {
                    int per = batch.Noise.Length / ne;
                    Rng.For(ens.Seeds[e], Rng.EvalStream, options.Seed * 1_000_003 + first).FillGaussian(batch.Noise.AsSpan(e * per, per));
                }

                var outputs = new float[ne * b * steps * spec.Outputs];
                var states = new float[(long)ne * b * steps * n];
                runner.Forward(batch, outputs, states);
                score.Start();
                accA.Add(states, b * steps, first * steps, backend.Threads);
                accB.Add(states, b * steps, first * steps, backend.Threads);
                tuning.Add(states, inputs.AsSpan(first * steps * task.Inputs, b * steps * task.Inputs), b * steps, backend.Threads);
                score.Stop();
            }
        }

        run1.Stop();
        var runOnly = run1.Elapsed - score.Elapsed;
        score.Start();
        int copies = 1 + options.Shuffles;
        var grid = new (double Mean, double MinMax)[copies * ne * n];
        var band = new BandFit[copies * ne * n];
        var rateMaps = new float[(long)ne * n * options.Bins * options.Bins];
        var bandMaps = new float[(long)ne * n * options.BandBins * options.BandBins];
        Parallel.For(0, copies * ne * n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, backend.Threads) }, job =>
        {
            int copy = job / (ne * n), e = job / n % ne, u = job % n;
            var a = new double[options.Bins * options.Bins];
            var m = new double[options.BandBins * options.BandBins];
            accA.Map(copy, e, u, a);
            accB.Map(copy, e, u, m);
            grid[job] = GridScore.Scores(a, options.Bins);
            band[job] = BandScore.Fit(m, options.BandBins);
            if (copy == 0)
            {
                for (int k = 0; k < a.Length; k++)
                {
                    rateMaps[(long)(e * n + u) * a.Length + k] = (float)a[k];
                }

                for (int k = 0; k < m.Length; k++)
                {
                    bandMaps[(long)(e * n + u) * m.Length + k] = (float)m[k];
                }
            }
        });
        score.Stop();

        double G((double Mean, double MinMax) g) => options.Form == GridScoreForm.Mean ? g.Mean : g.MinMax;
        // a diverged network's units are left out of the null, the classes and the pruning means (a status, not data)
        var problems = NetworkHealth.Problems(state);
        bool Healthy(int job) => problems[job / n % ne] is null;
        var nullGrid = grid.Select((g, j) => (g, j)).Skip(ne * n).Where(x => Healthy(x.j)).Select(x => G(x.g)).ToArray();
        var nullBand = band.Select((f, j) => (f, j)).Skip(ne * n).Where(x => Healthy(x.j)).Select(x => x.f.Score).ToArray();
        double shuffleGrid = nullGrid.Length > 0 ? Percentile(nullGrid, options.Percentile) : double.NaN;
        double shuffleBand = nullBand.Length > 0 ? Percentile(nullBand, options.Percentile) : double.NaN;
        double gThr = options.Thresholds == ClassThresholds.Shuffle ? shuffleGrid : PathIntegrationOptions.PaperGridThreshold;
        double bThr = options.Thresholds == ClassThresholds.Shuffle ? shuffleBand : PathIntegrationOptions.PaperBandThreshold;
        double side = 2 * PathIntegrationTask.Bound;
        var units = new UnitScores[ne * n];
        for (int k = 0; k < ne * n; k++)
        {
            bool pg = Healthy(k) && G(grid[k]) > gThr, pb = Healthy(k) && band[k].Score > bThr;
            var (speed, tune, pref) = tuning.Of(k / n, k % n);
            units[k] = new UnitScores(k / n, k % n, grid[k].Mean, grid[k].MinMax, band[k], band[k].Spacing(2 * extent, options.BandBins),
                speed, tune, pref, pg, pb, Classify(pg, pb));
        }

        var resolved = options with { Steps = steps, Extent = extent };
        var prune = Stopwatch.StartNew();
        var conditions = Pruning.Run(backend, state, task, units, resolved, problems);
        prune.Stop();
        return new PathIntegrationResult
        {
            Options = resolved, Networks = ne, Units = n, Steps = steps, Extent = extent, ArenaSide = side, Samples = samples,
            Coverage = accA.Occupancy.Count(c => c > 0) / (double)accA.Occupancy.Length,
            RateMaps = rateMaps, BandMaps = bandMaps, Occupancy = accA.Occupancy, UnitScores = units, NullGrid = nullGrid, NullBand = nullBand,
            ShuffleGridThreshold = shuffleGrid, ShuffleBandThreshold = shuffleBand, GridThreshold = gThr, BandThreshold = bThr,
            Pruning = conditions, Summary = Pruning.Summarize(conditions, side), RunTime = runOnly, ScoreTime = score.Elapsed,
            PruneTime = prune.Elapsed,
            LeftOut = Enumerable.Range(0, ne).Where(e => problems[e] is not null).ToDictionary(e => e, e => problems[e]!),
        };
    }

    /// <summary>The class from the two threshold tests (grid wins when both pass; see <see cref="UnitClass"/>).</summary>
    public static UnitClass Classify(bool passesGrid, bool passesBand) => passesGrid ? UnitClass.Grid : passesBand ? UnitClass.Band : UnitClass.Neither;

    /// <summary>The class of one map pair under fixed thresholds (grid score of <paramref name="gridMap"/>, band score of <paramref name="bandMap"/>).</summary>
    public static UnitClass Classify(ReadOnlySpan<double> gridMap, int n, ReadOnlySpan<double> bandMap, int m,
        double gridThreshold = PathIntegrationOptions.PaperGridThreshold, double bandThreshold = PathIntegrationOptions.PaperBandThreshold,
        GridScoreForm form = GridScoreForm.Mean)
        => Classify(GridScore.Score(gridMap, n, form) > gridThreshold, BandScore.Fit(bandMap, m).Score > bandThreshold);

    /// <summary>Linear-interpolated percentile (0–100) of finite values.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        if (v.Length == 0)
        {
            return double.NaN;
        }

        double pos = p / 100 * (v.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, v.Length - 1);
        return v[lo] + (pos - lo) * (v[hi] - v[lo]);
    }

    private static double Percentile99Extent(float[] positions)
    {
        var m = new double[positions.Length / 2];
        for (int t = 0; t < m.Length; t++)
        {
            m[t] = Math.Max(Math.Abs(positions[2 * t]), Math.Abs(positions[2 * t + 1]));
        }

        return Math.Max(Percentile(m, 99), 1e-3);
    }

    private static int[] Bins(float[] positions, double extent, int n)
    {
        var bin = new int[positions.Length / 2];
        for (int t = 0; t < bin.Length; t++)
        {
            int x = (int)Math.Floor((positions[2 * t] + extent) / (2 * extent) * n);
            int y = (int)Math.Floor((positions[2 * t + 1] + extent) / (2 * extent) * n);
            x = x == n && positions[2 * t] <= extent ? n - 1 : x;
            y = y == n && positions[2 * t + 1] <= extent ? n - 1 : y;
            bin[t] = x >= 0 && x < n && y >= 0 && y < n ? y * n + x : -1;
        }

        return bin;
    }
}
