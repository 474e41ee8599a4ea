using System.Globalization;
using System.Text;
using Engine.Tasks;

namespace Engine.Study;

/// <summary>Projected wall time of one stage of a planned study.</summary>
/// <param name="Stage">train, eval, dsa, pif, cka, shape, fixed_points.</param>
/// <param name="Units">Groups (train) or conditions (analyses) of that stage.</param>
/// <param name="Seconds">Projected seconds, all units together, on the machine that measured.</param>
public sealed record StageProjection(string Stage, int Units, double Seconds);

/// <summary>Projects a study's wall time from the measured costs of a finished study on the same machine.</summary>
/// <remarks>
/// Training: per task, the measured seconds per unit of work k = Σ seconds / Σ_networks epochs·B·T·(N² + N(I+O)) over the
/// finished study's groups; a planned network costs k·B·T·(N² + N(I+O)) times the mean epochs its task's networks took at
/// the nearest measured width (networks stop on their own, so this beats the epoch budget as a guess). Analyses: per stage
/// a power law t = a · units · N^b fitted by least squares on log t over the measured conditions, with units = pairs for the
/// pairwise distances and networks for eval and fixed points (b = 2 when only one width was measured). The projection is
/// only as good as the measured widths and tasks are close to the planned ones: stages or tasks never measured are
/// reported with NaN seconds.
/// </remarks>
public static class StudyEstimate
{
    /// <summary>Projects every stage of <paramref name="plan"/> from the finished study <paramref name="measured"/>.</summary>
    public static IReadOnlyList<StageProjection> Project(StudyPlan plan, StudyPlan measuredPlan, StudyResults measured)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(measuredPlan);
        ArgumentNullException.ThrowIfNull(measured);
        var result = new List<StageProjection>();

        // Training: seconds per unit of work and mean epochs per (task, width).
        var work = new Dictionary<string, double>();
        var seconds = new Dictionary<string, double>();
        var epochs = new Dictionary<(string Task, int Width), List<int>>();
        foreach (var g in measuredPlan.Groups)
        {
            var (task, spec, _, options) = StudyRunner.TrainingFor(measuredPlan, g);
            double unit = UnitCost(spec.Hidden, task, options.Trials, options.StepsFor(task));
            var nets = measured.Networks.Where(n => g.Conditions.Contains(n.Condition)).ToArray();
            work[task.Name] = work.GetValueOrDefault(task.Name) + nets.Sum(n => (double)n.Epochs) * unit;
            seconds[task.Name] = seconds.GetValueOrDefault(task.Name) + measured.Timings.Where(t => t.Stage == "train" && t.Unit == g.Id).Sum(t => t.Seconds);
            var key = (task.Name, spec.Hidden);
            if (!epochs.TryGetValue(key, out var list))
            {
                epochs[key] = list = [];
            }

            list.AddRange(nets.Select(n => n.Epochs));
        }

        double train = 0;
        foreach (var g in plan.Groups)
        {
            var (task, spec, seeds, options) = StudyRunner.TrainingFor(plan, g);
            if (!work.TryGetValue(task.Name, out double w) || w <= 0)
            {
                train = double.NaN;
                continue;
            }

            var near = epochs.Keys.Where(k => k.Task == task.Name).OrderBy(k => Math.Abs(Math.Log((double)k.Width / spec.Hidden))).First();
            double meanEpochs = epochs[near].Average();
            train += seconds[task.Name] / w * seeds.Length * meanEpochs * UnitCost(spec.Hidden, task, options.Trials, options.StepsFor(task));
        }

        result.Add(new StageProjection("train", plan.Groups.Count, train));

        // Analyses: t = a · units · N^b per stage.
        var widthOf = measuredPlan.Conditions.ToDictionary(c => c.Id, c => c.Width);
        var seedsOf = plan.Conditions.ToDictionary(c => c.Id, c => c.Seeds.Length);
        foreach (var stage in (plan.Config.Analyses ?? new StudyAnalyses()).Stages)
        {
            var points = measured.Timings.Where(t => t.Stage == stage && t.Seconds > 0 && widthOf.ContainsKey(t.Unit))
                .Select(t => (Width: (double)widthOf[t.Unit], PerUnit: t.Seconds / Units(stage, measured.Networks.Count(n => n.Condition == t.Unit && n.Status == "converged"))))
                .Where(p => double.IsFinite(p.PerUnit) && p.PerUnit > 0).ToArray();
            if (points.Length == 0)
            {
                result.Add(new StageProjection(stage, plan.Conditions.Count, double.NaN));
                continue;
            }

            var (a, b) = FitPowerLaw(points.Select(p => p.Width).ToArray(), points.Select(p => p.PerUnit).ToArray());
            double total = plan.Conditions.Sum(c => a * Units(stage, seedsOf[c.Id]) * Math.Pow(c.Width, b));
            result.Add(new StageProjection(stage, plan.Conditions.Count, total));
        }

        return result;
    }

    /// <summary>The projection as a Markdown table with a total.</summary>
    public static string Format(IReadOnlyList<StageProjection> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        var sb = new StringBuilder("| stage | units | projected |\n|---|---|---|\n");
        foreach (var s in stages)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {s.Stage} | {s.Units} | {Duration(s.Seconds)} |\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"| **total** | | **{Duration(stages.Sum(s => s.Seconds))}** |\n");
        return sb.ToString();
    }

    /// <summary>Seconds as s, min or h.</summary>
    public static string Duration(double seconds) => !double.IsFinite(seconds) ? "not measured"
        : seconds < 90 ? string.Create(CultureInfo.InvariantCulture, $"{seconds:F0} s")
        : seconds < 5400 ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:F1} min")
        : string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:F1} h");

    private static double UnitCost(int n, ITrialTask task, int trials, int steps) => (double)trials * steps * ((double)n * n + (double)n * (task.Inputs + task.Outputs));

    private static double Units(string stage, int networks) => stage is "eval" or "fixed_points" ? networks : networks * (networks - 1) / 2.0;

    private static (double A, double B) FitPowerLaw(double[] x, double[] y)
    {
        var lx = x.Select(v => Math.Log(v)).ToArray();
        var ly = y.Select(v => Math.Log(v)).ToArray();
        double mx = lx.Average(), my = ly.Average();
        double sxx = lx.Sum(v => (v - mx) * (v - mx));
        double b = sxx > 1e-12 ? lx.Zip(ly).Sum(p => (p.First - mx) * (p.Second - my)) / sxx : 2;
        return (Math.Exp(my - b * mx), b);
    }
}
