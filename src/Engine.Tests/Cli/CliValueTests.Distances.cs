using System.Globalization;
using System.Text.Json;
using Engine.Backends;
using Engine.Distances;
using Engine.IO;
using Engine.Tasks;
using Engine.Tests.Support;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Cli;

/// <summary><c>compare</c> (shape, dsa, pif, behavior) and <c>degeneracy</c>: every written matrix and summary equals the library's result.</summary>
public sealed partial class CliValueTests
{
    /// <summary>The CLI's default probe seed (as eval).</summary>
    private const long ProbeSeed = 12345;

    private static readonly int[] AllNetworks = [0, 1, 2];

    [Test]
    public void CompareShape_WritesTheLibrarysMatrix_AtTheGivenAlpha()
    {
        string outDir = OutFolder("shape");
        var (code, _, err) = CliHarness.Run("compare", Run, "--metric", "shape", "--alpha", "0.5", "--all", "--backend", "cpu", "--trials", "6", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), err);
        var (state, task) = Load();
        using var backend = BackendFactory.Create("cpu");
        var expected = ShapeMetric.Compute(TestBackends.Cpu, ProbeStates(backend, state, task, 6), 0.5);
        using var summary = AssertMatrixFiles(outDir, "shape_a0.5", expected);
        Assert.That(summary.RootElement.GetProperty("options").GetProperty("alpha").GetDouble(), Is.EqualTo(0.5));
        Assert.That(summary.RootElement.GetProperty("degeneracy").GetProperty("value").GetDouble(), Is.EqualTo(PairMean(expected)).Within(1e-7).Percent);
    }

    [Test]
    public void CompareDsa_WritesTheLibrarysThreeScores_WithEveryDsaOptionPassedThrough()
    {
        string outDir = OutFolder("dsa");
        var (code, _, err) = CliHarness.Run("compare", Run, "--metric", "dsa", "--rank", "4", "--delays", "3", "--delay-interval", "2", "--ridge", "1e-3",
            "--iterations", "200", "--lr", "1e-2", "--all", "--backend", "cpu", "--trials", "6", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), err);
        var (state, task) = Load();
        using var backend = BackendFactory.Create("cpu");
        var options = new DsaOptions { Rank = 4, Delays = 3, DelayInterval = 2, Ridge = 1e-3, Iterations = 200, LearningRate = 1e-2 };
        var expected = Dsa.Compute(backend, ProbeStates(backend, state, task, 6), options);
        using var summary = AssertMatrixFiles(outDir, "dsa_angular", expected.Angular);
        AssertNpy(Path.Combine(outDir, "dsa_euclidean.npy"), expected.Euclidean);
        AssertNpy(Path.Combine(outDir, "dsa_wasserstein.npy"), expected.Wasserstein);
        var o = summary.RootElement.GetProperty("options");
        Assert.That(o.GetProperty("mean_euclidean").GetDouble(), Is.EqualTo(PairMean(expected.Euclidean)).Within(1e-7).Percent);
        Assert.That(o.GetProperty("mean_wasserstein").GetDouble(), Is.EqualTo(PairMean(expected.Wasserstein)).Within(1e-7).Percent);
        Assert.That(PairMean(expected.Euclidean), Is.GreaterThan(0), "a non-trivial matrix");
    }

    [Test]
    public void ComparePif_WritesTheLibrarysMatrixAndPermutations()
    {
        string outDir = OutFolder("pif");
        var (code, _, err) = CliHarness.Run("compare", Run, "--metric", "pif", "--all", "--backend", "cpu", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), err);
        var (state, _) = Load();
        using var backend = BackendFactory.Create("cpu");
        var perms = new int[3][];
        var expected = WeightDistance.Matrix(backend, state.Ensemble, AllNetworks, permutations: perms);
        using var summary = AssertMatrixFiles(outDir, "pif", expected);

        // pif_permutations.npy [E][E][N]: row (i, j) maps unit k of network i to unit P[k] of j; (j, i) is the inverse; (i, i) the identity.
        int n = state.Ensemble.Spec.Hidden;
        var (p, shape) = Npy.ReadFloat32(Path.Combine(outDir, "pif_permutations.npy"));
        Assert.That(shape, Is.EqualTo(new[] { 3, 3, n }));
        var pairs = new[] { (0, 1), (0, 2), (1, 2) };
        for (int q = 0; q < pairs.Length; q++)
        {
            var (i, j) = pairs[q];
            for (int k = 0; k < n; k++)
            {
                Assert.That(p[((i * 3) + j) * n + k], Is.EqualTo(perms[q][k]), $"pair ({i}, {j}) unit {k}");
                Assert.That(p[((j * 3) + i) * n + perms[q][k]], Is.EqualTo(k), $"pair ({j}, {i}) unit {perms[q][k]}");
                Assert.That(p[((i * 3) + i) * n + k], Is.EqualTo(k), $"identity of {i}");
            }
        }
    }

    [Test]
    public void CompareBehavior_WritesTheLibrarysDistancesAndSigmaOod()
    {
        string outDir = OutFolder("behavior");
        var (code, _, err) = CliHarness.Run("compare", Run, "--metric", "behavior", "--all", "--backend", "cpu", "--trials", "6", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), err);
        var (state, task) = Load();
        using var backend = BackendFactory.Create("cpu");
        var expected = Behavior.Compute(backend, state, task, 6, ProbeSeed, AllNetworks);
        using var summary = AssertMatrixFiles(outDir, "behavior", expected.Distances);
        var root = summary.RootElement;
        Assert.That(root.GetProperty("degeneracy").GetProperty("value").GetDouble(), Is.EqualTo(expected.Evaluation.SigmaOod).Within(1e-7).Percent);
        Assert.That(root.GetProperty("options").GetProperty("ood_mse").EnumerateArray().Select(v => v.GetDouble()), Is.EqualTo(expected.Evaluation.OodMse).Within(1e-7).Percent);
        Assert.That(root.GetProperty("options").GetProperty("ood_steps").GetInt32(), Is.EqualTo(expected.Evaluation.OodSteps));
        Assert.That(expected.Evaluation.SigmaOod, Is.GreaterThan(0), "at least two converged networks, so σ_OOD is a number to compare");
    }

    [Test]
    public void Degeneracy_WritesTheLibrarysThreeLevels_WithTheDefaultOptions()
    {
        string outDir = OutFolder("degeneracy");
        var (code, _, err) = CliHarness.Run("degeneracy", Run, "--all", "--backend", "cpu", "--out", outDir);
        Assert.That(code, Is.EqualTo(0), err);
        var (state, task) = Load();
        using var backend = BackendFactory.Create("cpu");

        // The documented defaults: behaviour on 64 OOD trials, DSA on 32 probe trials of the training length with DSA's own
        // defaults (rank 10, 10 delays, 1500 Adam iterations at 5e-3), angular score; seed 12345.
        var behavior = Behavior.Compute(backend, state, task, 64, ProbeSeed, AllNetworks);
        var dsa = Dsa.Compute(backend, ProbeStates(backend, state, task, 32), new DsaOptions());
        var pif = WeightDistance.Matrix(backend, state.Ensemble, AllNetworks);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "degeneracy.json")));
        var root = json.RootElement;
        Assert.That(root.GetProperty("behavioral").GetProperty("sigma_ood").GetDouble(), Is.EqualTo(behavior.Evaluation.SigmaOod).Within(1e-7).Percent);
        Assert.That(root.GetProperty("behavioral").GetProperty("mean_pairwise_output_rms").GetDouble(), Is.EqualTo(PairMean(behavior.Distances)).Within(1e-7).Percent);
        Assert.That(root.GetProperty("dynamical").GetProperty("mean_dsa").GetDouble(), Is.EqualTo(PairMean(dsa.Angular)).Within(1e-7).Percent);
        Assert.That(root.GetProperty("dynamical").GetProperty("score").GetString(), Is.EqualTo("angular"));
        Assert.That(root.GetProperty("weight").GetProperty("mean_pif").GetDouble(), Is.EqualTo(PairMean(pif)).Within(1e-7).Percent);
        Assert.That(root.GetProperty("ids").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(AllNetworks));
        Assert.That(new[] { behavior.Evaluation.SigmaOod, PairMean(dsa.Angular), PairMean(pif) }, Has.All.GreaterThan(0), "non-trivial values");
    }

    private (TrainingState State, ITrialTask Task) Load()
    {
        var state = Checkpoint.Load(Path.Combine(Run, Checkpoint.FileName));
        return (state, TaskRegistry.Create(state.TaskName, state.TaskSettings));
    }

    /// <summary>States of every network on the CLI's probe trials: the training length, seed 12345.</summary>
    private static StateSet ProbeStates(IEnsembleBackend backend, TrainingState state, ITrialTask task, int trials)
        => StateSet.Record(backend, state.Ensemble, task, trials, state.Options.StepsFor(task), ProbeSeed, AllNetworks);

    /// <summary>Mean over the pairs i &lt; j, written out here rather than taken from <see cref="PairwiseMatrix.Mean"/>.</summary>
    private static double PairMean(PairwiseMatrix m)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < m.Size; i++)
        {
            for (int j = i + 1; j < m.Size; j++)
            {
                sum += m.Values[i * m.Size + j];
                count++;
            }
        }

        return sum / count;
    }

    /// <summary>NAME.csv and NAME.npy hold <paramref name="expected"/>; NAME_summary.json's mean is the matrix's pair mean. Returns the summary.</summary>
    private static JsonDocument AssertMatrixFiles(string dir, string name, PairwiseMatrix expected)
    {
        // NAME.csv: a header row of ids, then one row per network (its id, then its distances).
        var lines = File.ReadAllLines(Path.Combine(dir, $"{name}.csv"));
        var ids = lines[0].Split(',').Skip(1).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.That(ids, Is.EqualTo(expected.Ids), $"{name}.csv header");
        Assert.That(rows.Select(r => int.Parse(r[0], CultureInfo.InvariantCulture)), Is.EqualTo(expected.Ids), $"{name}.csv row ids");
        var csv = rows.SelectMany(r => r.Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture))).ToArray();
        Assert.That(csv, Is.EqualTo(expected.Values).Within(1e-7).Percent, $"{name}.csv");
        AssertNpy(Path.Combine(dir, $"{name}.npy"), expected);
        Assert.That(PairMean(expected), Is.GreaterThan(0), $"{name}: a non-trivial matrix");

        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, $"{name}_summary.json")));
        var root = summary.RootElement;
        Assert.That(root.GetProperty("metric").GetString(), Is.EqualTo(name));
        Assert.That(root.GetProperty("pairs").GetInt32(), Is.EqualTo(expected.Size * (expected.Size - 1) / 2));
        Assert.That(root.GetProperty("mean").GetDouble(), Is.EqualTo(PairMean(expected)).Within(1e-7).Percent, $"{name}_summary.json mean");
        return summary;
    }

    private static void AssertNpy(string path, PairwiseMatrix expected)
    {
        var (data, shape) = Npy.ReadFloat64(path);
        Assert.That(shape, Is.EqualTo(new[] { expected.Size, expected.Size }), path);
        Assert.That(data, Is.EqualTo(expected.Values).Within(1e-7).Percent, path);
    }
}
