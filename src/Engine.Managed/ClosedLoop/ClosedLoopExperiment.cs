using System.Globalization;
using System.Text.Json;
using Engine.Backends;
using Engine.IO;
using Engine.Model;
using Engine.Tasks.Control;

namespace Engine.ClosedLoop;

/// <summary>What a closed-loop experiment runs: agents through a plant, optionally an open-loop student of each, and the records to keep.</summary>
public sealed record ClosedLoopExperimentSettings
{
    /// <summary>The plant.</summary>
    public required Plant Plant { get; init; }

    /// <summary>The control task (regulation or tracking).</summary>
    public required ControlTask Task { get; init; }

    /// <summary>Options shared by every agent.</summary>
    public required ClosedLoopOptions Options { get; init; }

    /// <summary>Per agent: seed, horizon, learning rate.</summary>
    public required IReadOnlyList<AgentSetup> Agents { get; init; }

    /// <summary>Also train an open-loop student of each agent (imitating the trained closed-loop agent) from the same initial parameters.</summary>
    public bool OpenLoop { get; init; }

    /// <summary>The students' seeds, horizons and learning rates (default: <see cref="Agents"/>).</summary>
    public IReadOnlyList<AgentSetup>? OpenLoopAgents { get; init; }

    /// <summary>What the students see.</summary>
    public OpenLoopInputs OpenLoopInputs { get; init; } = OpenLoopInputs.TeacherDriven;

    /// <summary>Record spectrum, gains and overlaps every K steps (default 10).</summary>
    public int RecordEvery { get; init; } = 10;

    /// <summary>Short horizon of the gradient-conflict angle, 0 = off (default 5).</summary>
    public int ConflictHorizon { get; init; } = 5;
}

/// <summary>The records and summaries of a closed-loop experiment (<see cref="ClosedLoopExperiment.Run"/>).</summary>
public sealed class ClosedLoopExperimentResult
{
    /// <summary>The settings it ran.</summary>
    public required ClosedLoopExperimentSettings Settings { get; init; }

    /// <summary>Closed-loop records of every agent.</summary>
    public required IReadOnlyList<StepRecord> Records { get; init; }

    /// <summary>Closed-loop records, then the students' (mode "open").</summary>
    public required IReadOnlyList<StepRecord> AllRecords { get; init; }

    /// <summary>Per agent: status, losses, ρ, stage steps and statistics, loss falls, the students' and the reduced model's figures.</summary>
    public required IReadOnlyList<Dictionary<string, object?>> Summary { get; init; }

    /// <summary>Per agent, the stages as training steps (−1: not reached).</summary>
    public required ClosedLoopStages[] Stages { get; init; }

    /// <summary>Agent 0's loss at every step.</summary>
    public required IReadOnlyList<double> Agent0Loss { get; init; }

    /// <summary>Tracking tasks: agent 0's loss on each frequency alone at every record.</summary>
    public required IReadOnlyList<(int Step, double[] Losses)> PerFrequency { get; init; }
}

/// <summary>
/// The closed-loop experiment of Ger &amp; Barak as one library call: train the agents through the plant, optionally train an
/// open-loop student of each, run the rank-one reduced model beside agent 0 where it applies, detect the stages and loss
/// falls, and write the metrics, summaries and figures. The <c>closed-loop</c> verb is this call with parsed flags.
/// </summary>
public static class ClosedLoopExperiment
{
    /// <summary>Runs the experiment on <paramref name="backend"/>; <paramref name="progress"/> gets (mode, step, losses) after every step.</summary>
    public static ClosedLoopExperimentResult Run(IEnsembleBackend backend, ClosedLoopExperimentSettings settings, Action<string, int, double[]>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(settings);
        var (plant, task, opt, setups) = (settings.Plant, settings.Task, settings.Options, settings.Agents.ToArray());
        var openSetups = (settings.OpenLoopAgents ?? settings.Agents).ToArray();
        Util.Guard.Length(openSetups.Length, setups.Length, "open-loop agents", "one per agent");
        using var closed = new ClosedLoopEnsemble(plant, task, opt, setups, backend);
        var init = closed.Parameters.Select(a => (double[])a.Clone()).ToArray();
        var agent0Loss = new List<double>(opt.Steps);
        // tracking: the loss of each frequency alone for agent 0 at every record
        using var probe = task is TrackingTask tt0 ? new TrackingProbe(backend, plant, tt0, opt, setups[0].Horizon) : null;
        var perFrequency = new List<(int Step, double[] Losses)>();
        var records = ClosedLoopRecorder.Train(closed, opt.Steps, settings.RecordEvery, settings.ConflictHorizon, (s, loss) =>
        {
            agent0Loss.Add(loss[0]);
            progress?.Invoke("closed", s, loss);
        }, probe is null ? null : s => perFrequency.Add((s, probe.Losses(closed.Parameters[0]))));
        var all = new List<StepRecord>(records);
        using var student = settings.OpenLoop ? new ClosedLoopEnsemble(plant, task, opt, openSetups, backend) : null;
        if (student is not null)
        {
            for (int i = 0; i < setups.Length; i++)
            {
                init[i].CopyTo(student.Parameters[i], 0);
            }

            student.UseOpenLoop(closed.Parameters, settings.OpenLoopInputs);
            all.AddRange(ClosedLoopRecorder.Train(student, opt.Steps, settings.RecordEvery, 0, (s, loss) => progress?.Invoke("open", s, loss)));
        }
        // the rank-one reduced model from the same initial conditions, trained alongside (SGD only)
        List<double>? reducedLoss = null;
        if (opt.RankOne && plant.IsSiso && opt.Leak == 1 && !task.ObserveReference && opt.Optimizer == ClosedLoopOptimizer.Sgd && opt.Activation == ActivationKind.Identity && opt.Train == TrainedWeights.Factors)
        {
            var red = RankOneReducedModel.FromAgent(plant, task, closed.Layout, init[0], opt.Beta);
            reducedLoss = [];
            for (int s = 0; s < opt.Steps; s++)
            {
                reducedLoss.Add(red.Step(setups[0].Horizon, setups[0].LearningRate, opt.Clip));
            }
        }

        var stages = new ClosedLoopStages[setups.Length];
        var summary = new List<Dictionary<string, object?>>();
        for (int i = 0; i < setups.Length; i++)
        {
            var rs = records.Where(x => x.Agent == i).ToArray();
            stages[i] = StageDetector.Detect(rs);
            var drops = LossSteps.Detect(rs.Select(x => x.Step).ToArray(), rs.Select(x => x.Loss).ToArray());
            var stats = StageDetector.Statistics(rs, stages[i]);
            int StepOf(int idx) => idx >= 0 ? rs[idx].Step : -1;
            var st = stages[i];
            var d = new Dictionary<string, object?>
            {
                ["agent"] = i,
                ["seed"] = setups[i].Seed,
                ["horizon"] = setups[i].Horizon,
                ["learning_rate"] = setups[i].LearningRate,
                ["status"] = closed.Status[i].ToString().ToLowerInvariant(),
                ["diverged_reason"] = closed.DivergedReason[i],
                ["first_loss"] = rs[0].Loss,
                ["final_loss"] = rs[^1].Loss,
                ["final_rho"] = rs[^1].Rho,
                ["max_rho"] = rs.Select(x => x.Rho).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max(),
                ["stage_unstable_from_step"] = StepOf(stages[i].UnstableFrom),
                ["stage_plateau_start_step"] = StepOf(stages[i].PlateauStart),
                ["stage_enter_unit_circle_step"] = StepOf(stages[i].EnterUnitCircle),
                ["stage_third_eigenvalue_growth_step"] = StepOf(stages[i].ThirdEigenvalueGrowth),
                ["stages_in_order"] = rs[0].Rho <= 1 + 1e-3 && st.UnstableFrom > 0 && st.PlateauStart > st.UnstableFrom
                    && st.EnterUnitCircle > st.PlateauStart && st.ThirdEigenvalueGrowth > st.EnterUnitCircle,
                ["initial_rho"] = rs[0].Rho,
                ["max_rho_step"] = StepOf(stats.MaxRhoAt),
                ["plateau_conflict_deg_median"] = Finite(stats.PlateauConflictDegrees),
                ["refinement_conflict_deg_median"] = Finite(stats.RefinementConflictDegrees),
                ["plateau_zigzag"] = Finite(stats.PlateauZigZag),
                ["refinement_zigzag"] = Finite(stats.RefinementZigZag),
                ["lambda3_at_entry"] = Finite(stats.ThirdEigenvalueAtEntry),
                ["lambda3_final"] = Finite(stats.ThirdEigenvalueFinal),
                ["loss_falls"] = drops.Count,
                ["loss_fall_steps"] = drops.Select(x => new[] { x.StartStep, x.EndStep }).ToArray(),
                ["loss_fall_levels"] = drops.Select(x => new[] { x.LossBefore, x.LossAfter }).ToArray(),
            };
            if (student is not null)
            {
                var os = all.Where(x => x.Mode == "open" && x.Agent == i).ToArray();
                d["open_status"] = student.Status[i].ToString().ToLowerInvariant();
                d["open_final_imitation_loss"] = os[^1].Loss;
                d["open_final_control_loss"] = os[^1].ControlLoss;
                d["open_max_rho"] = os.Select(x => x.Rho).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
                d["open_learning_rate"] = openSetups[i].LearningRate;
                var ost = StageDetector.Detect(os.Select(x => x.ControlLoss).ToArray(), os.Select(x => x.Rho).ToArray(), os.Select(x => x.ThirdEigenvalue).ToArray());
                d["open_enter_unit_circle_step"] = ost.EnterUnitCircle >= 0 ? os[ost.EnterUnitCircle].Step : -1;
                d["open_lambda3_at_closed_entry"] = st.EnterUnitCircle >= 0 ? Finite(os.Where(x => x.Step <= rs[st.EnterUnitCircle].Step).Last().ThirdEigenvalue) : null;
            }

            if (i == 0 && reducedLoss is not null)
            {
                var full = records.Where(x => x.Agent == 0 && x.Step < reducedLoss.Count).ToArray();
                d["reduced_model_max_rel_loss_difference"] = full.Max(x => Math.Abs(x.Loss - reducedLoss[x.Step]) / Math.Max(1e-300, Math.Abs(x.Loss)));
            }

            summary.Add(d);
            stages[i] = new ClosedLoopStages(StepOf(stages[i].UnstableFrom), StepOf(stages[i].PlateauStart),
                StepOf(stages[i].EnterUnitCircle), StepOf(stages[i].ThirdEigenvalueGrowth));
        }

        if (task is TrackingTask tt)
        {
            Frequencies(tt, perFrequency, records, summary);
        }

        return new ClosedLoopExperimentResult
        {
            Settings = settings, Records = records, AllRecords = all, Summary = summary, Stages = stages, Agent0Loss = agent0Loss, PerFrequency = perFrequency,
        };
    }

    /// <summary>
    /// Writes <c>metrics.csv</c>, <c>eigenvalues.csv</c>, <c>summary.json</c> (NaN and ±∞ as null), the figures
    /// (<c>loss_stages.png</c>; <c>eigenvalues.png</c> for linear agents; <c>gains.png</c> for single-input single-output
    /// plants) and, for tracking, <c>frequencies.csv</c> and <c>frequencies.png</c>, into <paramref name="outDir"/>.
    /// </summary>
    public static void Write(ClosedLoopExperimentResult result, string outDir)
    {
        ArgumentNullException.ThrowIfNull(result);
        var (plant, opt, setups) = (result.Settings.Plant, result.Settings.Options, result.Settings.Agents);
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteText(Path.Combine(outDir, "metrics.csv"), ClosedLoopRecorder.MetricsCsv(result.AllRecords));
        AtomicFile.WriteText(Path.Combine(outDir, "eigenvalues.csv"), ClosedLoopRecorder.EigenvaluesCsv(result.AllRecords));
        if (result.Settings.Task is TrackingTask tt)
        {
            WriteFrequencies(tt, result, outDir);
        }

        // JSON has no NaN or ∞: a value that is not finite (ρ of a tanh agent, a diverged loss) is written as null
        var json = result.Summary.Select(d => d.ToDictionary(kv => kv.Key, kv => JsonSafe(kv.Value))).ToList();
        AtomicFile.WriteText(Path.Combine(outDir, "summary.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        string title = $"{plant.Name}, N={opt.Hidden}, T={setups[0].Horizon}, lr={setups[0].LearningRate:G3} (agent 0)";
        var all = result.AllRecords.ToList();
        ClosedLoopFigures.LossWithStages(all, 0, result.Stages[0], Path.Combine(outDir, "loss_stages.png"), $"closed-loop stages: {title}", result.Agent0Loss.ToList());
        if (opt.Activation == ActivationKind.Identity)
        {
            ClosedLoopFigures.EigenvalueTrajectories(all, 0, Path.Combine(outDir, "eigenvalues.png"), $"eigenvalues of P: {title}");
        }

        if (plant.IsSiso)
        {
            ClosedLoopFigures.Gains(all, 0, Path.Combine(outDir, "gains.png"), $"feedback gains: {title}");
        }
    }

    private static void Frequencies(TrackingTask tt, List<(int Step, double[] Losses)> perFrequency, IReadOnlyList<StepRecord> records, List<Dictionary<string, object?>> summary)
    {
        int kf = tt.Frequencies.Length;
        var recSteps = perFrequency.Select(r => r.Step).ToArray();
        var curves = Enumerable.Range(0, kf).Select(k => perFrequency.Select(r => r.Losses[k]).ToArray()).ToArray();
        var (steps, order) = FrequencyAcquisition.Analyze(curves);
        var acquired = steps.Select(i => i >= 0 ? recSteps[i] : -1).ToArray();
        summary[0]["frequency_acquired_at_step"] = acquired;
        summary[0]["frequency_acquisition_order"] = order.Select(k => tt.Frequencies[k]).ToArray();
        summary[0]["frequencies_low_to_high"] = order.Length == kf && order.Select(k => tt.Frequencies[k]).SequenceEqual(tt.Frequencies.Order());
    }

    private static void WriteFrequencies(TrackingTask tt, ClosedLoopExperimentResult result, string outDir)
    {
        int kf = tt.Frequencies.Length;
        var perFrequency = result.PerFrequency;
        var recSteps = perFrequency.Select(r => r.Step).ToArray();
        var curves = Enumerable.Range(0, kf).Select(k => perFrequency.Select(r => r.Losses[k]).ToArray()).ToArray();
        var sb = new System.Text.StringBuilder("step," + string.Join(',', tt.Frequencies.Select(f => $"loss_w{f.ToString(CultureInfo.InvariantCulture)}")) + "\n");
        foreach (var (step, losses) in perFrequency)
        {
            sb.Append(step.ToString(CultureInfo.InvariantCulture));
            foreach (double l in losses)
            {
                sb.Append(',').Append(l.ToString("R", CultureInfo.InvariantCulture));
            }

            sb.Append('\n');
        }

        AtomicFile.WriteText(Path.Combine(outDir, "frequencies.csv"), sb.ToString());
        var (steps, order) = FrequencyAcquisition.Analyze(curves);
        var acquired = steps.Select(i => i >= 0 ? recSteps[i] : -1).ToArray();
        var total = result.Records.Where(r => r.Agent == 0).Select(r => r.Loss).ToArray();
        ClosedLoopFigures.FrequencyLosses(recSteps, curves, tt.Frequencies, acquired, total, Path.Combine(outDir, "frequencies.png"),
            $"tracking: per-frequency loss, acquisition order {string.Join(" → ", order.Select(k => tt.Frequencies[k].ToString("G3", CultureInfo.InvariantCulture)))} (agent 0)");
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static object? JsonSafe(object? v) => v switch
    {
        double d => Finite(d),
        double[] a => a.Select(Finite).ToArray(),
        double[][] a => a.Select(x => x.Select(Finite).ToArray()).ToArray(),
        _ => v,
    };
}
