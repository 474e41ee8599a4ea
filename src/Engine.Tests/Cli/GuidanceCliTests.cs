using System.Text.Json;
using Engine.IO;
using NUnit.Framework;

namespace Engine.Tests.Cli;

/// <summary><c>train --guide / --diversity</c> and <c>compare-runs</c> end to end: files, resume, and the bad inputs named before training.</summary>
[NonParallelizable]
public sealed class GuidanceCliTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("cli-guide").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => Support.CliHarness.Run(args);

    private string Train(string name, params string[] extra)
    {
        string run = Path.Combine(_dir, name);
        string[] epochs = extra.Contains("--max-epochs") ? [] : ["--max-epochs", "12"];
        var (code, _, err) = Cli(["train", "--task", "flipflop", "--bits", "2", "--networks", "2", "--hidden", "12", "--trials", "16", "--steps", "20",
            "--checkpoint-every", "5", "--backend", "cpu", "--out", run, "--quiet", .. epochs, .. extra]);
        Assert.That(code, Is.EqualTo(0), err);
        return run;
    }

    [Test]
    public void GuidedAndDiverseRuns_WriteTheirCurves_Resume_AndCompare()
    {
        string guide = Train("guide");
        string guided = Train("guided", "--guide", guide, "--guide-strength", "0.5", "--seed", "10", "--max-epochs", "6");
        Assert.That(File.Exists(Path.Combine(guided, "guide_states.npy")), Is.True);
        var (_, shape) = Npy.ReadFloat32(Path.Combine(guided, "guide_states.npy"));
        Assert.That(shape, Is.EqualTo(new[] { 2, 16, 20, 12 }), "[G][P][T][N] on the 16 probe trials");
        var (code, output, err) = Cli("train", "--resume", guided, "--max-epochs", "12", "--quiet");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("CKA to the guide"));
        var rows = File.ReadAllLines(Path.Combine(guided, "representation.csv"));
        Assert.That(rows[0], Is.EqualTo("network,epoch,guide_cka,predictability"));
        Assert.That(rows.Skip(1).Select(r => int.Parse(r.Split(',')[1])).Distinct().Count(), Is.EqualTo(12), "one row per network and epoch, across the resume");
        Assert.That(File.Exists(Path.Combine(guided, "representation.png")), Is.True);
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(guided, "summary.json"))))
        {
            Assert.That(summary.RootElement.GetProperty("per_network")[0].GetProperty("guide_cka").GetDouble(), Is.InRange(0.0, 1.0));
        }

        string diverse = Train("diverse", "--diversity", "0.5", "--seed", "20", "--diversity-against", guide);
        var last = File.ReadAllLines(Path.Combine(diverse, "representation.csv")).Last().Split(',');
        Assert.That(double.Parse(last[3], System.Globalization.CultureInfo.InvariantCulture), Is.InRange(0.0, 1.0), "network 1's predictability of network 0 and the earlier run");

        string out_ = Path.Combine(_dir, "cmp");
        (code, output, err) = Cli("compare-runs", guide, guided, diverse, "--reference", guide + ":0", "--trials", "8", "--backend", "cpu", "--out", out_);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("CKA to reference"));
        foreach (var f in new[] { "compare_runs.csv", "compare_runs.json", "compare_runs.png" })
        {
            Assert.That(File.Exists(Path.Combine(out_, f)), Is.True, f);
        }

        Assert.That(File.ReadAllLines(Path.Combine(out_, "compare_runs.csv")), Has.Length.EqualTo(4));
    }

    [Test]
    public void BadGuides_AreNamed_BeforeTraining()
    {
        string guide = Train("guide");
        string sine = Path.Combine(_dir, "sine");
        var (code, _, err) = Cli("train", "--task", "sine", "--networks", "1", "--hidden", "8", "--trials", "4", "--steps", "10", "--max-epochs", "2", "--backend", "cpu", "--out", sine, "--quiet");
        Assert.That(code, Is.EqualTo(0), err);

        string target = Path.Combine(_dir, "target");
        string[] baseArgs = ["train", "--task", "flipflop", "--bits", "2", "--networks", "2", "--hidden", "12", "--trials", "16", "--steps", "20", "--max-epochs", "2", "--backend", "cpu", "--out", target, "--quiet"];

        (code, _, err) = Cli([.. baseArgs, "--guide", sine]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("the guide was trained on task 'sine'").And.Contain("'flipflop'"));

        string npy = Path.Combine(_dir, "states.npy");
        Npy.Write(npy, new float[8 * 20 * 5], 8, 20, 5);
        (code, _, err) = Cli([.. baseArgs, "--guide", npy]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("8 trials of 20 steps").And.Contain("16 trials of 20 steps"));

        Npy.Write(npy, new float[16 * 30 * 5], 16, 30, 5);
        (code, _, err) = Cli([.. baseArgs, "--guide", npy]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("16 trials of 30 steps"));

        (code, _, err) = Cli([.. baseArgs, "--guide", guide, "--guide-strength", "-1"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("guide_strength must be a finite number ≥ 0"));

        (code, _, err) = Cli([.. baseArgs, "--diversity", "-0.5"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("diversity must be a finite number ≥ 0"));

        (code, _, err) = Cli([.. baseArgs, "--guide-strength", "1"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("no guide is given"));

        // A guide run with a diverged network (identity cell, learning rate 10): that network is refused as a guide, and
        // left out as a diversity target.
        string cfg = Path.Combine(_dir, "diverging.json");
        File.WriteAllText(cfg, """{"task":"flipflop","bits":2,"networks":3,"hidden":12,"activation":"identity","learning_rates":[3e-3,10,3e-3],"max_epochs":20,"trials":16,"steps":20}""");
        string diverging = Path.Combine(_dir, "diverging");
        (code, _, err) = Cli("train", "--config", cfg, "--backend", "cpu", "--out", diverging, "--quiet");
        Assert.That(code, Is.EqualTo(0), err);
        (code, _, err) = Cli([.. baseArgs, "--guide", diverging, "--guide-network", "1"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("network 1 of").And.Contain("diverged"));
        string away = Path.Combine(_dir, "away");
        (code, _, err) = Cli(["train", "--task", "flipflop", "--bits", "2", "--networks", "2", "--hidden", "12", "--trials", "16", "--steps", "20", "--max-epochs", "3",
            "--backend", "cpu", "--out", away, "--quiet", "--diversity", "0.1", "--diversity-against", diverging]);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(Npy.ReadFloat32(Path.Combine(away, "earlier_states_0.npy")).Shape[0], Is.EqualTo(2), "the diverged network is left out of the targets");

        (code, _, err) = Cli([.. baseArgs, "--guide", Path.Combine(_dir, "nowhere")]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("nowhere"));
        Assert.That(Directory.Exists(target), Is.False, "nothing is created before the checks pass");
    }
}
