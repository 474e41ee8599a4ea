using System.Diagnostics;
using System.Globalization;
using Engine.Analysis;
using Engine.Backends;
using Engine.Distances;
using Engine.FixedPoints;
using Engine.IO;
using Engine.Tasks;
using Engine.Training;

namespace Engine.Study;

/// <summary>How a study runs: backend, threads, where progress goes, cancellation.</summary>
public sealed record StudyRunOptions
{
    /// <summary>Backend name (null: the config's, else auto). Every shard of a study should use the same backend.</summary>
    public string? Backend { get; init; }

    /// <summary>CPU threads (0: all cores).</summary>
    public int Threads { get; init; }

    /// <summary>Progress lines (stage, percentage, ETA); null: silent.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Stops after the current epoch (training checkpoints first) or between analyses.</summary>
    public CancellationToken Cancel { get; init; }
}

/// <summary>What one call did: stages computed now, stages found finished and skipped.</summary>
/// <param name="Trained">Groups trained (or resumed and finished) by this call.</param>
/// <param name="Analysed">Analysis stages computed by this call.</param>
/// <param name="Skipped">Stages already finished before this call.</param>
public sealed record StudyRunResult(int Trained, int Analysed, int Skipped);

/// <summary>Runs a planned study: trains each group as one batched ensemble, then every analysis of each of its conditions, one recorded stage at a time.</summary>
/// <remarks>
/// A shard claims its folder (<see cref="Engine.IO.FolderLock"/>), so a second writer is refused. Each stage's file is written
/// atomically when the stage ends; a rerun skips every stage whose file exists and resumes training from the group's
/// last checkpoint, so a study killed at any moment and rerun computes nothing twice and ends with the same numbers.
/// Analyses read the converged networks of a condition only (σ_OOD, distances, fixed points), as in Huang et al. 2025.
/// </remarks>
public static class StudyRunner
{
    /// <summary>Validates and plans a config into <paramref name="dir"/> (plan.json and config.json); an identical plan already there is kept.</summary>
    /// <exception cref="ArgumentException">Invalid config, or a different plan already in the folder.</exception>
    public static StudyPlan Plan(StudyConfig config, string dir, int shards = 1)
    {
        var plan = StudyPlanner.Plan(config, shards);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, StudyPlan.FileName);
        if (File.Exists(path))
        {
            var existing = StudyPlan.Load(dir);
            if (System.Text.Json.JsonSerializer.Serialize(existing, StudyConfig.Json) != System.Text.Json.JsonSerializer.Serialize(plan, StudyConfig.Json))
            {
                throw new ArgumentException($"{Path.GetFullPath(dir)} already holds a different study plan; plan into a new folder (or delete this one).", nameof(dir));
            }

            return existing;
        }

        AtomicFile.WriteText(Path.Combine(dir, "config.json"), config.ToJson());
        plan.Save(dir);
        return plan;
    }

    /// <summary>Runs shard <paramref name="shard"/> of the study in <paramref name="dir"/>.</summary>
    /// <exception cref="IOException">Another process is running this shard.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (the last good state is on disk; rerun to resume).</exception>
    public static StudyRunResult RunShard(string dir, int shard, StudyRunOptions? options = null)
    {
        options ??= new StudyRunOptions();
        var plan = StudyPlan.Load(dir);
        if (shard < 0 || shard >= plan.Shards.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), shard, $"shard {shard} does not exist: the plan has {plan.Shards.Count} shard(s), 0 … {plan.Shards.Count - 1}.");
        }

        var layout = new StudyLayout(Path.GetFullPath(dir));
        using var claim = FolderLock.Acquire(layout.Shard(shard), $"shard {shard}");
        Report(claim, options.Log);
        using var backend = BackendFactory.Create(options.Backend ?? plan.Config.Backend ?? "auto", options.Threads);
        using var host = BackendFactory.Create("cpu", options.Threads);
        var progress = new StudyProgress(plan, layout, [shard], options.Log);
        options.Log?.Invoke($"study {plan.Name}: shard {shard}/{plan.Shards.Count}, {plan.Shards[shard].Groups.Length} group(s), backend {backend.Name} ({backend.Device})");
        return new ShardWork(plan, layout, shard, backend, host, options, progress).Run();
    }

    /// <summary>Runs every shard in this process, then writes the report.</summary>
    public static (StudyRunResult Run, StudyReportSummary Report) RunAll(string dir, StudyRunOptions? options = null)
    {
        options ??= new StudyRunOptions();
        var plan = StudyPlan.Load(dir);
        var layout = new StudyLayout(Path.GetFullPath(dir));
        var claims = new List<FolderLock>();
        try
        {
            foreach (var s in plan.Shards)
            {
                claims.Add(FolderLock.Acquire(layout.Shard(s.Index), $"shard {s.Index}"));
                Report(claims[^1], options.Log);
            }

            using var backend = BackendFactory.Create(options.Backend ?? plan.Config.Backend ?? "auto", options.Threads);
            using var host = BackendFactory.Create("cpu", options.Threads);
            var progress = new StudyProgress(plan, layout, plan.Shards.Select(s => s.Index).ToArray(), options.Log);
            options.Log?.Invoke($"study {plan.Name}: {plan.Conditions.Count} conditions in {plan.Groups.Count} group(s), {plan.Conditions.Sum(c => c.Seeds.Length)} networks, backend {backend.Name} ({backend.Device})");
            int trained = 0, analysed = 0, skipped = 0;
            foreach (var s in plan.Shards)
            {
                var r = new ShardWork(plan, layout, s.Index, backend, host, options, progress).Run();
                (trained, analysed, skipped) = (trained + r.Trained, analysed + r.Analysed, skipped + r.Skipped);
            }

            var run = new StudyRunResult(trained, analysed, skipped);
            return (run, StudyMerge.Write(dir, options.Log));
        }
        finally
        {
            foreach (var c in claims)
            {
                c.Dispose();
            }
        }
    }

    /// <summary>Says when a claim took over a dead writer's lock or removed its leftover temp files.</summary>
    private static void Report(FolderLock claim, Action<string>? log)
    {
        // The shard owns every file under its folder: an interrupted write anywhere below (a group's checkpoint, a stage
        // record) left its temp file there.
        var nested = FolderLock.RemoveTempFiles(claim.Folder, recursive: true);
        if (claim.TakeoverMessage is { } m)
        {
            log?.Invoke(m);
        }

        int removed = claim.RemovedTempFiles.Count + nested.Count;
        if (removed > 0)
        {
            log?.Invoke($"{claim.Folder}: removed {removed} leftover temp file(s) of an interrupted write");
        }
    }

    /// <summary>The training of one group: task, architecture, seeds (condition after condition) and options with per-network factor values.</summary>
    public static (ITrialTask Task, Model.EnsembleSpec Spec, long[] Seeds, TrainingOptions Options) TrainingFor(StudyPlan plan, StudyGroup group)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(group);
        var conds = group.Conditions.Select(plan.Condition).ToArray();
        var first = conds[0];
        var param = StudyPlanner.ParseParameterization(first.Parameterization);
        var recipe = plan.Recipe(first.Task, param);
        var t = plan.Config.Training ?? new StudyTraining();
        var nets = conds.SelectMany(c => c.Seeds.Select(_ => c)).ToArray();
        bool featureLearning = plan.Config.Analyses?.FeatureLearning is not null;
        var task = TaskRegistry.Create(first.Task, first.TaskSettings);
        var options = recipe.ToOptions() with
        {
            Trials = t.Trials ?? recipe.Trials,
            Steps = t.Steps ?? recipe.Steps,
            MaxEpochs = t.MaxEpochs ?? recipe.MaxEpochs,
            Threshold = t.Threshold,
            Patience = t.Patience ?? recipe.Patience,
            ClipNorm = t.Clip ?? recipe.Clip,
            PlateauPatience = t.PlateauPatience ?? recipe.PlateauPatience,
            CheckpointEvery = t.CheckpointEvery ?? 100,
            ProbeTrials = featureLearning ? t.ProbeTrials ?? 8 : 0,
            Parameterization = param,
            Rank = first.Rank,
            LearningRates = nets.Select(c => c.LearningRate).ToArray(),
            GammaPerNetwork = param == Parameterization.MuP ? nets.Select(c => c.Gamma).ToArray() : null,
            L1PerNetwork = nets.Any(c => c.L1 > 0) ? nets.Select(c => c.L1).ToArray() : null,
            NuclearPerNetwork = nets.Any(c => c.Nuclear > 0) ? nets.Select(c => c.Nuclear).ToArray() : null,
            DiversityPerNetwork = nets.Any(c => c.Diversity > 0) ? nets.Select(c => c.Diversity).ToArray() : null,
            DiversityCohorts = nets.Any(c => c.Diversity > 0) ? conds.SelectMany((c, k) => c.Seeds.Select(_ => k)).ToArray() : null,
            GuideStrengths = nets.Any(c => c.GuideStrength > 0) ? nets.Select(c => c.GuideStrength).ToArray() : null,
            GuideSource = nets.Any(c => c.GuideStrength > 0) ? t.Guide : null,
        };
        var spec = new TrainConfig
        {
            Task = first.Task, Networks = nets.Length, Hidden = first.Width, Parameterization = first.Parameterization,
            Alpha = param == Parameterization.MuP ? recipe.RateAlpha ?? 0.1 : t.Alpha,
            Cell = param == Parameterization.MuP ? null : t.Cell, Noise = t.Noise,
        }.BuildSpec(task);
        options.Validate(nets.Length).StepsFor(task);
        return (task, spec, conds.SelectMany(c => c.Seeds).ToArray(), options);
    }

    /// <summary>The networks of a condition inside its group's ensemble: the first index and the count.</summary>
    public static (int Offset, int Count) Slice(StudyPlan plan, StudyGroup group, string condition)
    {
        int offset = 0;
        foreach (var c in group.Conditions)
        {
            int n = plan.Condition(c).Seeds.Length;
            if (c == condition)
            {
                return (offset, n);
            }

            offset += n;
        }

        throw new ArgumentException($"Condition '{condition}' is not in group '{group.Id}'.", nameof(condition));
    }

    /// <remarks>
    /// <paramref name="host"/> is a cpu backend on the same threads: DSA, d_PIF and the shape metric run there on every
    /// study backend (their ILGPU paths are correct but measured slower than the CPU, README Benchmarks); training,
    /// evaluation, fixed points and CKA run on <paramref name="backend"/>.
    /// </remarks>
    private sealed class ShardWork(StudyPlan plan, StudyLayout layout, int shard, IEnsembleBackend backend, IEnsembleBackend host, StudyRunOptions options, StudyProgress progress)
    {
        private readonly StudyAnalyses _analyses = plan.Config.Analyses ?? new StudyAnalyses();
        private int _trained, _analysed, _skipped;

        public StudyRunResult Run()
        {
            foreach (var gid in plan.Shards[shard].Groups)
            {
                options.Cancel.ThrowIfCancellationRequested();
                var group = plan.Group(gid);
                var (record, state, task) = Train(group);
                foreach (var cid in group.Conditions)
                {
                    Analyse(group, cid, record, ref state, task);
                }

                progress.GroupDone(gid);
            }

            return new StudyRunResult(_trained, _analysed, _skipped);
        }

        private void Event(string what, string stage, string unit)
            => File.AppendAllText(layout.Events(shard), string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:O} {what} {stage} {unit}\n"));

        private (StageRecord Record, TrainingState? State, ITrialTask Task) Train(StudyGroup group)
        {
            var (task, spec, seeds, trainOptions) = TrainingFor(plan, group);
            string path = layout.TrainRecord(shard, group.Id);
            if (StageRecord.TryLoad(path) is { } done)
            {
                _skipped++;
                return (done, null, task);
            }

            var run = new RunDirectory(layout.Group(shard, group.Id));
            TrainingState state;
            if (run.HasCheckpoint)
            {
                state = Checkpoint.Load(run.CheckpointPath);
                run.TruncateMetrics(state.Epoch);
                Event("resume", "train", group.Id);
                options.Log?.Invoke($"train {group.Id}: resuming at epoch {state.Epoch}");
            }
            else
            {
                state = Initializer.NewRun(spec, seeds, task.Name, task.Settings, trainOptions);
                run.ResetMetrics();
                Event("start", "train", group.Id);
            }

            var targets = Training.Representation.RepresentationTargets.None;
            if (state.Options.HasGuidance(state.Ensemble.Spec.Networks))
            {
                // The guide's states are kept in the group's run directory, so a resumed group follows the same guide.
                string kept = Path.Combine(run.Path, Training.Representation.RepresentationTargets.GuideFile);
                targets = File.Exists(kept)
                    ? Training.Representation.RepresentationTargets.Load(run.Path, state.Options, state.Options.StepsFor(task))
                    : Training.Representation.RepresentationTargets.Record(backend, task, state.Options, state.Options.StepsFor(task), plan.Config.Training?.Guide, false);
                targets.Save(run.Path);
            }

            var clock = Stopwatch.StartNew();
            Trainer.Train(backend, task, state,
                onEpoch: r =>
                {
                    run.AddMetrics(r);
                    progress.Epoch(group, r, state.Options.MaxEpochs);
                },
                onCheckpoint: s => run.Save(s, backend.Name),
                cancel: options.Cancel,
                targets: targets);
            options.Cancel.ThrowIfCancellationRequested();
            var trained = new List<TrainedNetwork>();
            foreach (var cid in group.Conditions)
            {
                var (offset, count) = Slice(plan, group, cid);
                for (int k = 0; k < count; k++)
                {
                    var n = state.Networks[offset + k];
                    trained.Add(new TrainedNetwork(cid, k, state.Ensemble.Seeds[offset + k], RunDirectory.StatusName(n.Status), n.Epochs, n.LastLoss,
                        state.WeightChange[offset + k], state.KernelAlignment[offset + k]));
                }
            }

            var record = new StageRecord { Stage = "train", Unit = group.Id, Seconds = clock.Elapsed.TotalSeconds, Trained = trained, Epochs = state.Epoch };
            record.Save(path);
            Event("done", "train", group.Id);
            _trained++;
            progress.Line($"train {group.Id}: {trained.Count(t => t.Status == "converged")}/{trained.Count} converged, {trained.Count(t => t.Status == "diverged")} diverged in {state.Epoch} epochs ({clock.Elapsed.TotalSeconds:F1} s)");
            return (record, state, task);
        }

        private void Analyse(StudyGroup group, string cid, StageRecord train, ref TrainingState? state, ITrialTask task)
        {
            var (offset, count) = Slice(plan, group, cid);
            var nets = train.Trained!.Where(t => t.Condition == cid).OrderBy(t => t.Network).ToArray();
            int[] converged = nets.Where(t => t.Status == "converged").Select(t => t.Network).ToArray();
            StateSet? states = null;
            foreach (var stage in _analyses.Stages)
            {
                string path = layout.Stage(shard, cid, stage);
                if (File.Exists(path))
                {
                    _skipped++;
                    continue;
                }

                options.Cancel.ThrowIfCancellationRequested();
                state ??= Checkpoint.Load(Path.Combine(layout.Group(shard, group.Id), Checkpoint.FileName));
                Event("start", stage, cid);
                var clock = Stopwatch.StartNew();
                StageRecord record;
                try
                {
                    record = Compute(stage, cid, state, task, offset, count, converged, ref states);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    record = new StageRecord { Stage = stage, Unit = cid, Error = $"{e.GetType().Name}: {e.Message.Split('\n')[0]}" };
                }

                record = record with { Seconds = clock.Elapsed.TotalSeconds };
                record.Save(path);
                Event("done", stage, cid);
                _analysed++;
                progress.Line(record.Error is { } err
                    ? $"{stage} {cid}: not computed: {err}"
                    : $"{stage} {cid}: {Describe(record)} ({record.Seconds:F1} s)");
            }
        }

        private static string Describe(StageRecord r) => r.Stage switch
        {
            "eval" => string.Create(CultureInfo.InvariantCulture, $"mean OOD MSE {r.OodMse!.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average():G3}"),
            "fixed_points" => string.Create(CultureInfo.InvariantCulture, $"{r.FixedPoints!.DefaultIfEmpty(0).Average():G3} fixed points per network"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{r.Pairs!.Count} pairs, mean {r.Pairs.Select(p => p.Value).DefaultIfEmpty(double.NaN).Average():G4}"),
        };

        private StageRecord Compute(string stage, string cid, TrainingState state, ITrialTask task, int offset, int count, int[] converged, ref StateSet? states)
        {
            var probe = _analyses.Probe ?? new ProbeSettings();
            int probeTrials = probe.Trials ?? 32, probeSteps = probe.Steps ?? state.Options.StepsFor(task);
            long probeSeed = probe.Seed ?? 12345;
            if (stage == "eval")
            {
                var sub = SubState(state, Enumerable.Range(offset, count).ToArray());
                int trials = _analyses.Ood!.Trials ?? 64;
                if (_analyses.Behavior is not null && converged.Length >= 2)
                {
                    var b = Behavior.Compute(backend, sub, task, trials, probeSeed, converged);
                    return new StageRecord { Stage = stage, Unit = cid, IdMse = b.Evaluation.InDistributionMse, OodMse = b.Evaluation.OodMse, Pairs = Rows(cid, "behavior", b.Distances) };
                }

                var ev = Evaluation.Run(backend, sub, task, trials, probeSeed);
                return new StageRecord { Stage = stage, Unit = cid, IdMse = ev.InDistributionMse, OodMse = ev.OodMse, Pairs = [] };
            }

            if (stage == "fixed_points")
            {
                if (converged.Length == 0)
                {
                    return new StageRecord { Stage = stage, Unit = cid, Error = "no converged network to analyse" };
                }

                var fp = _analyses.FixedPoints!;
                var sub = state.Ensemble.Select(converged.Select(k => offset + k).ToArray());
                int seeds = fp.Seeds ?? 64;
                var (seedStates, _) = FixedPointSeeds.FromTrajectories(sub, backend, task, probeTrials, probeSteps, seeds, fp.Noise ?? 0, probeSeed);
                var problem = new FixedPointProblem(sub.Spec, sub.Parameters, FixedPointProblem.SharedInput(sub.Spec, new float[sub.Spec.Inputs]), seeds, seedStates);
                var result = FixedPointAnalysis.Run(backend, problem, new FixedPointOptions { Search = new AdamSearchOptions { MaxIterations = fp.Iterations ?? 2000 } });
                return new StageRecord
                {
                    Stage = stage, Unit = cid, Networks = converged,
                    FixedPoints = result.Networks.Select(n => n.Points.Count(p => p.Status == FixedPointStatus.Converged)).ToArray(),
                    StableFixedPoints = result.Networks.Select(n => n.Points.Count(p => p.Status == FixedPointStatus.Converged && p.Stable)).ToArray(),
                };
            }

            if (converged.Length < 2)
            {
                return new StageRecord { Stage = stage, Unit = cid, Error = $"{converged.Length} converged network(s): a distance needs at least 2" };
            }

            var groupIds = converged.Select(k => offset + k).ToArray();
            if (stage == "pif")
            {
                return new StageRecord { Stage = stage, Unit = cid, Pairs = Rows(cid, "pif", WeightDistance.Matrix(host, state.Ensemble, groupIds, converged)) };
            }

            states ??= Relabel(StateSet.Record(backend, state.Ensemble, task, probeTrials, probeSteps, probeSeed, groupIds), converged);
            PairwiseMatrix m = stage switch
            {
                "cka" => Cka.Compute(backend, states),
                "shape" => ShapeMetric.Compute(host, states, _analyses.Shape!.Alpha ?? 1),
                _ => Score(Dsa.Compute(host, states, _analyses.Dsa!.ToOptions()), _analyses.Dsa!.Score),
            };
            return new StageRecord { Stage = stage, Unit = cid, Pairs = Rows(cid, stage, m) };
        }

        private static PairwiseMatrix Score(DsaResult r, string? score) => score switch
        {
            "euclidean" => r.Euclidean,
            "wasserstein" => r.Wasserstein,
            _ => r.Angular,
        };

        private static StateSet Relabel(StateSet s, int[] ids) => new(s.States, s.Trials, s.Steps, s.Widths, ids);

        private static List<PairRow> Rows(string cid, string metric, PairwiseMatrix m)
            => PairwiseMatrix.Pairs(m.Size).Select(p => new PairRow(cid, metric, m.Ids[p.Item1], m.Ids[p.Item2], m[p.Item1, p.Item2])).ToList();

        private static TrainingState SubState(TrainingState state, int[] networks)
        {
            var options = state.Options with
            {
                LearningRates = null, GammaPerNetwork = null, L1PerNetwork = null, L2PerNetwork = null, NuclearPerNetwork = null, ActivityPerNetwork = null,
            };
            var sub = new TrainingState(state.Ensemble.Select(networks), state.TaskName, state.TaskSettings, options);
            for (int k = 0; k < networks.Length; k++)
            {
                sub.Networks[k] = state.Networks[networks[k]];
            }

            return sub;
        }
    }
}
