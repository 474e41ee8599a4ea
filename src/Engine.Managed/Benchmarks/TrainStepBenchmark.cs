using System.Globalization;
using Engine.Backends;
using Engine.Kernels;
using Engine.Model;

namespace Engine.Benchmarks;

/// <summary>One timed ensemble training step: the numbers a benchmark line reports.</summary>
/// <param name="Backend">The backend's name.</param>
/// <param name="Networks">E.</param>
/// <param name="Hidden">N.</param>
/// <param name="Trials">B.</param>
/// <param name="Steps">T.</param>
/// <param name="MedianMs">Median milliseconds per step.</param>
/// <param name="MinMs">Fastest step.</param>
/// <param name="MaxMs">Slowest step.</param>
/// <param name="Gflops">FLOP per step (<see cref="TrainStepBenchmark.FlopsPerStep"/>) over the median time.</param>
/// <param name="PeakGflops">The machine's measured FMA peak used for the share (0 if not measured).</param>
public sealed record TrainStepResult(
    string Backend, int Networks, int Hidden, int Trials, int Steps,
    double MedianMs, double MinMs, double MaxMs, double Gflops, double PeakGflops)
{
    /// <summary>Achieved over peak GFLOP/s (0 when the peak is unknown).</summary>
    public double PeakShare => PeakGflops > 0 ? Gflops / PeakGflops : 0;

    /// <summary><c>train-step E=32 N=128 B=64 T=100 backend=cpu median_ms=… gflops=… peak_share=…</c>.</summary>
    public string FormatLine() => string.Create(
        CultureInfo.InvariantCulture,
        $"train-step E={Networks} N={Hidden} B={Trials} T={Steps} backend={Backend} median_ms={MedianMs:F2} gflops={Gflops:F1} peak_share={(PeakGflops > 0 ? PeakShare.ToString("F2", CultureInfo.InvariantCulture) : "n/a")}");

    /// <summary>The spread and the peak the share refers to.</summary>
    public string FormatSpread() => string.Create(
        CultureInfo.InvariantCulture,
        $"  min_ms={MinMs:F2} max_ms={MaxMs:F2} peak_gflops={PeakGflops:F1}");
}

/// <summary>Times one ensemble training step (ComputeGradients + AdamStep) on a fixed batch, on any backend.</summary>
/// <remarks>
/// I = O = 3, every network active, all trials scored. Setup allocates, packs and warms up; <see cref="Step"/>
/// allocates nothing on backends that keep their workspaces. Shared by the CLI (<c>bench train-step</c>) and the
/// BenchmarkDotNet class.
/// </remarks>
public sealed class TrainStepBenchmark : IDisposable
{
    /// <summary>Inputs and outputs per network.</summary>
    public const int Channels = 3;

    private readonly IEnsembleRunner _runner;
    private readonly TrialBatch _batch;
    private readonly byte[] _active;
    private readonly float[] _loss, _norm;
    private readonly AdamCoefficients[] _coefficients;

    /// <summary>Creates the runner, random parameters (U(−1/√N, 1/√N)) and a random batch.</summary>
    public TrainStepBenchmark(IEnsembleBackend backend, int networks, int hidden, int trials, int steps, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(backend);
        Backend = backend.Name;
        Spec = new EnsembleSpec { Networks = networks, Hidden = hidden, Inputs = Channels, Outputs = Channels }.Validate();
        var rng = new Random(seed);
        var p = new float[(long)networks * Spec.Layout.Stride];
        float bound = 1f / MathF.Sqrt(hidden);
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = (float)(rng.NextDouble() * 2 - 1) * bound;
        }

        _batch = TrialBatch.For(Spec, 1, trials, steps);
        for (int i = 0; i < _batch.Inputs.Length; i++)
        {
            _batch.Inputs[i] = rng.NextDouble() < 0.05 ? (rng.NextDouble() < 0.5 ? -1f : 1f) : 0f;
        }

        for (int i = 0; i < _batch.Targets.Length; i++)
        {
            _batch.Targets[i] = rng.NextDouble() < 0.5 ? -1f : 1f;
        }

        Array.Fill(_batch.Mask, 1f);
        _runner = backend.CreateRunner(Spec);
        _runner.SetParameters(p);
        _active = Enumerable.Repeat((byte)1, networks).ToArray();
        _loss = new float[networks];
        _norm = new float[networks];
        _coefficients = Enumerable.Repeat(AdamMath.Coefficients(1e-4f, 1, 1f), networks).ToArray();
    }

    /// <summary>The backend's name.</summary>
    public string Backend { get; }

    /// <summary>The ensemble being stepped.</summary>
    public EnsembleSpec Spec { get; }

    /// <summary>FLOP of one step.</summary>
    public double Flops => FlopsPerStep(Spec.Networks, Spec.Hidden, _batch.Trials, _batch.Steps, Channels, Channels);

    /// <summary>The conventional FLOP count of one BPTT training step of an ensemble.</summary>
    /// <remarks>
    /// 6·N²·E·B·T + 6·N·(I + O)·E·B·T: per network, trial and step the forward W·h (2N²), the backward Wᵀ·δ (2N²)
    /// and the accumulation δ·hᵀ into dW (2N²), and the same three for the input (N·I) and readout (N·O) matrices.
    /// Elementwise work and Adam are not counted.
    /// </remarks>
    public static double FlopsPerStep(int networks, int hidden, int trials, int steps, int inputs, int outputs)
        => ((6.0 * hidden * hidden) + (6.0 * hidden * (inputs + outputs))) * networks * trials * steps;

    /// <summary>One training step: gradients of every network, then one Adam update.</summary>
    public void Step()
    {
        _runner.ComputeGradients(_batch, _active, _loss, _norm);
        _runner.AdamStep(_coefficients);
    }

    /// <summary>Warms up, then times <paramref name="repeats"/> steps; the share is taken against <paramref name="peakGflops"/>.</summary>
    /// <remarks>
    /// Each step is timed alone (Stopwatch); the result carries the median, min and max in ms and
    /// GFLOP/s = <see cref="Flops"/> / (median_ms · 10⁶).
    /// </remarks>
    public TrainStepResult Measure(int warmup = 3, int repeats = 15, double peakGflops = 0)
    {
        for (int i = 0; i < warmup; i++)
        {
            Step();
        }

        var ms = Util.StepTimer.SortedMilliseconds(repeats, Step);
        double median = Util.StepTimer.Median(ms);
        return new TrainStepResult(Backend, Spec.Networks, Spec.Hidden, _batch.Trials, _batch.Steps,
            median, ms[0], ms[^1], Flops / (median * 1e6), peakGflops);
    }

    /// <summary>Sets up, measures and disposes in one call.</summary>
    public static TrainStepResult Run(IEnsembleBackend backend, int networks, int hidden, int trials, int steps, double peakGflops, int warmup = 3, int repeats = 15)
    {
        using var bench = new TrainStepBenchmark(backend, networks, hidden, trials, steps);
        return bench.Measure(warmup, repeats, peakGflops);
    }

    /// <inheritdoc />
    public void Dispose() => _runner.Dispose();
}
