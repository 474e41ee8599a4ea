using Engine.Kernels;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>
/// The trainer's rules (patience, the smoothed stop rule, the plateau schedule, clipping, µP's per-block scales, the epoch
/// budget) driven by a runner that returns scripted losses, gradient norms and gradients and records every Adam step, so
/// each rule is checked against values worked out by hand here rather than against a converged flag. The partial files
/// hold the host path (low rank, weight regularisers, activity), progress reports and checkpoints, and argument checks.
/// </summary>
public sealed partial class TrainerRuleTests
{
    private static readonly FlipFlopTask Task = new(bits: 1);

    private static EnsembleSpec Spec(int networks, int hidden = 4) => new() { Networks = networks, Hidden = hidden, Inputs = Task.Inputs, Outputs = Task.Outputs };

    /// <summary>Tiny batches, no probe batch, and a threshold of 1e-3 unless the test sets one.</summary>
    private static TrainingOptions Quick(TrainingOptions options) => options with { Trials = 2, Steps = 5, ProbeTrials = 0, Threshold = options.Threshold ?? 1e-3 };

    private static TrainingState NewState(EnsembleSpec spec, TrainingOptions options)
        => Initializer.NewRun(spec, Ensemble.ConsecutiveSeeds(0, spec.Networks), Task.Name, Task.Settings, Quick(options));

    private static (TrainingState State, ScriptedBackend Backend, List<EpochReport> Reports) Train(
        EnsembleSpec spec, TrainingOptions options, Func<int, int, (float Loss, float NormSquared)> script)
    {
        using var backend = new ScriptedBackend(script);
        var reports = new List<EpochReport>();
        var state = Trainer.Train(backend, Task, spec, Ensemble.ConsecutiveSeeds(0, spec.Networks), Quick(options), onEpoch: reports.Add);
        return (state, backend, reports);
    }

    [TestCase(0)]
    [TestCase(3)]
    [TestCase(7)]
    public void Patience_TrainsExactlyThatManyEpochsAfterTheThreshold(int patience)
    {
        // Below the threshold from the first batch: the smoothed loss starts at the first loss, so the threshold is met at
        // epoch 1; the network then takes `patience` Adam steps and stops, converged, at the next epoch.
        var (state, backend, _) = Train(Spec(1), new TrainingOptions { Patience = patience, MaxEpochs = 100 }, (_, _) => (1e-4f, 1f));
        Assert.That(state.Networks[0].Status, Is.EqualTo(NetworkStatus.Converged));
        Assert.That(state.Networks[0].Epochs, Is.EqualTo(patience), "Adam steps taken");
        Assert.That(backend.ActiveCalls[0], Is.EqualTo(patience + 1), "batches seen: the threshold epoch, then the patience epochs");
        Assert.That(backend.Steps.Count(c => c[0].StepSize > 0), Is.EqualTo(patience));
        Assert.That(state.Epoch, Is.EqualTo(patience + 1), "the run stops when its last network does, not at the budget");
    }

    [Test]
    public void StopRule_WatchesTheMovingAverage_NotOneLuckyBatch()
    {
        // Loss 1 everywhere except one batch of 1e-6: the moving average (0.9 · avg + 0.1 · loss) never drops below 1e-3.
        var (state, _, _) = Train(Spec(1), new TrainingOptions { Patience = 2, MaxEpochs = 60 }, (call, _) => (call == 30 ? 1e-6f : 1f, 1f));
        Assert.That(state.Networks[0].Status, Is.EqualTo(NetworkStatus.NotConverged));
        Assert.That(state.Networks[0].SmoothedLoss, Is.GreaterThan(0.5));
    }

    [Test]
    public void StopRule_ConvergesWhenTheHandComputedMovingAverageCrossesTheThreshold()
    {
        // Losses fall by 0.8 per epoch from 1; the test computes the moving average itself and predicts the epoch.
        static float LossAt(int call) => (float)Math.Pow(0.8, call);
        double avg = double.NaN;
        int crossing = -1;
        for (int call = 0; crossing < 0; call++)
        {
            avg = double.IsNaN(avg) ? LossAt(call) : 0.9 * avg + 0.1 * LossAt(call);
            crossing = avg < 1e-3 ? call : -1;
        }

        const int patience = 3;
        var (state, backend, _) = Train(Spec(1), new TrainingOptions { Patience = patience, MaxEpochs = 1000 }, (call, _) => (LossAt(call), 1f));
        Assert.That(state.Networks[0].Status, Is.EqualTo(NetworkStatus.Converged));
        Assert.That(backend.ActiveCalls[0], Is.EqualTo(crossing + 1 + patience), "stops `patience` batches after the moving average crossed");
        Assert.That(state.Networks[0].Epochs, Is.EqualTo(crossing + patience));
    }

    [Test]
    public void PlateauSchedule_MultipliesTheRateByItsFactor_AfterPatiencePlusOneFlatEpochs()
    {
        // A flat loss: the best smoothed loss is set at epoch 0; every later epoch is a bad one; after more than `patience`
        // bad epochs the rate is multiplied by the factor and the count restarts. The rate an epoch reports is the one it used.
        const int patience = 5;
        const double lr = 1e-2, factor = 0.3;
        var (_, _, reports) = Train(Spec(1), new TrainingOptions { LearningRate = lr, PlateauPatience = patience, PlateauFactor = factor, MaxEpochs = 20, Patience = 0 },
            (_, _) => (0.5f, 1f));
        var used = reports.Select(r => r.LearningRates[0]).ToArray();
        // Epoch 0 sets the best; epochs 1 … p + 1 are bad and the (p + 1)-th cuts the rate for the epochs after it: the rate of
        // epoch k ≥ 1 is lr · factor^⌊(k − 1) / (p + 1)⌋.
        var expected = Enumerable.Range(0, 20).Select(call => call == 0 ? lr : lr * Math.Pow(factor, (call - 1) / (patience + 1))).ToArray();
        Assert.That(used, Is.EqualTo(expected).Within(1e-12));
    }

    [TestCase(0.0, 9.0, 1.0)]
    [TestCase(1.0, 9.0, 1.0 / 3.0)]
    [TestCase(5.0, 9.0, 1.0)]
    public void Clipping_ScalesTheGradientByClipOverNorm_OnlyAboveTheClip(double clip, double normSquared, double expectedScale)
    {
        var (_, backend, _) = Train(Spec(2), new TrainingOptions { ClipNorm = clip, MaxEpochs = 3, Patience = 0 }, (_, _) => (0.5f, (float)normSquared));
        foreach (var step in backend.Steps)
        {
            Assert.That(step.Select(c => (double)c.GradScale), Has.All.EqualTo(expectedScale).Within(1e-6));
        }
    }

    [Test]
    public void MuP_ScalesEachBlocksStep_WAtOneOverN_ReadoutAtOneOverGammaN_RestAtOne()
    {
        const int n = 8;
        const double lr = 0.02;
        var gammas = new[] { 0.5, 2.0 };
        var spec = Spec(2, n) with { Cell = CellType.Rate, Alpha = 0.1f };
        var (_, backend, _) = Train(spec, new TrainingOptions { LearningRate = lr, Parameterization = Parameterization.MuP, GammaPerNetwork = gammas, MaxEpochs = 2, Patience = 0 },
            (_, _) => (0.5f, 1f));
        int blocks = spec.Layout.BlockCount;
        var first = backend.Steps[0];
        for (int e = 0; e < 2; e++)
        {
            double g = gammas[e];
            // Block order of ParameterLayout: W, U, b, C, d.
            var scale = new[] { 1.0 / n, 1, 1, 1 / (g * n), 1 };
            for (int blk = 0; blk < blocks; blk++)
            {
                // Adam's step size carries the first-moment bias correction of step 1, 1 / (1 − β₁); ε is scaled like the rate.
                double bias = 1 / (1 - (double)AdamMath.Beta1), expected = lr * g * scale[blk] * bias, eps = 1e-8 * scale[blk];
                Assert.That(first[e * blocks + blk].StepSize, Is.EqualTo(expected).Within(1e-6 * expected), $"network {e} block {blk}");
                Assert.That(first[e * blocks + blk].Epsilon, Is.EqualTo(eps).Within(1e-6 * eps), $"ε of network {e} block {blk}");
            }
        }
    }

    [Test]
    public void Standard_IgnoresGamma_EveryBlockStepsAtTheBaseRate_WithTheBaseEpsilon()
    {
        // γ only means something under µP: a standard run with γ set trains every block at η with ε = 1e-8.
        const double lr = 0.02;
        var spec = Spec(2, 8);
        var (_, backend, reports) = Train(spec, new TrainingOptions { LearningRate = lr, GammaPerNetwork = [0.5, 2.0], MaxEpochs = 2, Patience = 0 },
            (_, _) => (0.5f, 1f));
        Assert.That(reports[0].LearningRates, Is.EqualTo(new[] { lr, lr }));
        double expected = lr / (1 - (double)AdamMath.Beta1);
        Assert.That(backend.Steps[0].Select(c => (double)c.StepSize), Has.All.EqualTo(expected).Within(1e-6 * expected));
        Assert.That(backend.Steps[0].Select(c => c.Epsilon), Has.All.EqualTo(1e-8f));
    }

    [TestCase(false, NetworkStatus.NotConverged)]
    [TestCase(true, NetworkStatus.Converged)]
    public void StopRule_ALossEqualToTheThresholdIsNotBelowIt(bool oneUlpBelow, NetworkStatus expected)
    {
        // Threshold 0.25; the moving average starts at the first loss, 0.25 itself or the float just below it, then 1.
        float first = oneUlpBelow ? MathF.BitDecrement(0.25f) : 0.25f;
        var (state, _, _) = Train(Spec(1), new TrainingOptions { Threshold = 0.25, Patience = 0, MaxEpochs = 3 }, (call, _) => (call == 0 ? first : 1f, 1f));
        Assert.That(state.Networks[0].Status, Is.EqualTo(expected));
    }

    [Test]
    public void PlateauSchedule_ASmoothedLossEqualToBestTimesOneMinus1e4_IsNoImprovement()
    {
        // Loss exactly 0 (threshold 0, so it never converges): each later smoothed loss is 0 = best · (1 − 1e-4), which is
        // not below it, so the schedule is that of a flat loss: the rate of epoch k ≥ 1 is lr · factor^⌊(k − 1) / (p + 1)⌋.
        const int patience = 2;
        const double lr = 1e-2, factor = 0.5;
        var (_, _, reports) = Train(Spec(1), new TrainingOptions { LearningRate = lr, PlateauPatience = patience, PlateauFactor = factor, Threshold = 0, MaxEpochs = 9, Patience = 0 },
            (_, _) => (0f, 1f));
        var expected = Enumerable.Range(0, 9).Select(call => call == 0 ? lr : lr * Math.Pow(factor, (call - 1) / (patience + 1))).ToArray();
        Assert.That(reports.Select(r => r.LearningRates[0]), Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void PlateauSchedule_Off_KeepsTheRate_UnderAFlatLoss()
    {
        const double lr = 1e-2;
        var (state, _, reports) = Train(Spec(1), new TrainingOptions { LearningRate = lr, PlateauPatience = 0, MaxEpochs = 10, Patience = 0 }, (_, _) => (0.5f, 1f));
        Assert.That(reports.Select(r => r.LearningRates[0]), Has.All.EqualTo(lr));
        Assert.That(state.Networks[0].LrScale, Is.EqualTo(1.0));
    }

    [Test]
    public void EpochBudget_ARunAlreadyAtMaxEpochs_TrainsNoFurtherEpoch()
    {
        var state = NewState(Spec(1), new TrainingOptions { MaxEpochs = 3 });
        state.Epoch = 3;
        using var backend = new ScriptedBackend((_, _) => (0.5f, 1f));
        Trainer.Train(backend, Task, state);
        Assert.That(state.Epoch, Is.EqualTo(3));
        Assert.That(backend.ActiveCalls, Is.Empty, "no batch drawn");
        Assert.That(backend.Steps, Is.Empty);
    }
}
