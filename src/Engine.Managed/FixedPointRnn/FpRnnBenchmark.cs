using System.Diagnostics;
using System.Globalization;
using Engine.Kernels;
using Engine.Util;

namespace Engine.FixedPointRnn;

/// <summary>One timed fixed-point RNN training-step measurement.</summary>
/// <param name="Iterations">"K" or "converged".</param>
/// <param name="IterationsRun">Mean depth iterations per forward pass.</param>
/// <param name="MedianMs">Median ms per ensemble training step.</param>
/// <param name="Gflops">Counted FLOP per step over the median time.</param>
/// <param name="Networks">E.</param>
/// <param name="Hidden">N.</param>
/// <param name="Trials">B.</param>
/// <param name="Steps">T.</param>
public sealed record FpRnnBenchResult(string Iterations, double IterationsRun, double MedianMs, double Gflops, int Networks, int Hidden, int Trials, int Steps)
{
    /// <summary>A machine-readable line.</summary>
    public string FormatLine() => string.Create(CultureInfo.InvariantCulture,
        $"fprnn-bench cell=fixed-point iterations={Iterations} iterations_run={IterationsRun:F1} E={Networks} N={Hidden} B={Trials} T={Steps} ms_per_step={MedianMs:F3} gflops={Gflops:F2}");
}

/// <summary>Times one fixed-point RNN ensemble training step (forward iterations, loss, gradient, Adam), networks in parallel.</summary>
/// <remarks>
/// Workload: the count task (m = 8, V = 2, C = 8) at freshly initialised parameters. FLOP counted per sequence position and
/// iteration: forward (4r + 5)N (r reflections of a dot and an axpy, the scan); backward through a fixed count (16r + 6)N per
/// iteration, the implicit backward (16r + 8)N once; readout forward and backward 6CN. Elementwise exp/sigmoid and Adam are not counted.
/// </remarks>
public static class FpRnnBenchmark
{
    /// <summary>Warms up (at least 3 steps and 1 s), then times <paramref name="repeats"/> steps.</summary>
    public static FpRnnBenchResult Run(int networks, int hidden, int reflections, int trials, int steps, FpIteration iteration, int repeats, int threads)
    {
        ArgumentNullException.ThrowIfNull(iteration);
        Guard.AtLeast(repeats, 1, "repeats");
        var task = new ModularCountTask(8);
        var ens = FpRnnEnsemble.Create(task, networks, hidden, reflections, iteration.Validate(), new FpTrainOptions { Trials = trials, TrainLength = steps, Threads = threads }, 1);
        var spec = ens.Spec;
        var cores = Enumerable.Range(0, networks).Select(_ => new FpRnnCore<float>(spec)).ToArray();
        var grads = Enumerable.Range(0, networks).Select(_ => new float[spec.Stride]).ToArray();
        var m = new float[networks * spec.Stride];
        var v = new float[networks * spec.Stride];
        var tokens = new int[trials * steps];
        var targets = new int[trials * steps];
        task.Generate(Rng.For(1, Rng.DataStream), trials, steps, tokens, targets);
        var runs = new int[networks];
        var copy = (float[])ens.Parameters.Clone();
        int stepCount = 0;
        void Step()
        {
            stepCount++;
            var c = AdamMath.Coefficients(0f, stepCount, 1f); // lr 0: the update runs but parameters stay put, so every step times the same work
            Parallelism.For(networks, threads, e =>
            {
                var p = copy.AsSpan(e * spec.Stride, spec.Stride);
                cores[e].Forward(p, tokens, trials, steps, iteration, keepIterates: true);
                Array.Clear(grads[e]);
                cores[e].Loss(p, targets, grads[e]);
                cores[e].Backward(p, tokens, iteration, grads[e]);
                for (int i = 0; i < spec.Stride; i++)
                {
                    AdamMath.Update(ref p[i], ref m[e * spec.Stride + i], ref v[e * spec.Stride + i], grads[e][i], c);
                }

                runs[e] = cores[e].IterationsRun;
            });
        }

        long warm = Stopwatch.GetTimestamp();
        for (int w = 0; w < 3 || Stopwatch.GetElapsedTime(warm).TotalSeconds < 1.0; w++)
        {
            Step(); // warm-up: buffers, and at least a second so the JIT's tier-1 code is in place
        }

        double median = Util.StepTimer.Median(Util.StepTimer.SortedMilliseconds(repeats, Step));
        double k = runs.Average();
        double perPosition = iteration.IsFixed
            ? k * ((4.0 * reflections + 5) + (16.0 * reflections + 6)) * hidden
            : (k * (4.0 * reflections + 5) + (16.0 * reflections + 8)) * hidden;
        perPosition += 6.0 * spec.Classes * hidden;
        double flops = perPosition * networks * trials * steps;
        return new FpRnnBenchResult(iteration.Label, k, median, flops / (median * 1e6), networks, hidden, trials, steps);
    }
}
