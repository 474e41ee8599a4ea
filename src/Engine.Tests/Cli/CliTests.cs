using System.Diagnostics;
using Engine.Cli;
using Engine.IO;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Cli;

/// <summary>The command line end to end: bad input gives one clear line, a killed run resumes without losing epochs.</summary>
[NonParallelizable]
public sealed class CliTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("cli").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => Support.CliHarness.Run(args);

    [TestCase("--task", "juggling", "Unknown task 'juggling'")]
    [TestCase("--backend", "tpu", "Unknown backend 'tpu'")]
    [TestCase("--networks", "-4", "Networks must be at least 1, got -4")]
    [TestCase("--hidden", "0", "Hidden must be at least 1, got 0")]
    [TestCase("--bits", "0", "bits must be at least 1, got 0")]
    public void Train_BadFlag_IsOneClearError(string flag, string value, string expected)
    {
        var (code, _, err) = Cli("train", flag, value, "--out", Path.Combine(_dir, "run"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("error: ").And.Contain(expected));
        Assert.That(File.Exists(Path.Combine(_dir, "run", Checkpoint.FileName)), Is.False, "nothing trained");
    }

    [Test]
    public void Train_UnreadableConfig_NamesTheFile()
    {
        string cfg = Path.Combine(_dir, "c.json");
        File.WriteAllText(cfg, "{ \"networks\": 3, ");
        var (code, _, err) = Cli("train", "--config", cfg, "--out", Path.Combine(_dir, "run"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(cfg).And.Contain("invalid config"));
    }

    [Test]
    public void Run_CorruptedCheckpoint_IsOneClearError()
    {
        string path = Path.Combine(_dir, Checkpoint.FileName);
        File.WriteAllText(path, "not a checkpoint");
        var (code, _, err) = Cli("run", _dir, "--out", Path.Combine(_dir, "eval"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("not an engine checkpoint"));
    }

    [Test]
    public void TrainThenRun_WritesCheckpointMetricsSummaryAndNpy()
    {
        string run = Path.Combine(_dir, "run");
        var (code, output, err) = Cli("train", "--networks", "2", "--hidden", "8", "--trials", "4", "--steps", "10", "--max-epochs", "6",
            "--checkpoint-every", "2", "--backend", "cpu", "--out", run);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("backend: cpu"));
        var metrics = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.That(metrics[0], Is.EqualTo("network,epoch,loss,learning_rate"));
        Assert.That(metrics, Has.Length.EqualTo(1 + 2 * 6));
        Assert.That(File.ReadAllText(Path.Combine(run, "summary.json")), Does.Contain("\"status\": \"not_converged\""));

        (code, _, err) = Cli("run", run, "--out", Path.Combine(run, "eval"), "--trials", "3", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        var (states, shape) = Npy.ReadFloat32(Path.Combine(run, "eval", "states.npy"));
        Assert.That(shape, Is.EqualTo(new[] { 2, 3, 10, 8 }));
        Assert.That(states, Has.All.Matches<float>(float.IsFinite));
        Assert.That(Npy.ReadFloat32(Path.Combine(run, "eval", "outputs.npy")).Shape, Is.EqualTo(new[] { 2, 3, 10, 3 }));
    }

    [Test]
    public void KilledRun_ResumesFromLastCheckpoint_WithoutLosingEpochs()
    {
        string run = Path.Combine(_dir, "run");
        string dll = Path.Combine(AppContext.BaseDirectory, "engine.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { dll, "train", "--networks", "2", "--hidden", "8", "--trials", "4", "--steps", "10", "--max-epochs", "100000",
                     "--checkpoint-every", "3", "--backend", "cpu", "--out", run })
        {
            psi.ArgumentList.Add(a);
        }

        using (var p = Process.Start(psi)!)
        {
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, _) => { };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            string ckpt = Path.Combine(run, Checkpoint.FileName);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(60) && (!File.Exists(ckpt) || Checkpoint.Load(ckpt).Epoch < 9))
            {
                Thread.Sleep(50);
            }

            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }

        var killed = Checkpoint.Load(Path.Combine(run, Checkpoint.FileName));
        Assert.That(killed.Epoch, Is.GreaterThanOrEqualTo(9));
        var (code, output, err) = Cli("train", "--resume", run, "--max-epochs", (killed.Epoch + 4).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain($"resuming {run} at epoch {killed.Epoch}"));
        var epochs = File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1)
            .Select(l => int.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var expected = Enumerable.Range(1, killed.Epoch + 4).SelectMany(e => new[] { e, e }).ToArray();
        Assert.That(epochs, Is.EqualTo(expected), "every epoch appears once per network, none lost or repeated");
        Assert.That(Checkpoint.Load(Path.Combine(run, Checkpoint.FileName)).Epoch, Is.EqualTo(killed.Epoch + 4));
    }
}
