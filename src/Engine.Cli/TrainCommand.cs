using System.CommandLine;
using System.Globalization;
using Engine.Backends;
using Engine.IO;
using Engine.Tasks;
using Engine.Training;
using Engine.Training.Representation;

namespace Engine.Cli;

/// <summary><c>train</c>: trains an ensemble to threshold, with checkpoints, metrics and resume.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config") { Description = "JSON config file; flags given on the command line override it." };
        var task = new Option<string?>("--task") { Description = "Task: flipflop | sine | delayed | pathint | sequence-chunks | wm-orientation | crq | qsparse." };
        var taskSetting = new Option<string[]?>("--task-setting") { Description = "Any task setting as KEY=VALUE, repeatable (e.g. --task-setting prior=natural --task-setting delays=5,10,20; crq: depth=4).", AllowMultipleArgumentsPerToken = false };
        var bits = new Option<int?>("--bits") { Description = "Flip-flop bits (default 3)." };
        var pulse = new Option<double?>("--pulse-probability") { Description = "Flip-flop pulse probability per step (default 0.05)." };
        var frequencies = new Option<int?>("--frequencies") { Description = "Sine: number of frequencies in [1, 30] (default 8)." };
        var channels = new Option<int?>("--channels") { Description = "Sine / delayed: independent channels (default 1)." };
        var dt = new Option<double?>("--dt") { Description = "Sine: seconds per step (default 0.005)." };
        var delayMin = new Option<int?>("--delay-min") { Description = "Delayed: shortest delay in steps (default 5)." };
        var delayMax = new Option<int?>("--delay-max") { Description = "Delayed: longest delay in steps (default 20)." };
        var aux = new Option<bool?>("--aux") { Description = "Delayed: also train the auxiliary output f2 - f1." };
        var dims = new Option<int?>("--dimensions") { Description = "Path integration: 2 or 3 (default 2)." };
        var maxSpeed = new Option<double?>("--max-speed") { Description = "Path integration: speeds ~ U(0, max) (default 0.2)." };
        var headingNoise = new Option<double?>("--heading-noise") { Description = "Path integration: heading random-walk step in radians (default 0.3)." };
        var placeCells = new Option<int?>("--place-cells") { Description = "Path integration (2D): a population of N place cells as the output instead of the position (difference-of-softmax code, decoded by the 3 largest; default 0)." };
        var placeWidth = new Option<double?>("--place-width") { Description = "Path integration: σ of the place fields (default 12.4/√N: the paper's field width over centre spacing; 0.55 at 512 cells)." };
        var fillerMax = new Option<int?>("--filler-max") { Description = "Sequence chunks: longest run of filler E after a word (default 9)." };
        var trainSamples = new Option<int?>("--train-samples") { Description = "Finite-dataset mode: n fixed training samples per network, drawn in seeded shuffles; the held-out test MSE goes to summary.json (default 0: fresh trials every epoch)." };
        var testEvery = new Option<int?>("--test-every") { Description = "Finite-dataset mode: epochs between held-out test measurements (default 50)." };
        var testTrials = new Option<int?>("--test-trials") { Description = "Finite-dataset mode: held-out test trials per network (default 256)." };
        var testPatience = new Option<int?>("--test-patience") { Description = "Finite-dataset mode: stop a network after this many test measurements without a new best, 0 = off (default 0)." };
        var param = new Option<string?>("--parameterization") { Description = "standard | mup (µP: rate cell, alpha 0.1, lr = gamma * lr) (default standard)." };
        var gamma = new Option<double?>("--gamma") { Description = "µP feature-learning strength gamma (default 1)." };
        var gain = new Option<double?>("--gain") { Description = "µP recurrent gain g (default 1)." };
        var rank = new Option<int?>("--rank") { Description = "Low-rank recurrent weights of rank R, 0 = full (default 0)." };
        var l1 = new Option<double?>("--l1") { Description = "l1 strength on W (default 0)." };
        var l2 = new Option<double?>("--l2") { Description = "l2 strength on W (default 0)." };
        var nuclear = new Option<double?>("--nuclear") { Description = "Nuclear-norm strength on W (default 0)." };
        var activityReg = new Option<double?>("--activity") { Description = "Activity strength, lambda * mean h^2 (default 0)." };
        var plateau = new Option<int?>("--plateau-patience") { Description = "ReduceLROnPlateau patience in epochs, 0 = off (default: the task's recipe: 200, sine 0)." };
        var plateauFactor = new Option<double?>("--plateau-factor") { Description = "ReduceLROnPlateau factor (default 0.5)." };
        var probes = new Option<int?>("--probe-trials") { Description = "Probe trials for kernel alignment, 0 = off (default 8)." };
        var networks = new Option<int?>("--networks") { Description = "E, networks in the ensemble (default 16)." };
        var hidden = new Option<int?>("--hidden") { Description = "N, hidden units (default 64)." };
        var cell = new Option<string?>("--cell") { Description = "discrete | leaky | rate | fixed-point | composed (default discrete; rate under mup; fixed-point: the fixed-point RNN on the state-tracking tasks parity | count | a5 | s5 | copy; composed: a cognitive task on the context-composed RNN, as train-sequence)." };
        var components = new Option<int?>("--components") { Description = "Composed cell: K, most components (default 16)." };
        var activation = new Option<string?>("--activation") { Description = "tanh | relu | identity (default tanh)." };
        var alpha = new Option<double?>("--alpha") { Description = "Leaky cell dt/tau (default 0.1)." };
        var noise = new Option<double?>("--noise") { Description = "Process noise std (default 0)." };
        var initial = new Option<string?>("--initial-state") { Description = "zero | learned (default zero)." };
        var trials = new Option<int?>("--trials") { Description = "B, trials per network per epoch (default: the task's recipe, 32)." };
        var steps = new Option<int?>("--steps") { Description = "T, steps per trial (default: the task's recipe: flipflop/pathint 30, sine 40, delayed its minimum length)." };
        var lr = new Option<double?>("--lr") { Description = "Adam learning rate; under mup eta0, the step is gamma * lr (default: the task's recipe: flipflop 3e-3, sine/delayed/pathint 1e-3; mup 3e-2)." };
        var clip = new Option<double?>("--clip") { Description = "Global gradient-norm clip per network, 0 = off (default: the task's recipe, 1)." };
        var maxEpochs = new Option<int?>("--max-epochs") { Description = "Epoch budget (default: the task's recipe: 6000, sine 8000)." };
        var threshold = new Option<double?>("--threshold") { Description = "Stop MSE (task default: flipflop 1e-3, delayed 1e-2, sine 5e-2, pathint 5e-2)." };
        var patience = new Option<int?>("--patience") { Description = "Epochs trained after reaching the threshold (default: the task's recipe, 3)." };
        var every = new Option<int?>("--checkpoint-every") { Description = "Checkpoint cadence in epochs (default 50)." };
        var seed = new Option<long?>("--seed") { Description = "Base seed: network e gets seed + e (default 0)." };
        var backend = new Option<string?>("--backend") { Description = "auto | cpu | reference | ilgpu-cpu | cuda | opencl (default auto)." };
        var threads = new Option<int?>("--threads") { Description = "CPU worker threads, 0 = all cores, at most 1024 (default 0)." };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Run directory for checkpoint, metrics.csv, summary.json." };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "Continue the run in this directory from its last checkpoint; only --max-epochs (not below the epoch reached), --threads, --backend, --checkpoint-every and --quiet may change." };
        var force = new Option<bool>("--force") { Description = "Start over in an --out that holds another run's files: delete them (checkpoint, metrics, summary, config, figures, distances/, fixed-points/) first." };
        var quiet = new Option<bool>("--quiet") { Description = "Only the final summary." };
        var guide = new Option<string?>("--guide") { Description = "Guidance: a run directory trained on the same task, or guide states .npy [P][T][N] or [G][P][T][N] on the probe trials (engine run GUIDE --trials P). Adds lambda*(1 - CKA) to the loss." };
        var guideUntrained = new Option<bool?>("--guide-untrained") { Description = "Guide with the guide run's initial (untrained) parameters: only its architecture's prior." };
        var guideStrength = new Option<double?>("--guide-strength") { Description = "Guidance lambda (default 1 with --guide)." };
        var guideRows = new Option<string?>("--guide-rows") { Description = "Rows of the guidance CKA: samples (trial x step, the state geometry compare --cka measures) | trials (the paper's form: each trial's states flattened) (default samples)." };
        var guideEpochs = new Option<int?>("--guide-epochs") { Description = "Guidance only for the first K epochs, 0 = always (default 0)." };
        var guideHalfLife = new Option<double?>("--guide-half-life") { Description = "Guidance lambda halves every H epochs, 0 = constant (default 0)." };
        var guideNetwork = new Option<int?>("--guide-network") { Description = "The guide network every network follows (default 0); -1 pairs network e with guide network e mod G." };
        var diversity = new Option<double?>("--diversity") { Description = "Diversity mu: penalise how well a ridge readout of each network predicts the networks before it (and --diversity-against runs) (default 0)." };
        var diversityStride = new Option<int?>("--diversity-stride") { Description = "Every k-th probe step enters the diversity regression, 0 = about max(128, 2N) samples (default 0)." };
        var diversityAgainst = new Option<string?>("--diversity-against") { Description = "Comma-separated earlier run directories (same task) whose networks are diversity targets too." };
        var representationTrials = new Option<int?>("--representation-trials") { Description = "P, fixed probe trials (the first P of every batch) that guidance and diversity read (default 16)." };
        var representationSeed = new Option<long?>("--representation-seed") { Description = "Seed of the probe trials; engine run --seed S records a guide on the same ones (default 12345)." };

        var cmd = new Command("train", "Train an ensemble until every network reaches the threshold (or its budget).")
        {
            config, task, taskSetting, bits, pulse, frequencies, channels, dt, delayMin, delayMax, aux, dims, maxSpeed, headingNoise, placeCells, placeWidth, fillerMax, networks, hidden, cell, activation, alpha, noise, initial, trials, steps, lr, clip,
            maxEpochs, threshold, patience, every, seed, backend, threads, output, resume, force, quiet,
            param, gamma, gain, rank, l1, l2, nuclear, activityReg, plateau, plateauFactor, probes,
            guide, guideUntrained, guideStrength, guideRows, guideEpochs, guideHalfLife, guideNetwork, diversity, diversityStride, diversityAgainst,
            representationTrials, representationSeed,
            trainSamples, testEvery, testTrials, testPatience, components,
        };
        var fixedPoint = FixedPointRnnCommand.AddTrainOptions(cmd, new(task, networks, hidden, trials, lr, clip, maxEpochs, threshold, seed, threads, output, force, quiet));
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            if (string.Equals(r.GetValue(cell), "composed", StringComparison.OrdinalIgnoreCase))
            {
                return TrainSequenceCommand.Single(r.GetValue(task), r.GetValue(components), r.GetValue(rank), r.GetValue(hidden), r.GetValue(networks), r.GetValue(lr), r.GetValue(maxEpochs), r.GetValue(seed), r.GetValue(threads), r.GetValue(output)?.FullName);
            }

            if (fixedPoint.Handles(r, r.GetValue(cell)))
            {
                return fixedPoint.Train(r);
            }

            var flags = new TrainConfig
            {
                Task = r.GetValue(task), TaskSettings = TaskSettingFlags(r.GetValue(taskSetting)), Bits = r.GetValue(bits), PulseProbability = r.GetValue(pulse),
                Frequencies = r.GetValue(frequencies), Channels = r.GetValue(channels), Dt = r.GetValue(dt),
                DelayMin = r.GetValue(delayMin), DelayMax = r.GetValue(delayMax), Aux = r.GetValue(aux),
                Dimensions = r.GetValue(dims), MaxSpeed = r.GetValue(maxSpeed), HeadingNoise = r.GetValue(headingNoise), FillerMax = r.GetValue(fillerMax), PlaceCells = r.GetValue(placeCells), PlaceWidth = r.GetValue(placeWidth),
                Networks = r.GetValue(networks), Hidden = r.GetValue(hidden), Cell = r.GetValue(cell),
                Activation = r.GetValue(activation), Alpha = r.GetValue(alpha), Noise = r.GetValue(noise),
                InitialState = r.GetValue(initial), Trials = r.GetValue(trials), Steps = r.GetValue(steps),
                LearningRate = r.GetValue(lr), Clip = r.GetValue(clip), MaxEpochs = r.GetValue(maxEpochs),
                Threshold = r.GetValue(threshold), Patience = r.GetValue(patience), CheckpointEvery = r.GetValue(every),
                Seed = r.GetValue(seed), Backend = r.GetValue(backend), Threads = r.GetValue(threads),
                Parameterization = r.GetValue(param), Gamma = r.GetValue(gamma), Gain = r.GetValue(gain), Rank = r.GetValue(rank),
                L1 = r.GetValue(l1), L2 = r.GetValue(l2), Nuclear = r.GetValue(nuclear), Activity = r.GetValue(activityReg),
                PlateauPatience = r.GetValue(plateau), PlateauFactor = r.GetValue(plateauFactor), ProbeTrials = r.GetValue(probes),
                Guide = r.GetValue(guide), GuideUntrained = r.GetValue(guideUntrained), GuideStrength = r.GetValue(guideStrength),
                GuideEpochs = r.GetValue(guideEpochs), GuideRows = r.GetValue(guideRows), GuideHalfLife = r.GetValue(guideHalfLife), GuideNetwork = r.GetValue(guideNetwork),
                Diversity = r.GetValue(diversity), DiversityStride = r.GetValue(diversityStride),
                DiversityAgainst = r.GetValue(diversityAgainst)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                RepresentationTrials = r.GetValue(representationTrials), RepresentationSeed = r.GetValue(representationSeed),
                TrainSamples = r.GetValue(trainSamples), TestEvery = r.GetValue(testEvery), TestTrials = r.GetValue(testTrials), TestPatience = r.GetValue(testPatience),
            };
            var resumeDir = r.GetValue(resume);
            if (resumeDir is null)
            {
                return Start(r.GetValue(config)?.FullName, flags, r.GetValue(output)?.FullName, r.GetValue(force), r.GetValue(quiet));
            }

            if (r.GetValue(config) is { } c)
            {
                throw new ArgumentException($"--config {c.FullName} cannot be used with --resume: the run's settings are its own config.json.", "--config");
            }

            if (r.GetValue(output) is { } o && Path.GetFullPath(o.FullName).TrimEnd('/') != Path.GetFullPath(resumeDir.FullName).TrimEnd('/'))
            {
                throw new ArgumentException($"--out {o.FullName} differs from --resume {resumeDir.FullName}: a resumed run stays in its directory.", "--out");
            }

            if (r.GetValue(force))
            {
                throw new ArgumentException("--force starts a run over and cannot be used with --resume; use --out DIR --force.", "--force");
            }

            return Resume(resumeDir.FullName, flags, r.GetValue(quiet));
        }));
        return cmd;
    }

    private static int Start(string? configPath, TrainConfig flags, string? outDir, bool force, bool quiet)
    {
        var cfg = (configPath is null ? new TrainConfig() : TrainConfig.Load(configPath)).Merge(flags);
        if (outDir is null)
        {
            throw new ArgumentException("--out DIR is required (or --resume DIR to continue a run).", "--out");
        }

        // Everything is checked before the directory is created or touched.
        ITrialTask task;
        Engine.Model.EnsembleSpec spec;
        long[] seeds;
        TrainingOptions options;
        IEnsembleBackend backend;
        RepresentationTargets targets = RepresentationTargets.None;
        try
        {
            task = cfg.BuildTask();
            spec = cfg.BuildSpec(task);
            seeds = cfg.BuildSeeds(spec.Networks);
            options = cfg.BuildOptions(spec.Networks);
            Trainer.CheckSizes(spec, options, options.StepsFor(task));
            backend = BackendFactory.Create(cfg.Backend ?? "auto", cfg.Threads ?? 0);
            if (options.HasRepresentationalLoss(spec.Networks))
            {
                try
                {
                    targets = RepresentationTargets.Record(backend, task, options, options.StepsFor(task), cfg.Guide, cfg.GuideUntrained == true);
                    _ = ProbeTrials.Loss(options, spec, options.StepsFor(task), targets);
                }
                catch
                {
                    backend.Dispose();
                    throw;
                }
            }
        }
        catch (ArgumentException e) when (configPath is not null && !Builds(TrainConfig.Load(configPath)))
        {
            // The config file alone is already wrong: name it, so the user knows where the value came from.
            throw new ArgumentException($"{configPath}: {e.Message.Split('\n')[0]}", e);
        }

        using var owned = backend;
        var run = new RunDirectory(outDir);
        using var claim = Claim(run);
        if (run.ExistingRunFiles() is { Count: > 0 } old)
        {
            if (!force)
            {
                throw new ArgumentException(run.HasCheckpoint
                    ? $"{run.Path} already holds a run ({Checkpoint.FileName}); continue it with --resume {outDir}, pick a new --out, or start over with --force (deletes it)."
                    : $"{run.Path} holds another run's files ({string.Join(", ", old)}) but no {Checkpoint.FileName}; pick a new --out, or start over with --force (deletes them).", "--out");
            }

            run.ClearRun();
            Console.WriteLine($"--force: deleted {string.Join(", ", old)} in {run.Path}");
        }

        AtomicFile.WriteText(Path.Combine(run.Path, "config.json"), cfg.ToJson());
        targets.Save(run.Path);
        run.ResetMetrics();
        var state = Initializer.NewRun(spec, seeds, task.Name, task.Settings, options);
        return Train(run, backend, task, state, quiet, targets);
    }

    /// <summary>Whether a config (without the command line's flags) builds a valid run.</summary>
    private static bool Builds(TrainConfig c)
    {
        try
        {
            var task = c.BuildTask();
            var spec = c.BuildSpec(task);
            c.BuildSeeds(spec.Networks);
            var options = c.BuildOptions(spec.Networks);
            Trainer.CheckSizes(spec, options, options.StepsFor(task));
            BackendFactory.CheckThreads(c.Threads ?? 0);
            return c.Backend is null || BackendFactory.Names.Contains(c.Backend.Trim().ToLowerInvariant());
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The settings a resumed run may change; every other flag must agree with the stored run.</summary>
    internal static readonly IReadOnlySet<string> MayChangeOnResume = new HashSet<string>
    {
        nameof(TrainConfig.MaxEpochs), nameof(TrainConfig.Threads), nameof(TrainConfig.Backend), nameof(TrainConfig.CheckpointEvery),
    };

    private static int Resume(string dir, TrainConfig flags, bool quiet)
    {
        string full = Path.GetFullPath(dir);
        if (!File.Exists(Path.Combine(full, Checkpoint.FileName)))
        {
            throw new ArgumentException($"{full}: no {Checkpoint.FileName} to resume from.", "--resume");
        }

        string cfgPath = Path.Combine(full, "config.json");
        TrainConfig? saved = File.Exists(cfgPath) ? TrainConfig.Load(cfgPath) : null;
        CheckUnchanged(flags, saved, cfgPath);
        var cfg = (saved ?? new TrainConfig()).Merge(flags);
        using var backend = BackendFactory.Create(cfg.Backend ?? "auto", cfg.Threads ?? 0);
        var run = new RunDirectory(full);
        using var claim = Claim(run);
        var state = Checkpoint.Load(run.CheckpointPath);
        if (flags.MaxEpochs is { } max)
        {
            if (max < state.Epoch)
            {
                throw new ArgumentOutOfRangeException("--max-epochs", max, $"--max-epochs {max} is below the epoch this run has reached ({state.Epoch}); give at least {state.Epoch}.");
            }

            state.Options = (state.Options with { MaxEpochs = max }).Validate(state.Ensemble.Spec.Networks);
            if (max > state.Epoch)
            {
                state.ReopenNotConverged();
            }
        }

        if (flags.CheckpointEvery is { } every)
        {
            state.Options = (state.Options with { CheckpointEvery = every }).Validate(state.Ensemble.Spec.Networks);
        }

        var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
        Trainer.CheckSizes(state.Ensemble.Spec, state.Options, state.Options.StepsFor(task));
        var targets = state.Options.HasRepresentationalLoss(state.Ensemble.Spec.Networks)
            ? RepresentationTargets.Load(run.Path, state.Options, state.Options.StepsFor(task))
            : RepresentationTargets.None;
        int last = run.TruncateMetrics(state.Epoch);
        run.TruncateRepresentation(state.Epoch);
        if (last < state.Epoch)
        {
            Console.Error.WriteLine($"warning: {run.MetricsPath} ends at epoch {last} but the checkpoint is at epoch {state.Epoch}: " +
                $"the losses of epochs {last + 1}–{state.Epoch} were lost from the file (it was cut or edited) and cannot be recovered; the curve has a gap there.");
        }

        if (saved is not null)
        {
            AtomicFile.WriteText(cfgPath, cfg.ToJson());
        }

        Console.WriteLine($"resuming {run.Path} at epoch {state.Epoch}");
        return Train(run, backend, task, state, quiet, targets);
    }

    /// <summary>Takes the run directory's lock (one writer at a time) and reports a takeover or leftover temp files.</summary>
    private static FolderLock Claim(RunDirectory run)
    {
        var claim = FolderLock.Acquire(run.Path, "the run");
        if (claim.TakeoverMessage is { } takeover)
        {
            Console.WriteLine(takeover);
        }

        if (claim.RemovedTempFiles.Count > 0)
        {
            Console.WriteLine($"removed {claim.RemovedTempFiles.Count} leftover temp file(s) of an interrupted write: {string.Join(", ", claim.RemovedTempFiles.Select(Path.GetFileName))}");
        }

        return claim;
    }

    /// <summary>Throws, naming the flag, when a flag given with --resume would change the stored run.</summary>
    /// <remarks>
    /// A flag differs when the task, spec, seeds or options built from the stored config with that flag applied differ
    /// from those built without it, so a flag repeating the stored value (or its default) is accepted.
    /// </remarks>
    private static void CheckUnchanged(TrainConfig flags, TrainConfig? saved, string cfgPath)
    {
        var given = typeof(TrainConfig).GetProperties()
            .Where(p => p.CanWrite && !MayChangeOnResume.Contains(p.Name) && p.GetValue(flags) is not null)
            .ToArray();
        if (given.Length == 0)
        {
            return;
        }

        string allowed = "only --max-epochs, --threads, --backend, --checkpoint-every and --quiet may change on resume";
        if (saved is null)
        {
            throw new ArgumentException($"{FlagName(given[0].Name)} cannot be checked against the stored run: {cfgPath} is missing; {allowed}.", FlagName(given[0].Name));
        }

        string stored = Resolved(saved);
        foreach (var prop in given)
        {
            var one = new TrainConfig();
            prop.SetValue(one, prop.GetValue(flags));
            string value = Convert.ToString(prop.GetValue(flags), CultureInfo.InvariantCulture) ?? "";
            string was = prop.GetValue(saved) is { } v ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? "" : "the default";
            if (Resolved(saved.Merge(one)) != stored)
            {
                throw new ArgumentException($"{FlagName(prop.Name)} {value} differs from the stored run ({was}, in {cfgPath}); {allowed}. Start a new run with --out for other settings.", FlagName(prop.Name));
            }
        }
    }

    /// <summary>Everything a config decides about a run except the settings that may change on resume, as comparable text.</summary>
    private static string Resolved(TrainConfig c)
    {
        var task = c.BuildTask();
        var spec = c.BuildSpec(task);
        var options = c.BuildOptions(spec.Networks) with { MaxEpochs = 1, CheckpointEvery = 1 };
        return System.Text.Json.JsonSerializer.Serialize(new
        {
            task = task.Name,
            settings = task.Settings.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray(),
            spec,
            options,
            seeds = c.BuildSeeds(spec.Networks),
        }, ResolvedJson);
    }

    private static readonly System.Text.Json.JsonSerializerOptions ResolvedJson = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static string FlagName(string property) => property switch
    {
        nameof(TrainConfig.LearningRate) => "--lr",
        _ => "--" + string.Concat(property.Select((ch, i) => char.IsUpper(ch) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(ch) : ch.ToString())),
    };

    /// <summary>One line: mean CKA to the guide and mean predictability over the networks, at the first and last epoch recorded.</summary>
    private static string RepresentationSummary(string csv)
    {
        var rows = File.ReadLines(csv).Skip(1).Select(l => l.Split(',')).Where(f => f.Length == 4)
            .Select(f => (Epoch: int.Parse(f[1], CultureInfo.InvariantCulture), Cka: double.Parse(f[2], CultureInfo.InvariantCulture), Rho: double.Parse(f[3], CultureInfo.InvariantCulture)))
            .ToArray();
        string Mean(Func<(int Epoch, double Cka, double Rho), double> pick, int epoch)
        {
            var v = rows.Where(r => r.Epoch == epoch).Select(pick).Where(double.IsFinite).ToArray();
            return v.Length == 0 ? "—" : v.Average().ToString("F3", CultureInfo.InvariantCulture);
        }

        if (rows.Length == 0)
        {
            return "representation: nothing recorded";
        }

        int first = rows.Min(r => r.Epoch), lastEpoch = rows.Max(r => r.Epoch);
        return $"representation: CKA to the guide {Mean(r => r.Cka, first)} (epoch {first}) → {Mean(r => r.Cka, lastEpoch)} (epoch {lastEpoch}); " +
            $"predictability of earlier networks {Mean(r => r.Rho, first)} → {Mean(r => r.Rho, lastEpoch)}";
    }

    private static int Train(RunDirectory run, IEnsembleBackend backend, ITrialTask task, TrainingState state, bool quiet, RepresentationTargets targets)
    {
        var spec = state.Ensemble.Spec;
        var opt = state.Options;
        Console.WriteLine($"backend: {backend.Name} ({backend.Device})");
        Console.WriteLine($"task: {task.Name} {string.Join(' ', task.Settings.Select(kv => $"{kv.Key}={kv.Value}"))}; " +
            $"E={spec.Networks} N={spec.Hidden} B={opt.Trials} T={opt.StepsFor(task)} lr={opt.LearningRate:G3} threshold={opt.Threshold ?? task.DefaultThreshold:G3} max_epochs={opt.MaxEpochs}");
        using var interrupts = new Interrupts("interrupt: finishing the current epoch and writing a checkpoint…");
        var progress = new ProgressPrinter(quiet);
        Trainer.Train(backend, task, state,
            onEpoch: report =>
            {
                run.AddMetrics(report);
                progress.Epoch(report, opt.MaxEpochs);
            },
            onCheckpoint: s => run.Save(s, backend.Name),
            cancel: interrupts.Token,
            targets: targets);

        progress.Summary(state);
        if (opt.FiniteData)
        {
            for (int e = 0; e < spec.Networks; e++)
            {
                var n = state.Networks[e];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  network {e,3}  train samples {opt.TrainSamplesOf(e),6}  held-out test MSE {n.TestLoss:E3}  best {n.BestTestLoss:E3} (epoch {n.BestTestEpoch})"));
            }
        }

        string png = Path.Combine(run.Path, "loss.png");
        Engine.Training.TrainingFigures.LossCurves(run.MetricsPath, opt.Threshold ?? task.DefaultThreshold, png,
            $"{task.Name}: {spec.Networks} networks, N={spec.Hidden} ({backend.Name})");
        var examples = Engine.Analysis.Evaluation.SharedTrials(state.Ensemble, task, 3, opt.StepsFor(task), 4242);
        var (outputs, _) = state.Ensemble.Run(backend, examples, keepStates: false);
        string examplesPng = Path.Combine(run.Path, "examples.png");
        Engine.Analysis.TrialFigures.Examples(examples, outputs, 0, examplesPng, $"{task.Name}: network 0 on fresh trials");
        Console.WriteLine($"wrote {run.CheckpointPath}, {run.MetricsPath}, {run.SummaryPath}, {png}, {examplesPng}");
        if (File.Exists(run.RepresentationPath))
        {
            string repPng = Path.Combine(run.Path, "representation.png");
            Engine.Training.TrainingFigures.RepresentationCurves(run.RepresentationPath, repPng, $"{task.Name}: representational terms ({opt.GuideSource ?? "no guide"}, diversity {opt.Diversity:G3})");
            Console.WriteLine(RepresentationSummary(run.RepresentationPath));
            Console.WriteLine($"wrote {run.RepresentationPath}, {repPng}");
        }
        if (interrupts.Requested)
        {
            Console.WriteLine($"interrupted at epoch {state.Epoch}; continue with: train --resume {run.Path}");
            return 130;
        }

        return 0;
    }

    /// <summary>Parses repeated <c>--task-setting KEY=VALUE</c> flags (null when none were given).</summary>
    internal static Dictionary<string, string>? TaskSettingFlags(string[]? values)
    {
        if (values is not { Length: > 0 })
        {
            return null;
        }

        var settings = new Dictionary<string, string>();
        foreach (string v in values)
        {
            int eq = v.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"--task-setting must be KEY=VALUE, got '{v}'.", "--task-setting");
            }

            settings[v[..eq].Trim()] = v[(eq + 1)..].Trim();
        }

        return settings;
    }
}
