using Engine.FixedPointRnn;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.FixedPointRnn;

/// <summary>The science: on parity, the fixed-point RNN at its fixed point generalises far beyond its training length; its one-iteration (diagonal) limit does not.</summary>
public sealed class FpRnnLengthGeneralisationTests
{
    private static FpRnnEnsemble Train(FpIteration iteration)
    {
        var ens = FpRnnEnsemble.Create(new ParityTask(), networks: 2, hidden: 6, reflections: 2, iteration,
            new FpTrainOptions { Trials = 32, TrainLength = 16, LearningRate = 1e-2, MaxSteps = 1500 }, seed: 0);
        FpRnnTrainer.Train(ens);
        return ens;
    }

    [Test]
    public void Parity_FixedPointGeneralisesTo4xLength_DiagonalLimitDoesNot()
    {
        var dense = Train(new FpIteration { Direct = true });
        var diagonal = Train(new FpIteration { Iterations = 1 });
        var lengths = new[] { 16, 64 };
        var d = FpRnnEvaluation.Means(FpRnnEvaluation.Run(dense, lengths, [new FpIteration { Direct = true }], 200, 1, 0));
        var g = FpRnnEvaluation.Means(FpRnnEvaluation.Run(diagonal, lengths, [new FpIteration { Iterations = 1 }], 200, 1, 0));
        TestContext.Out.WriteLine($"fixed point: {string.Join(", ", d.Select(x => $"L={x.Length} {x.SequenceAccuracy:F3}"))}; diagonal: {string.Join(", ", g.Select(x => $"L={x.Length} {x.SequenceAccuracy:F3}"))}");
        Assert.That(d[1].SequenceAccuracy, Is.GreaterThan(0.9), "the fixed-point RNN tracks parity over 64 steps after training on 16");
        Assert.That(g[0].SequenceAccuracy, Is.LessThan(0.1), "the diagonal limit (positive λ) cannot even fit 16 steps");
        Assert.That(g[1].SequenceAccuracy, Is.LessThan(0.02));
        Assert.That(g[1].Accuracy, Is.LessThan(0.6), "per position it is near chance");
    }

    [Test]
    public void Cli_TrainsAndAnalyses_AndRejectsBadInput()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fprnn-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, err) = CliHarness.Run("train", "--cell", "fixed-point", "--task", "count", "--modulus", "3", "--networks", "2", "--hidden", "4",
                "--max-epochs", "5", "--iterations", "2", "--train-length", "6", "--out", dir, "--quiet");
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(output, Does.Contain("test length"));
            foreach (var f in new[] { FpRnnFiles.ManifestName, FpRnnFiles.ParametersName, "metrics.csv", "summary.json" })
            {
                Assert.That(File.Exists(Path.Combine(dir, f)), Is.True, f);
            }

            (code, output, err) = CliHarness.Run("analyze", "fprnn", dir, "--lengths", "6,12", "--iterations", "1,3,converged,dense", "--trials", "8", "--max-iterations", "50");
            Assert.That(code, Is.EqualTo(0), err);
            foreach (var f in new[] { "fprnn-eval.csv", "fprnn-eval.json", "fprnn-eval-sequence.png", "fprnn-eval-position.png", "fprnn-eval-iterations.png" })
            {
                Assert.That(File.Exists(Path.Combine(dir, "fprnn-eval", f)), Is.True, f);
            }

            Assert.That(File.ReadAllLines(Path.Combine(dir, "fprnn-eval", "fprnn-eval.csv")), Has.Length.EqualTo(1 + 2 * 2 * 4));

            (code, _, err) = CliHarness.Run("train", "--cell", "fixed-point", "--task", "count", "--out", dir);
            Assert.That(code, Is.EqualTo(2));
            Assert.That(err, Does.Contain("--force"));
            (code, _, err) = CliHarness.Run("train", "--cell", "fixed-point", "--task", "dyck", "--out", dir + "-x");
            Assert.That(code, Is.EqualTo(2));
            Assert.That(err, Does.Contain("dyck"));
            (code, _, err) = CliHarness.Run("train", "--cell", "fixed-point", "--task", "parity", "--iterations", "0", "--out", dir + "-x");
            Assert.That((code, err.Trim()), Is.EqualTo((2, "error: iterations must be at least 1, got 0.")));
            (code, _, err) = CliHarness.Run("train", "--cell", "fixed-point", "--task", "parity", "--hidden", "3", "--reflections", "4", "--out", dir + "-x");
            Assert.That(code, Is.EqualTo(2));
            Assert.That(err, Does.Contain("reflections").And.Contain("hidden = 3"));
            (code, _, err) = CliHarness.Run("train", "--cell", "discrete", "--task", "flipflop", "--iterations", "3", "--out", dir + "-x");
            Assert.That(code, Is.EqualTo(2));
            Assert.That(err, Does.Contain("--iterations applies only to --cell fixed-point"));
            (code, _, err) = CliHarness.Run("analyze", "fprnn", dir, "--iterations", "often");
            Assert.That(code, Is.EqualTo(2));
            Assert.That(err, Does.Contain("'often'"));
            Assert.That(Directory.Exists(dir + "-x") && Directory.EnumerateFiles(dir + "-x").Any(f => !Path.GetFileName(f).StartsWith('.')), Is.False, "no run files written on bad input");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            if (Directory.Exists(dir + "-x"))
            {
                Directory.Delete(dir + "-x", recursive: true);
            }
        }
    }
}
