using System.Text.Json;
using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.FixedPoints;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.FixedPoints;

/// <summary>
/// The search in rounds finds the saddles: the 27 fixed points of a hand-built three-bit memory and of trained 3-bit
/// flip-flops (8 stable, 12 with one unstable direction, 6 with two, 1 with three), its report, and its determinism.
/// </summary>
public sealed class CompleteSearchTests
{
    private static readonly int[] FullCensus = [8, 12, 6, 1];

    /// <summary>Units per direction of <see cref="Memory"/> (N = 32: 32 / 3).</summary>
    private const int Block = 10;

    /// <summary>
    /// W = g P + c (I − P), P the projector on three orthonormal directions q_k = s ⊙ 1_{B_k} / √m with disjoint random
    /// blocks B_k of m = N / 3 units and random signs s. Zero bias; input k drives direction k (U = drive √m q_k), read out
    /// by q_k. On block k the state is x s_i with x = tanh(g x) (0 or ±x*, g &gt; 1) and everything else decays (|c| &lt; 1),
    /// so there are exactly 3³ = 27 fixed points: σ_k ∈ {−1, 0, 1} per direction, saddle index #{k : σ_k = 0}.
    /// </summary>
    private static (EnsembleSpec Spec, float[] Parameters, double[,] Directions) ThreeBitMemory(int n, double g, double c, double drive, int seed)
    {
        var spec = new EnsembleSpec { Networks = 1, Hidden = n, Inputs = 3, Outputs = 3 };
        var rng = new Random(seed);
        var perm = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        int m = n / 3;
        var q = new double[n, 3];
        for (int k = 0; k < 3; k++)
        {
            for (int j = 0; j < m; j++)
            {
                q[perm[k * m + j], k] = (rng.Next(2) == 0 ? -1 : 1) / Math.Sqrt(m);
            }
        }

        var p = new float[spec.Layout.Stride];
        var w = spec.Layout.WRec(p, 0);
        var u = spec.Layout.WIn(p, 0);
        var o = spec.Layout.WOut(p, 0);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double proj = q[i, 0] * q[j, 0] + q[i, 1] * q[j, 1] + q[i, 2] * q[j, 2];
                w[i * n + j] = (float)(g * proj + c * ((i == j ? 1 : 0) - proj));
            }

            for (int k = 0; k < 3; k++)
            {
                u[i * 3 + k] = (float)(drive * Math.Sqrt(m) * q[i, k]);
                o[k * n + i] = (float)q[i, k];
            }
        }

        return (spec, p, q);
    }

    private static FixedPointAnalysisResult Analyse(EnsembleSpec spec, float[] p, SeedRoundOptions rounds, IFixedPointSearch search, int threads = 0)
    {
        using var backend = BackendFactory.Create("cpu");
        var ensemble = new Ensemble(spec, Ensemble.ConsecutiveSeeds(0, spec.Networks), p);
        var (seeds, _) = FixedPointSeeds.FromTrajectories(ensemble, backend, null, 32, 30, 256, 0, 0);
        var problem = new FixedPointProblem(spec, p, new float[spec.Networks * spec.Inputs], 256, seeds);
        return FixedPointAnalysis.Run(problem, search, new FixedPointOptions { Rounds = rounds }, threads);
    }

    private static (EnsembleSpec Spec, float[] Parameters, double[,] Directions) Memory() => ThreeBitMemory(32, 3, 0.5, 1.5, 1);

    [Test]
    public void HandBuiltThreeBitMemory_RoundsFindAll27Points_WithCensus8_12_6_1()
    {
        var (spec, p, q) = Memory();
        using var search = new CpuFixedPointSearch(2);
        var single = Analyse(spec, p, new SeedRoundOptions { MaxRounds = 0 }, search).Networks[0];
        var complete = Analyse(spec, p, new SeedRoundOptions(), search).Networks[0];
        TestContext.Out.WriteLine($"first search only: census {CompleteSearch.CensusText(single.Census)}; with rounds: {CompleteSearch.CensusText(complete.Census)}, new per round {string.Join('+', complete.Rounds.Select(r => r.Found))}");
        Assert.That(complete.Census, Is.EqualTo(FullCensus), "with rounds: 8 stable, 12/6/1 saddles with 1/2/3 unstable directions");
        Assert.That(single.Census.Sum(), Is.LessThan(27), "the first search alone misses some (the rounds matter)");

        // every point is one of the 27 known ones, each found once, with the known saddle index
        double x = 1;
        for (int it = 0; it < 200; it++)
        {
            x = Math.Tanh(3 * x);
        }

        var converged = complete.Points.Where(pt => pt.Status == FixedPointStatus.Converged).ToList();
        var codes = new HashSet<int>();
        foreach (var pt in converged)
        {
            var sigma = new int[3];
            for (int k = 0; k < 3; k++)
            {
                double a = 0;
                for (int i = 0; i < 32; i++)
                {
                    a += q[i, k] * pt.State[i];
                }

                a /= x * Math.Sqrt(Block);
                sigma[k] = (int)Math.Round(a);
                Assert.That(a, Is.EqualTo(sigma[k]).Within(1e-6), "on the lattice {−x*, 0, x*}³");
            }

            for (int i = 0; i < 32; i++)
            {
                double expected = x * Math.Sqrt(Block) * (sigma[0] * q[i, 0] + sigma[1] * q[i, 1] + sigma[2] * q[i, 2]);
                Assert.That(pt.State[i], Is.EqualTo(expected).Within(1e-8), $"h*[{i}]");
            }

            Assert.That(pt.SaddleIndex, Is.EqualTo(sigma.Count(s => s == 0)), "unstable directions = bits at 0");
            codes.Add((sigma[0] + 1) * 9 + (sigma[1] + 1) * 3 + sigma[2] + 1);
        }

        Assert.That(codes, Has.Count.EqualTo(27), "all 27, none twice");
    }

    [Test]
    public void Rounds_ReportWhatEachRoundFound_AndTheJsonAndCsvCarryIt()
    {
        var (spec, p, _) = Memory();
        using var search = new CpuFixedPointSearch(2);
        var result = Analyse(spec, p, new SeedRoundOptions { MaxRounds = 5, SeedsPerRound = 64 }, search);
        var net = result.Networks[0];
        var rounds = net.Rounds;
        Assert.That(rounds[0].Round, Is.EqualTo(0));
        Assert.That(rounds[0].Seeds, Is.EqualTo(256));
        Assert.That(rounds.Skip(1).Select(r => r.Seeds), Is.All.EqualTo(64));
        Assert.That(rounds.Select(r => r.Round), Is.EqualTo(Enumerable.Range(0, rounds.Count)));
        Assert.That(result.RoundsRun, Is.EqualTo(rounds.Count));
        Assert.That(rounds[^1].Found, Is.EqualTo(0), "stopped after a round with nothing new (well within 5)");
        Assert.That(rounds.Take(rounds.Count - 1).Select(r => r.Found), Is.All.GreaterThan(0));
        int total = 0;
        foreach (var r in rounds)
        {
            total += r.Found;
            Assert.That(r.Total, Is.EqualTo(total), "total = running sum of new points");
            Assert.That(net.Points.Count(pt => pt.Status == FixedPointStatus.Converged && pt.Round == r.Round), Is.EqualTo(r.Found), $"points tagged round {r.Round}");
        }

        Assert.That(total, Is.EqualTo(27));

        string dir = Directory.CreateTempSubdirectory("census").FullName;
        try
        {
            FixedPointOutput.Write(dir, result, spec.Inputs, new Dictionary<string, object>());
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "fixed_points.json")));
            var root = json.RootElement;
            Assert.That(root.GetProperty("rounds_run").GetInt32(), Is.EqualTo(rounds.Count));
            Assert.That(root.GetProperty("censuses").GetProperty("8/12/6/1").GetInt32(), Is.EqualTo(1));
            var first = root.GetProperty("networks")[0];
            Assert.That(first.GetProperty("census").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(FullCensus));
            Assert.That(first.GetProperty("census_text").GetString(), Is.EqualTo("8/12/6/1"));
            Assert.That(first.GetProperty("rounds").GetArrayLength(), Is.EqualTo(rounds.Count));
            Assert.That(first.GetProperty("rounds")[1].GetProperty("found").GetInt32(), Is.EqualTo(rounds[1].Found));
            Assert.That(first.GetProperty("fixed_points")[0].TryGetProperty("round", out _), Is.True);
            var census = File.ReadAllLines(Path.Combine(dir, "census.csv"));
            Assert.That(census[0], Is.EqualTo("network,status,converged_points,index_0,index_1,index_2,index_3"));
            Assert.That(census[1], Is.EqualTo("0,ok,27,8,12,6,1"));
            var roundsCsv = File.ReadAllLines(Path.Combine(dir, "rounds.csv"));
            Assert.That(roundsCsv, Has.Length.EqualTo(rounds.Count + 1));
            Assert.That(roundsCsv[1], Is.EqualTo($"0,0,256,{rounds[0].Found},{rounds[0].Found}"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void Rounds_AreDeterministic_WhateverTheThreadCount()
    {
        var (spec, p, _) = ThreeBitMemory(32, 3, 0.5, 1.5, 1);

        // two networks, so that a later round runs a smaller ensemble once the first stops
        var two = spec with { Networks = 2 };
        var (_, p2, _) = ThreeBitMemory(32, 2, 0.5, 1.2, 3);
        float[] both = [.. p, .. p2];
        FixedPointAnalysisResult Once(int threads)
        {
            using var search = new CpuFixedPointSearch(threads);
            return Analyse(two, both, new SeedRoundOptions(), search, threads);
        }

        var a = Once(1);
        var b = Once(2);
        for (int e = 0; e < 2; e++)
        {
            var (pa, pb) = (a.Networks[e].Points, b.Networks[e].Points);
            Assert.That(pb, Has.Count.EqualTo(pa.Count), $"network {e}");
            Assert.That(b.Networks[e].Rounds, Is.EqualTo(a.Networks[e].Rounds), $"network {e}: the same rounds");
            for (int k = 0; k < pa.Count; k++)
            {
                Assert.That(pb[k].State, Is.EqualTo(pa[k].State), $"network {e}, point {k}: bit for bit");
                Assert.That(pb[k].Round, Is.EqualTo(pa[k].Round));
                Assert.That(pb[k].SaddleIndex, Is.EqualTo(pa[k].SaddleIndex));
            }
        }

        Assert.That(a.Networks[0].Census, Is.EqualTo(FullCensus));
    }

    [Test]
    public void SeedRoundOptions_RejectBadValues()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeedRoundOptions { MaxRounds = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeedRoundOptions { Interpolations = [0.5, 3] }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeedRoundOptions { InterpolationShare = 1.5 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedPointOptions { Rounds = new SeedRoundOptions { NoiseScales = [-1] } }.Validate());
    }

    /// <summary>Trained 3-bit flip-flops of width 32 (the full width, 128, under ENGINE_LONG_TESTS=1).</summary>
    [TestCase(32, 8)]
    [TestCase(128, 8)]
    public void TrainedFlipFlops_DefaultAnalysisFindsTheExhaustiveCensus(int hidden, int networks)
    {
        if (hidden > 32 && Environment.GetEnvironmentVariable("ENGINE_LONG_TESTS") != "1")
        {
            Assert.Ignore("N = 128 takes minutes on 2 cores; set ENGINE_LONG_TESTS=1 to run it.");
        }

        var task = new FlipFlopTask(3);
        var spec = new EnsembleSpec { Networks = networks, Hidden = hidden, Inputs = 3, Outputs = 3 };
        using var backend = BackendFactory.Create("cpu");
        var state = Trainer.Train(backend, task, spec, Ensemble.ConsecutiveSeeds(1, networks), new TrainingOptions
        {
            Trials = 32, Steps = 30, LearningRate = 3e-3, ClipNorm = 1, MaxEpochs = 6000, Threshold = 1e-3,
        });
        var ensemble = state.Ensemble;
        var trained = Enumerable.Range(0, networks).Where(e => state.Networks[e].Status == NetworkStatus.Converged).ToList();
        Assert.That(trained, Has.Count.GreaterThanOrEqualTo(networks / 2), "training");

        // the exhaustive census: one search (no rounds) from 4096 seeds per network, trajectory states plus noise at four
        // scales, with a small learning rate so that each seed settles on a point near it
        double[] scales = [0.02, 0.1, 0.3, 0.6];
        const int part = 1024;
        int many = part * scales.Length;
        var seeds = new float[(long)networks * many * hidden];
        for (int k = 0; k < scales.Length; k++)
        {
            var (s, _) = FixedPointSeeds.FromTrajectories(ensemble, backend, task, 64, 30, part, scales[k], 100 + k);
            for (int e = 0; e < networks; e++)
            {
                s.AsSpan(e * part * hidden, part * hidden).CopyTo(seeds.AsSpan((e * many + k * part) * hidden));
            }
        }

        var exhaustive = FixedPointAnalysis.Run(backend, new FixedPointProblem(spec, ensemble.Parameters, new float[networks * 3], many, seeds), new FixedPointOptions
        {
            Search = new AdamSearchOptions { LearningRate = 0.05, MaxIterations = 2000 },
            Rounds = new SeedRoundOptions { MaxRounds = 0 },
        });

        // the engine's analysis with its defaults (what `fixed-points` runs: 256 trajectory seeds, then the rounds)
        var (defaultSeeds, _) = FixedPointSeeds.FromTrajectories(ensemble, backend, task, 32, 30, 256, 0, 0);
        var analysis = FixedPointAnalysis.Run(backend, new FixedPointProblem(spec, ensemble.Parameters, new float[networks * 3], 256, defaultSeeds));
        var full = trained.Where(e => exhaustive.Networks[e].Census.SequenceEqual(FullCensus)).ToList();
        foreach (int e in trained)
        {
            TestContext.Out.WriteLine($"network {e}: exhaustive {CompleteSearch.CensusText(exhaustive.Networks[e].Census)}, default {CompleteSearch.CensusText(analysis.Networks[e].Census)} (new per round {string.Join('+', analysis.Networks[e].Rounds.Select(r => r.Found))})");
        }

        Assert.That(full, Has.Count.GreaterThanOrEqualTo(trained.Count / 2), "most trained flip-flops have the 27-point structure");
        int found = full.Count(e => analysis.Networks[e].Census.SequenceEqual(FullCensus));
        Assert.That(found, Is.GreaterThanOrEqualTo(0.9 * full.Count), $"the default analysis finds 8/12/6/1 on {found} of {full.Count}");
    }
}
