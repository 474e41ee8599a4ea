using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

public sealed partial class TrainerRuleTests
{
    [Test]
    public void EpochReport_CountsEachStatus_AndMarksOnlyTheNetworksThatRan()
    {
        // Network 0 is below the threshold at once (patience 0: converged at epoch 1); at epoch 2 network 1's loss is NaN
        // (norm finite) and network 2's gradient norm is infinite (loss finite), both diverged; network 3 stays above the
        // threshold until the budget of 4 epochs runs out.
        var (state, backend, reports) = Train(Spec(4), new TrainingOptions { MaxEpochs = 4, Patience = 0 }, (call, e) => (e, call) switch
        {
            (0, _) => (1e-4f, 1f),
            (1, 1) => (float.NaN, 1f),
            (2, 1) => (0.5f, float.PositiveInfinity),
            _ => (0.5f, 1f),
        });
        Assert.That(state.Networks.Select(r => r.Status),
            Is.EqualTo(new[] { NetworkStatus.Converged, NetworkStatus.Diverged, NetworkStatus.Diverged, NetworkStatus.NotConverged }));
        Assert.That(reports.Select(r => (r.Training, r.Converged, r.Diverged)), Is.EqualTo(new[] { (3, 1, 0), (1, 1, 2), (1, 1, 2), (0, 1, 2) }));
        Assert.That(reports.Select(r => r.Trained), Is.EqualTo(new[]
        {
            new[] { true, true, true, true }, [false, true, true, true], [false, false, false, true], [false, false, false, true],
        }));
        Assert.That(reports[1].Losses, Is.EqualTo(new[] { double.NaN, double.NaN, 0.5, 0.5 }), "NaN where a network did not train or diverged");
        Assert.That(reports[2].Losses, Is.EqualTo(new[] { double.NaN, double.NaN, double.NaN, 0.5 }));
        Assert.That(Enumerable.Range(0, 4).Select(e => backend.ActiveCalls[e]), Is.EqualTo(new[] { 1, 2, 2, 4 }), "batches each network was active in");
        Assert.That(state.Networks.Select(r => r.Epochs), Is.EqualTo(new[] { 0, 1, 1, 4 }), "Adam steps: none at convergence or divergence");
        int blocks = Spec(4).Layout.BlockCount;
        Assert.That(backend.Steps[1].Take(3 * blocks).Select(c => c.StepSize), Has.All.Zero, "epoch 2: no step for the stopped networks");
        Assert.That(backend.Steps[1].Skip(3 * blocks).Select(c => c.StepSize), Has.All.GreaterThan(0f));
    }

    [Test]
    public void EpochReport_OfAResumedRun_CountsTheEpochsOfThisCall()
    {
        var state = NewState(Spec(1), new TrainingOptions { MaxEpochs = 5 });
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1f));
        using var stop = new CancellationTokenSource();
        var first = new List<EpochReport>();
        Trainer.Train(backend, Task, state, onEpoch: r =>
        {
            first.Add(r);
            if (r.Epoch == 2)
            {
                stop.Cancel();
            }
        }, cancel: stop.Token);
        var second = new List<EpochReport>();
        Trainer.Train(backend, Task, state, onEpoch: second.Add);
        Assert.That(first.Select(r => (r.Epoch, r.EpochsThisCall)), Is.EqualTo(new[] { (1, 1), (2, 2) }));
        Assert.That(second.Select(r => (r.Epoch, r.EpochsThisCall)), Is.EqualTo(new[] { (3, 1), (4, 2), (5, 3) }));
    }

    [Test]
    public void EpochReport_GenerationTime_CountsDrawingTheTrials_NotTheRunnersWork()
    {
        // The runner takes 100 ms per batch; the flip-flop trials of one tiny batch take a small part of that.
        var delay = TimeSpan.FromMilliseconds(100);
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1f)) { ComputeDelay = delay };
        var reports = new List<EpochReport>();
        Trainer.Train(backend, Task, NewState(Spec(1), new TrainingOptions { MaxEpochs = 1 }), onEpoch: reports.Add);
        var report = reports.Single();
        Assert.That(report.GenerationTime, Is.GreaterThan(TimeSpan.Zero));
        Assert.That(report.Elapsed - report.GenerationTime, Is.GreaterThanOrEqualTo(delay - TimeSpan.FromMilliseconds(5)),
            "the runner's time is outside the generation time");
    }

    [TestCase(7, 3, 0, new[] { 3, 6, 7 })] // out of epochs at 7: at 3, 6 and the end
    [TestCase(6, 3, 0, new[] { 3, 6 })] // out of epochs at a multiple: once there, at the end
    [TestCase(10, 3, 4, new[] { 3, 4 })] // cancelled after 4: at 3 and on cancelling
    [TestCase(10, 3, 3, new[] { 3 })] // cancelled after 3: nothing new to save after 3
    public void Checkpoints_AtMultiplesOfEvery_AtTheEnd_AndOnCancel_HoldingTheRunnersState(int maxEpochs, int every, int cancelAt, int[] expected)
    {
        // One network that never converges. The scripted runner counts its steps in the first moment, so a checkpoint taken
        // after epoch k holds k there when the trainer snapshotted the runner first. A finished run records its weight
        // change once, at the end; a cancelled one is not finished and records none.
        var spec = Spec(1);
        var state = NewState(spec, new TrainingOptions { MaxEpochs = maxEpochs, CheckpointEvery = every });
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1f));
        using var stop = new CancellationTokenSource();
        var saved = new List<(int Epoch, float Steps)>();
        Trainer.Train(backend, Task, state,
            onEpoch: r =>
            {
                if (r.Epoch == cancelAt)
                {
                    stop.Cancel();
                }
            },
            onCheckpoint: s => saved.Add((s.Epoch, s.FirstMoment[spec.Layout.WInOffset])), cancel: stop.Token);
        Assert.That(saved, Is.EqualTo(expected.Select(k => (k, (float)k)).ToArray()));
        if (cancelAt > 0)
        {
            Assert.That(state.WeightChange[0], Is.NaN, "not finished, not measured");
            return;
        }

        // The runner moved each of W's N² entries by −Σ_t StepSize_t, so ‖W_T − W_0‖_F = N Σ_t StepSize_t.
        double moved = spec.Hidden * backend.Steps.Sum(c => (double)c[0].StepSize);
        Assert.That(state.WeightChange[0], Is.EqualTo(moved).Within(1e-4 * moved));
    }

    [Test]
    public void Train_ThatRunsNoEpoch_SavesNothing_AndMeasuresNothingTwice()
    {
        var state = NewState(Spec(1), new TrainingOptions { MaxEpochs = 2, CheckpointEvery = 1 });
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1f));
        int saves = 0;
        using (var cancelled = new CancellationTokenSource())
        {
            cancelled.Cancel();
            Trainer.Train(backend, Task, state, onCheckpoint: _ => saves++, cancel: cancelled.Token);
        }

        Assert.That((state.Epoch, saves, backend.ActiveCalls.Count), Is.EqualTo((0, 0, 0)), "cancelled before epoch 1: no epoch, no checkpoint");
        Assert.That(state.WeightChange[0], Is.NaN);

        Trainer.Train(backend, Task, state);
        Assert.That(state.Finished, Is.True);
        state.WeightChange[0] = 42;
        Trainer.Train(backend, Task, state, onCheckpoint: _ => saves++);
        Assert.That((state.Epoch, saves), Is.EqualTo((2, 0)), "a finished run trains and saves nothing more");
        Assert.That(state.WeightChange[0], Is.EqualTo(42), "its feature-learning measures are not taken again");
    }
}
