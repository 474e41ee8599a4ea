using System.Diagnostics;
using System.Globalization;
using Engine.Backends;
using Engine.Distances;
using Engine.Util;

namespace Engine.Benchmarks;

/// <summary>One timed distance computation: the median of repeats, its spread, and the GEMM-shaped work.</summary>
/// <param name="Name">What was timed.</param>
/// <param name="Seconds">Times of each repeat.</param>
/// <param name="Gflop">Counted work per repeat (0 when not GEMM-shaped).</param>
public sealed record DistanceTiming(string Name, double[] Seconds, double Gflop)
{
    /// <summary>Median seconds.</summary>
    public double Median => Seconds.Order().ElementAt(Seconds.Length / 2);

    /// <summary>One line: median, min–max, GFLOP/s.</summary>
    public string Format()
    {
        string line = string.Create(CultureInfo.InvariantCulture, $"{Name} median_s={Median:F3} min_s={Seconds.Min():F3} max_s={Seconds.Max():F3}");
        return Gflop > 0 ? line + string.Create(CultureInfo.InvariantCulture, $" gflop={Gflop:F1} gflops={Gflop / Median:F1}") : line;
    }
}

/// <summary>The two distance benchmarks on synthetic states: linear CKA of 256 networks (2000 × 64), DSA of 64 networks.</summary>
/// <remarks>
/// CKA work: feature space, E(E+1)/2 cross products X_iᵀ X_j of 2·S·N² FLOP each (the diagonal included); sample space,
/// ≈ S²E²/2 + S²EN (see <see cref="CkaFlops"/>). Centring and the norms are O(E·S·N). DSA: per network the delay-embedding Gram (rows·(dN)² FMAs) and subspace iteration, then 2·E(E−1)/2
/// alignment problems of <c>iterations</c> Adam steps ≈ 9 r³ lane-FMAs each (reported as time per pair, not GFLOP/s).
/// States: x_{t+1} = tanh(M x_t + noise) with a random M per network, T = 100 per trial.
/// </remarks>
public static class DistanceBenchmark
{
    /// <summary>States of <paramref name="networks"/> random tanh RNNs driven by noise: trials × steps × hidden each.</summary>
    public static StateSet SyntheticStates(int networks, int trials, int steps, int hidden, long seed = 1)
    {
        var list = new float[networks][];
        Parallelism.For(networks, 0, e =>
        {
            var rng = Rng.For(seed + e, 7);
            var w = new double[hidden * hidden];
            double scale = 1.2 / Math.Sqrt(hidden);
            for (int k = 0; k < w.Length; k++)
            {
                w[k] = scale * rng.NextGaussian();
            }

            var x = new float[trials * steps * hidden];
            var h = new double[hidden];
            var next = new double[hidden];
            for (int b = 0; b < trials; b++)
            {
                Array.Clear(h);
                for (int t = 0; t < steps; t++)
                {
                    for (int i = 0; i < hidden; i++)
                    {
                        double z = 0.3 * rng.NextGaussian();
                        for (int j = 0; j < hidden; j++)
                        {
                            z += w[i * hidden + j] * h[j];
                        }

                        next[i] = Math.Tanh(z);
                    }

                    (h, next) = (next, h);
                    for (int i = 0; i < hidden; i++)
                    {
                        x[(b * steps + t) * hidden + i] = (float)h[i];
                    }
                }
            }

            list[e] = x;
        });
        return new StateSet(list, trials, steps, Enumerable.Repeat(hidden, networks).ToArray());
    }

    /// <summary>Times linear CKA for the whole matrix with one method of the CPU path; GFLOP counted for the method's own work.</summary>
    public static DistanceTiming Cka(IEnsembleBackend backend, StateSet states, int repeats, CkaMethod method)
    {
        int e = states.Networks, n = states.MaxWidth;
        double gflop = (method == CkaMethod.Samples ? CkaFlops.SampleSpace(e, states.Samples, n) : CkaFlops.FeatureSpace(e, states.Samples, n)) / 1e9;
        var r0 = Time($"cka-{method.ToString().ToLowerInvariant()} E={e} S={states.Samples} N={n}", repeats, gflop, () => Distances.Cka.Compute(backend, states, null, method));
        return r0;
    }

    /// <summary>Times the DSA operator fits and the pairwise alignments separately.</summary>
    public static (DistanceTiming Fit, DistanceTiming Align, double MeanAngular) Dsa(IEnsembleBackend backend, StateSet states, DsaOptions options, int repeats)
    {
        double[][] ops = [];
        int e = states.Networks;
        var fit = Time($"dsa-fit E={e} S={states.Samples} N={states.MaxWidth} d={options.Delays} r={options.Rank}", repeats, 0, () =>
        {
            var o = new double[e][];
            Parallelism.For(e, backend.Threads, k => o[k] = backend.Distances.FitDsaOperator(states.States[k], states.Trials, states.Steps, states.Widths[k], options));
            ops = o;
        });
        double mean = double.NaN;
        string steps = options.Optimizer == DsaOptimizer.Published ? $"iterations={options.Iterations}" : $"starts={options.RandomStarts}+ max_steps={options.MaxSteps}";
        var align = Time($"dsa-align pairs={e * (e - 1) / 2} r={options.Rank} {options.OptimizerName} {steps}", repeats, 0,
            () => mean = Distances.Dsa.FromOperators(backend, ops, states.Ids, options).Angular.Mean());
        return (fit, align, mean);
    }

    /// <summary>Times the d_PIF matrix (FAQ per pair, pairs in parallel) of random N × N weights with planted shared structure.</summary>
    public static DistanceTiming Pif(IEnsembleBackend backend, int networks, int hidden, int repeats)
    {
        var rng = new Rng(3);
        var baseW = Enumerable.Range(0, hidden * hidden).Select(_ => rng.NextGaussian() / Math.Sqrt(hidden)).ToArray();
        var w = new float[networks][];
        for (int e = 0; e < networks; e++)
        {
            var perm = Enumerable.Range(0, hidden).OrderBy(_ => rng.NextDouble()).ToArray();
            w[e] = new float[hidden * hidden];
            for (int i = 0; i < hidden; i++)
            {
                for (int j = 0; j < hidden; j++)
                {
                    w[e][perm[i] * hidden + perm[j]] = (float)(baseW[i * hidden + j] + 0.5 * rng.NextGaussian() / Math.Sqrt(hidden));
                }
            }
        }

        var ids = Enumerable.Range(0, networks).ToArray();
        var widths = Enumerable.Repeat(hidden, networks).ToArray();
        return Time($"pif E={networks} N={hidden} pairs={networks * (networks - 1) / 2}", repeats, 0, () => WeightDistance.Matrix(backend, w, widths, ids));
    }

    private static DistanceTiming Time(string name, int repeats, double gflop, Action run)
    {
        var times = new double[Math.Max(1, repeats)];
        for (int k = 0; k < times.Length; k++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times[k] = clock.Elapsed.TotalSeconds;
        }

        return new DistanceTiming(name, times, gflop);
    }
}
