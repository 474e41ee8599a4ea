using Engine.Composed;
using Engine.Tasks.Cognitive;
using NUnit.Framework;

namespace Engine.Tests.Composed;

[Explicit]
public sealed class ComposedExploreTests
{
    [Test]
    public void Explore()
    {
        string cell = Environment.GetEnvironmentVariable("X_CELL") ?? "composed";
        string tasks = Environment.GetEnvironmentVariable("X_TASKS") ?? "delaygo,delayanti,dm1,dm2";
        var o = new SequenceOptions
        {
            Cell = cell == "plain" ? CellKind.Plain : CellKind.Composed,
            Context = Environment.GetEnvironmentVariable("X_CTX") == "inferred" ? ContextSource.Inferred : ContextSource.Oracle,
            Hidden = int.Parse(Environment.GetEnvironmentVariable("X_N") ?? "32"), Rank = int.Parse(Environment.GetEnvironmentVariable("X_R") ?? "2"), Networks = int.Parse(Environment.GetEnvironmentVariable("X_E") ?? "2"), Batch = 32,
            LearningRate = double.Parse(Environment.GetEnvironmentVariable("X_LR") ?? "0.01"), Criterion = double.Parse(Environment.GetEnvironmentVariable("X_CRIT") ?? "0.8"), MaxBatches = int.Parse(Environment.GetEnvironmentVariable("X_MAX") ?? "400"), EvalEvery = 20, EvalTrials = 64, Threads = 2,
            Task = new CognitiveOptions { Dt = 50, Ring = 8, TimeScale = double.Parse(Environment.GetEnvironmentVariable("X_TS") ?? "0.5") },
        };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (r, _) = ContinualLearning.Run(o, tasks.Split(','), s => TestContext.Progress.WriteLine(s));
        TestContext.Progress.WriteLine($"{sw.Elapsed.TotalSeconds:F1}s keys {string.Join(",", r.ComponentKeys)}");
        foreach (var s in r.Stages) TestContext.Progress.WriteLine($"{s.Task}: batches {string.Join(",", s.Batches)} new {string.Join(",", s.NewComponents)} reused {string.Join(",", s.ReusedComponents)}");
    }
}
