using System.Globalization;
using Engine.IO;
using Engine.Model;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Reliability;

/// <summary>
/// "No crash, no silent loss" for <c>train</c>: each test starts from a reported failure (an overflow stack trace, a run
/// directory overwritten or resumed with other settings, input defaulted or ignored) and checks the named error or the
/// correct output instead.
/// </summary>
[NonParallelizable]
public sealed class RunDirectoryTests
{
    private static readonly string[] Tiny = ["--networks", "2", "--hidden", "8", "--trials", "4", "--steps", "10", "--backend", "cpu", "--threads", "1"];

    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("rel-run").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => Support.CliHarness.Run(args);

    private string TrainTiny(string name, int epochs, params string[] extra)
    {
        string run = Path.Combine(_dir, name);
        string[] args = ["train", .. Tiny, "--max-epochs", epochs.ToString(CultureInfo.InvariantCulture), "--checkpoint-every", "2", "--out", run, .. extra];
        var (code, _, err) = Cli(args);
        Assert.That(code, Is.EqualTo(0), err);
        return run;
    }

    [TestCase("parameters [E][P]", "--networks", "2100", "--hidden", "1024")]
    [TestCase("trial inputs [E][B][T][I]", "--trials", "100000000", "--steps", "100")]
    public void Train_SizeThatOverflows_IsSizeError_NotAStackTrace(string buffer, string f1, string v1, string f2, string v2)
    {
        string run = Path.Combine(_dir, "big");
        var (code, _, err) = Cli("train", f1, v1, f2, v2, "--backend", "cpu", "--out", run);
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.StartWith($"error: {buffer}: ").And.Contain("GiB").And.Contain("more than one array can hold"));
        Assert.That(err, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(Directory.Exists(run), Is.False, "nothing created before the check");
    }

    [Test]
    public void Api_OversizedBuffers_AreNamedBeforeAllocating()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TrialBatch(16, 100_000_000, 100, 3, 3));
        Assert.That(ex!.Message, Does.Contain("trial inputs [S][B][T][I]").And.Contain("480,000,000,000 elements"));
        var spec = new EnsembleSpec { Networks = 2100, Hidden = 1024, Inputs = 3, Outputs = 3 };
        Assert.That(() => spec.Validate(), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("parameters [E][P]"));
        var ok = new EnsembleSpec { Networks = 16, Hidden = 64, Inputs = 3, Outputs = 3 };
        Assert.That(() => Trainer.CheckSizes(ok, new TrainingOptions { Trials = 100_000_000 }, 100),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("[E][B][T]"));
    }

    [Test]
    public void Train_IntoAnotherRunsFiles_IsRefused_ForceClearsThem()
    {
        string run = Path.Combine(_dir, "old");
        Directory.CreateDirectory(Path.Combine(run, "distances"));
        Directory.CreateDirectory(Path.Combine(run, "fixed-points"));
        File.WriteAllText(Path.Combine(run, "metrics.csv"), "network,epoch,loss,learning_rate\n0,1,0.5,0.001\n");
        File.WriteAllText(Path.Combine(run, "summary.json"), "{}");
        File.WriteAllText(Path.Combine(run, "config.json"), "{}");
        File.WriteAllText(Path.Combine(run, "distances", "cka.npy"), "stale");
        File.WriteAllText(Path.Combine(run, "notes.txt"), "mine");

        var (code, _, err) = Cli([.. Tiny.Prepend("train"), "--max-epochs", "2", "--out", run]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("holds another run's files").And.Contain("metrics.csv").And.Contain("distances/").And.Contain("--force"));
        Assert.That(File.ReadAllText(Path.Combine(run, "summary.json")), Is.EqualTo("{}"), "nothing overwritten");

        string output;
        (code, output, err) = Cli([.. Tiny.Prepend("train"), "--max-epochs", "2", "--out", run, "--force"]);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("--force: deleted"));
        Assert.That(Directory.Exists(Path.Combine(run, "distances")), Is.False);
        Assert.That(Directory.Exists(Path.Combine(run, "fixed-points")), Is.False);
        Assert.That(File.ReadAllLines(Path.Combine(run, "metrics.csv")), Has.Length.EqualTo(1 + 2 * 2), "only the new run's rows");
        Assert.That(File.ReadAllText(Path.Combine(run, "notes.txt")), Is.EqualTo("mine"), "files that are not a run's are left alone");

        (code, _, err) = Cli([.. Tiny.Prepend("train"), "--max-epochs", "2", "--out", run]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("already holds a run").And.Contain("--resume"));
    }

    [TestCase("--lr", "0.5")]
    [TestCase("--hidden", "16")]
    [TestCase("--task", "sine")]
    [TestCase("--seed", "7")]
    [TestCase("--trials", "8")]
    public void Resume_WithAChangedTrainingFlag_IsAnErrorNamingIt(string flag, string value)
    {
        string run = TrainTiny("r", 2);
        var (code, _, err) = Cli("train", "--resume", run, "--max-epochs", "4", flag, value);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith($"error: {flag} {value} differs from the stored run").And.Contain("--max-epochs, --threads, --backend, --checkpoint-every and --quiet"));
        Assert.That(Checkpoint.Load(Path.Combine(run, Checkpoint.FileName)).Epoch, Is.EqualTo(2), "nothing trained");
    }

    [Test]
    public void Resume_ConfigOutAndLowMaxEpochs_AreErrors_AllowedChangesApply()
    {
        string run = TrainTiny("r", 4);
        string cfg = Path.Combine(_dir, "c.json");
        File.WriteAllText(cfg, "{ \"hidden\": 8 }");
        Assert.That(Cli("train", "--resume", run, "--config", cfg).Err, Does.Contain("--config").And.Contain("cannot be used with --resume"));
        Assert.That(Cli("train", "--resume", run, "--out", Path.Combine(_dir, "elsewhere")).Err, Does.Contain("differs from --resume"));
        var (code, _, err) = Cli("train", "--resume", run, "--max-epochs", "3");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--max-epochs 3 is below the epoch this run has reached (4)"));
        Assert.That(Checkpoint.Load(Path.Combine(run, Checkpoint.FileName)).Options.MaxEpochs, Is.EqualTo(4), "not stored");

        // Repeating a stored value is not a change; the allowed settings apply.
        string output;
        (code, output, err) = Cli("train", "--resume", run, "--max-epochs", "6", "--hidden", "8", "--threads", "2", "--checkpoint-every", "1", "--quiet");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain($"resuming {run} at epoch 4"));
        var state = Checkpoint.Load(Path.Combine(run, Checkpoint.FileName));
        Assert.That((state.Epoch, state.Options.MaxEpochs, state.Options.CheckpointEvery), Is.EqualTo((6, 6, 1)));
    }

    [TestCase("--threads", "-1", "threads must be 0 (all cores) or 1 to 1024, got -1")]
    [TestCase("--threads", "5000", "threads must be 0 (all cores) or 1 to 1024, got 5000")]
    public void Train_OutOfRangeThreads_IsAnError_NotTheDefault(string flag, string value, string expected)
    {
        string run = Path.Combine(_dir, "t");
        var (code, _, err) = Cli("train", "--networks", "2", "--hidden", "8", "--backend", "cpu", flag, value, "--out", run);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(expected));
        Assert.That(Directory.Exists(run), Is.False);

        string cfg = Path.Combine(_dir, "threads.json");
        File.WriteAllText(cfg, "{ \"networks\": 2, \"hidden\": 8, \"backend\": \"cpu\", \"threads\": " + value + " }");
        (code, _, err) = Cli("train", "--config", cfg, "--out", run);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(cfg).And.Contain(expected), "the config file is named");
    }

    [Test]
    public void Resume_AfterMetricsWereCut_NamesTheGap_AndDropsTheCutRow()
    {
        string run = TrainTiny("m", 4);
        string metrics = Path.Combine(run, "metrics.csv");
        var lines = File.ReadAllLines(metrics);
        File.WriteAllText(metrics, string.Join('\n', lines.Take(3)) + "\n" + lines[3][..5]);
        var (code, _, err) = Cli("train", "--resume", run, "--max-epochs", "5");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(err, Does.Contain($"warning: {metrics} ends at epoch 1 but the checkpoint is at epoch 4").And.Contain("epochs 2–4"));
        var epochs = File.ReadAllLines(metrics).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.That(epochs, Has.All.Length.EqualTo(4), "no cut row left");
        Assert.That(epochs.Select(p => int.Parse(p[1], CultureInfo.InvariantCulture)), Is.EqualTo(new[] { 1, 1, 5, 5 }));
    }

    [TestCase("train", "--bogus")]
    [TestCase("train", "--out")]
    [TestCase("train", "--networks", "many", "--out", "x")]
    [TestCase("frobnicate")]
    public void ParseError_IsOneLine_ExitTwo(params string[] args)
    {
        var (code, output, err) = Cli(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("error: "));
        Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), err);
        Assert.That(output, Is.Empty, "no help dump");
    }

    [Test]
    public void Train_UnknownBackend_CreatesNoDirectory_AndHelpListsTheRateCell()
    {
        string run = Path.Combine(_dir, "nothing");
        var (code, _, err) = Cli("train", "--backend", "tpu", "--out", run);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("Unknown backend 'tpu'"));
        Assert.That(Directory.Exists(run), Is.False);
        Assert.That(Cli("train", "--help").Out, Does.Contain("discrete | leaky | rate"));
    }
}
