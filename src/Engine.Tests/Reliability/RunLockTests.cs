using System.Diagnostics;
using Engine.IO;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Reliability;

/// <summary>One writer per run directory, across processes: a second <c>train</c> is refused naming the owner; a killed owner's lock is taken over.</summary>
[NonParallelizable]
public sealed class RunLockTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("rel-lock").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    /// <summary>Starts <c>dotnet engine.dll train … --out RUN</c> (long: it is killed by the test) with its output captured.</summary>
    private static Process StartTrain(string run, System.Text.StringBuilder output)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "engine.dll"), "train", "--networks", "2", "--hidden", "8", "--trials", "4",
                     "--steps", "10", "--max-epochs", "100000", "--checkpoint-every", "3", "--backend", "cpu", "--threads", "1", "--out", run })
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        p.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), what);
            Thread.Sleep(25);
        }
    }

    [Test]
    public void TwoTrainings_IntoOneNewDirectory_OneRuns_TheOtherIsRefusedNamingTheOwner()
    {
        string run = Path.Combine(_dir, "shared");
        var (outA, outB) = (new System.Text.StringBuilder(), new System.Text.StringBuilder());
        using var a = StartTrain(run, outA);
        using var b = StartTrain(run, outB);
        try
        {
            WaitFor(() => a.HasExited || b.HasExited, "one of the two is refused");
            var (refused, runner, refusedOut) = a.HasExited ? (a, b, outA) : (b, a, outB);
            refused.WaitForExit();
            Assert.That(refused.ExitCode, Is.EqualTo(2), refusedOut.ToString());
            Assert.That(refusedOut.ToString(), Does.Contain("is already being written by").And.Contain($"pid {runner.Id}"));
            Assert.That(runner.HasExited, Is.False, "the owner keeps training");
            WaitFor(() => File.Exists(Path.Combine(run, Checkpoint.FileName)), "the owner checkpoints");
        }
        finally
        {
            a.Kill(entireProcessTree: true);
            b.Kill(entireProcessTree: true);
            a.WaitForExit();
            b.WaitForExit();
        }

        var rows = File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => (l.Split(',')[0], l.Split(',')[1])).ToArray();
        Assert.That(rows, Is.Unique, "one run's rows only");
    }

    [Test]
    public void KilledOwner_LeavesAStaleLock_TheNextWriterTakesItOver_AndRemovesTempFiles()
    {
        string run = Path.Combine(_dir, "killed");
        var output = new System.Text.StringBuilder();
        int pid;
        using (var p = StartTrain(run, output))
        {
            pid = p.Id;
            WaitFor(() => File.Exists(Path.Combine(run, Checkpoint.FileName)) && Checkpoint.Load(Path.Combine(run, Checkpoint.FileName)).Epoch >= 3, "a checkpoint");
            p.Kill(entireProcessTree: true); // SIGKILL: no cleanup
            p.WaitForExit();
        }

        Assert.That(FolderLock.Owner(run), Does.Contain($"pid {pid}"), "the owner file outlives a kill -9");
        string temp = Path.Combine(run, $".{Checkpoint.FileName}.{pid}.0123456789abcdef.tmp");
        File.WriteAllBytes(temp, new byte[1000]);
        int epoch = Checkpoint.Load(Path.Combine(run, Checkpoint.FileName)).Epoch;
        var (code, stdout, err) = Support.CliHarness.Run("train", "--resume", run, "--max-epochs", (epoch + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(stdout, Does.Contain($"{run}: took over from").And.Contain($"pid {pid}").And.Contain("no longer running"));
        Assert.That(stdout, Does.Contain("leftover temp file(s) of an interrupted write").And.Contain(Path.GetFileName(temp)));
        Assert.That(File.Exists(temp), Is.False);
        Assert.That(FolderLock.Owner(run), Is.Null, "released on exit");
    }

    [Test]
    public void FolderLock_SecondClaimInProcess_IsRefused_ReleaseFreesIt()
    {
        using (FolderLock.Acquire(_dir, "the run"))
        {
            var ex = Assert.Throws<IOException>(() => FolderLock.Acquire(_dir, "the run"));
            Assert.That(ex!.Message, Does.Contain("already being written by").And.Contain($"pid {Environment.ProcessId}"));
        }

        using var again = FolderLock.Acquire(_dir, "the run");
        Assert.That(again.TakeoverMessage, Is.Null, "a clean release is no takeover");
    }
}
