using Engine.Analysis;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>With the task's default knobs and stop threshold, a small ensemble of each task converges in a test-sized budget.</summary>
public sealed class TaskConvergenceTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(new SineTask(), 48, 40, 3e-3).SetArgDisplayNames("sine");
        yield return new TestCaseData(new DelayedDiscriminationTask(), 48, null, 1e-3).SetArgDisplayNames("delayed");
        yield return new TestCaseData(new PathIntegrationTask(2), 64, 30, 3e-3).SetArgDisplayNames("pathint2d");
    }

    [TestCaseSource(nameof(Cases))]
    public void SmallEnsemble_ReachesTheTaskThreshold_AndEvaluatesInAndOutOfDistribution(ITrialTask task, int hidden, int? steps, double lr)
    {
        var spec = new EnsembleSpec { Networks = 2, Hidden = hidden, Inputs = task.Inputs, Outputs = task.Outputs };
        var options = new TrainingOptions { Trials = 32, Steps = steps, LearningRate = lr, ClipNorm = 1, MaxEpochs = 4000, ProbeTrials = 0 };
        using var backend = BackendFactory.Create("cpu");
        var state = Trainer.Train(backend, task, spec, [11, 12], options);
        TestContext.Out.WriteLine(string.Join(", ", state.Networks.Select(n => $"{n.Status} after {n.Epochs}: {n.LastLoss:E2}")));
        Assert.That(state.Networks.Select(n => n.Status), Is.All.EqualTo(NetworkStatus.Converged), $"threshold {task.DefaultThreshold}");

        var eval = Evaluation.Run(backend, state, task, trials: 16);
        Assert.That(eval.OodSteps, Is.GreaterThan(eval.Steps));
        Assert.That(eval.InDistributionMse, Has.All.LessThan(5 * task.DefaultThreshold), "fresh in-distribution trials");
        Assert.That(eval.OodMse, Has.All.Matches<double>(double.IsFinite));
        Assert.That(eval.SigmaOod, Is.GreaterThanOrEqualTo(0));
    }
}
