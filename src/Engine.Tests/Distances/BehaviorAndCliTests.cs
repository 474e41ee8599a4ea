using Engine.Backends;
using Engine.Cli;
using Engine.Distances;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Distances;

/// <summary>Behavioural distances, and <c>compare</c> / <c>degeneracy</c> end to end on a tiny run.</summary>
[NonParallelizable]
public sealed class BehaviorAndCliTests
{
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("distcli").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            return (EngineCli.Run(args), o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Test]
    public void Behavior_NetworkAgainstItsCopy_IsZero()
    {
        var task = new FlipFlopTask(bits: 2);
        var spec = new EnsembleSpec { Networks = 3, Hidden = 8, Inputs = task.Inputs, Outputs = task.Outputs };
        var ens = Ensemble.Initialize(spec, Ensemble.ConsecutiveSeeds(0, 3));
        spec.Layout.Network(ens.Parameters, 0).CopyTo(spec.Layout.Network(ens.Parameters, 2));
        var state = new TrainingState(ens, task.Name, task.Settings, new TrainingOptions { Steps = 12 });
        using var backend = BackendFactory.Create("cpu");
        var r = Behavior.Compute(backend, state, task, trials: 4);
        Assert.That(r.Distances[0, 2], Is.Zero);
        Assert.That(r.Distances[0, 1], Is.GreaterThan(0));
        Assert.That(r.Distances[1, 0], Is.EqualTo(r.Distances[0, 1]));
        Assert.That(r.Evaluation.OodSteps, Is.EqualTo(24));
        Assert.That(r.Evaluation.OodMse[0], Is.EqualTo(r.Evaluation.OodMse[2]));
    }

    [Test]
    public void CompareAndDegeneracy_OnATinyRun_WriteMatricesSummariesAndHeatmaps()
    {
        string run = Path.Combine(_dir, "run");
        var (code, _, err) = Cli("train", "--networks", "3", "--hidden", "8", "--trials", "4", "--steps", "12", "--max-epochs", "3", "--backend", "cpu", "--out", run);
        Assert.That(code, Is.EqualTo(0), err);
        foreach (var metric in new[] { "cka", "shape", "pif", "behavior", "dsa" })
        {
            (code, var output, err) = Cli("compare", run, "--metric", metric, "--all", "--backend", "cpu", "--trials", "6", "--alpha", "0.5", "--rank", "4", "--delays", "2", "--iterations", "50");
            Assert.That(code, Is.EqualTo(0), err);
            Assert.That(output, Does.Contain("3 networks, 3 pairs"));
        }

        string d = Path.Combine(run, "distances");
        foreach (var f in new[] { "cka", "shape_a0.5", "pif", "behavior", "dsa_angular" })
        {
            foreach (var suffix in new[] { ".npy", ".csv", "_summary.json", "_heatmap.png" })
            {
                Assert.That(File.Exists(Path.Combine(d, f + suffix)), Is.True, f + suffix);
            }
        }

        Assert.That(File.ReadAllLines(Path.Combine(d, "cka.csv"))[0], Is.EqualTo("network,0,1,2"));
        Assert.That(File.Exists(Path.Combine(d, "pif_permutations.npy")));
        Assert.That(File.ReadAllText(Path.Combine(d, "behavior_summary.json")), Does.Contain("\"degeneracy\""));

        (code, var deg, err) = Cli("degeneracy", run, "--all", "--backend", "cpu", "--trials", "6", "--rank", "4", "--delays", "2", "--iterations", "50");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(deg, Does.Contain("mean DSA"));
        Assert.That(File.ReadAllText(Path.Combine(d, "degeneracy.json")), Does.Contain("mean_pif").And.Contain("sigma_ood").And.Contain("mean_dsa"));
    }

    [Test]
    public void Compare_BadInput_IsOneClearError()
    {
        var (code, _, err) = Cli("compare", _dir, "--metric", "cka");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.StartWith("error: ").And.Contain("no checkpoint.rnn"));

        string run = Path.Combine(_dir, "run");
        (code, _, err) = Cli("train", "--networks", "2", "--hidden", "4", "--trials", "2", "--steps", "8", "--max-epochs", "1", "--backend", "cpu", "--out", run);
        Assert.That(code, Is.EqualTo(0), err);
        (code, _, err) = Cli("compare", run, "--metric", "nope", "--all");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("Unknown metric"));
        (code, _, err) = Cli("compare", run, "--metric", "cka");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("no converged networks"));
        (code, _, err) = Cli("compare", run, "--metric", "shape", "--alpha", "2", "--all");
        Assert.That(err, Does.Contain("--alpha must be in [0, 1]"));
        (code, _, err) = Cli("compare", run, "--metric", "dsa", "--all", "--rank", "50", "--delays", "2", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("rank 50 exceeds"));
    }
}
