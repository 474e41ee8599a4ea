using System.Globalization;
using System.Text.Json;
using Engine.Analysis;
using Engine.Backends;
using Engine.Distances;
using Engine.IO;
using Engine.Tasks;
using Engine.Tests.Support;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Cli;

/// <summary>The CLI's numbers equal the library's own results for the same checkpoint and settings, not only "the files exist".</summary>
[NonParallelizable]
public sealed partial class CliValueTests
{
    private string _dir = null!;

    [OneTimeSetUp]
    public void TrainOnce()
    {
        _dir = Directory.CreateTempSubdirectory("cli-values").FullName;
        // Trained to the study's threshold (0.05), which all three networks reach in 100–150 epochs: σ_OOD over converged
        // networks is then a number, and the fixed points are those of a trained flip-flop.
        var (code, _, err) = Support.CliHarness.Run("train", "--task", "flipflop", "--bits", "1", "--networks", "3", "--hidden", "8", "--threshold", "0.05",
            "--lr", "1e-2", "--max-epochs", "300", "--backend", "cpu", "--out", Path.Combine(_dir, "run"), "--quiet");
        Assert.That(code, Is.EqualTo(0), err);
    }

    [OneTimeTearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private string Run => Path.Combine(_dir, "run");

    /// <summary>A fresh output folder for one command, so no test reads another's files.</summary>
    private string OutFolder(string name) => Path.Combine(_dir, name);

    [Test]
    public void EvalOod_WritesTheLibrarysEvaluation_InJsonAndCsv()
    {
        var (code, _, err) = Support.CliHarness.Run("eval", "--ood", Run, "--trials", "8");
        Assert.That(code, Is.EqualTo(0), err);
        var state = Checkpoint.Load(Path.Combine(Run, Checkpoint.FileName));
        var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
        using var backend = BackendFactory.Create("cpu");
        var expected = Evaluation.Run(backend, state, task, trials: 8);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Run, "eval.json")));
        var ood = json.RootElement.GetProperty("ood_mse").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var id = json.RootElement.GetProperty("id_mse").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.That(ood, Is.EqualTo(expected.OodMse).Within(1e-12));
        Assert.That(id, Is.EqualTo(expected.InDistributionMse).Within(1e-12));
        Assert.That(json.RootElement.GetProperty("ood_steps").GetInt32(), Is.EqualTo(expected.OodSteps));
        var rows = File.ReadAllLines(Path.Combine(Run, "eval.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.That(rows.Select(r => double.Parse(r[4], CultureInfo.InvariantCulture)), Is.EqualTo(expected.OodMse).Within(1e-12));
    }

    [Test]
    public void CompareCka_WritesTheLibrarysMatrix()
    {
        var (code, _, err) = Support.CliHarness.Run("compare", Run, "--metric", "cka", "--all", "--backend", "cpu", "--trials", "6");
        Assert.That(code, Is.EqualTo(0), err);
        var state = Checkpoint.Load(Path.Combine(Run, Checkpoint.FileName));
        var task = TaskRegistry.Create(state.TaskName, state.TaskSettings);
        using var backend = BackendFactory.Create("cpu");
        var states = StateSet.Record(backend, state.Ensemble, task, 6, state.Options.StepsFor(task), 12345, [0, 1, 2]);
        var expected = Cka.Compute(TestBackends.Cpu, states);
        // cka.csv: a header row of ids, then one row per network (its id, then its distances).
        var rows = File.ReadAllLines(Path.Combine(Run, "distances", "cka.csv")).Skip(1).Select(l => l.Split(',').Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.That(rows, Has.Length.EqualTo(3));
        Assert.That(rows.SelectMany(r => r).ToArray(), Is.EqualTo(expected.Values).Within(1e-9));
        Assert.That(expected.Mean(), Is.GreaterThan(0), "a non-trivial matrix");
    }
}
