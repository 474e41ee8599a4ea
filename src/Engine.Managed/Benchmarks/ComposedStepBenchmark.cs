using System.Globalization;
using Engine.Composed;
using Engine.Tasks.Cognitive;
using Engine.Util;

namespace Engine.Benchmarks;

/// <summary>One cell's timing in <see cref="ComposedStepBenchmark"/>.</summary>
/// <param name="Cell">composed or plain.</param>
/// <param name="Hidden">N.</param>
/// <param name="Rank">R (composed) or N (plain).</param>
/// <param name="Networks">E.</param>
/// <param name="Trials">B.</param>
/// <param name="Steps">T.</param>
/// <param name="MedianMs">Median wall time of one ensemble training step (forward, BPTT, Adam on every parameter).</param>
/// <param name="Gflops">Multiply-adds × 2 of the recurrence, input and output products, forward and backward, per second.</param>
public sealed record ComposedStepResult(string Cell, int Hidden, int Rank, int Networks, int Trials, int Steps, double MedianMs, double Gflops)
{
    /// <summary>One machine-readable line.</summary>
    public string FormatLine() => string.Create(CultureInfo.InvariantCulture,
        $"composed-step cell={Cell} hidden={Hidden} rank={Rank} networks={Networks} trials={Trials} steps={Steps} ms_per_step={MedianMs:F2} gflops={Gflops:F2}");
}

/// <summary>A training step of the context-composed RNN (one-hot context, rank R) against the full-rank plain RNN of the same width.</summary>
/// <remarks>
/// The batch is delaygo at dt = 20 ms (Yang et al.'s durations), cut or padded to T steps; networks run in parallel, one per
/// thread. FLOPs per trial step and network (forward + backward ≈ 3× forward): composed 3·2·(N·I + 2·N·R + O·N), plain
/// 3·2·(N·I + N² + O·N).
/// </remarks>
public static class ComposedStepBenchmark
{
    /// <summary>Times both cells; returns (composed, plain).</summary>
    public static (ComposedStepResult Composed, ComposedStepResult Plain) Run(int networks, int hidden, int rank, int trials, int steps, int threads = 0, int repeats = 10)
    {
        Guard.AtLeast(networks, 1, "networks");
        Guard.AtLeast(repeats, 1, "repeats");
        var task = new CognitiveTask("delaygo", new CognitiveOptions { Dt = 20, Ring = 32 });
        var drawn = task.Draw(new Rng(1), trials, Math.Max(steps, task.MinimumSteps));
        int t = steps;
        int ni = task.Inputs, no = task.Outputs;
        float[] Cut(float[] a, int width)
        {
            // Keep the last T steps of every trial (the response stays at the end).
            var r = new float[trials * t * width];
            for (int b = 0; b < trials; b++)
            {
                Array.Copy(a, (b * drawn.Steps + drawn.Steps - t) * width, r, b * t * width, t * width);
            }

            return r;
        }

        var roles = new int[trials * t];
        for (int b = 0; b < trials; b++)
        {
            Array.Copy(drawn.Roles, b * drawn.Steps + drawn.Steps - t, roles, b * t, t);
        }

        ComposedStepResult Time(CellKind cell)
        {
            var spec = new ComposedSpec { Cell = cell, Hidden = hidden, Inputs = ni, Outputs = no, Components = 4, Rank = rank, Alpha = 0.2 }.Validate();
            var context = new float[trials * t * spec.ContextCount];
            for (int i = 0; i < trials * t && spec.ContextCount > 0; i++)
            {
                context[i * spec.ContextCount + Math.Min(3, roles[i])] = 1f;
            }

            var noise = new float[trials * t * hidden];
            new Rng(2).FillGaussian(noise);
            var batch = new ComposedBatch(trials, t, Cut(drawn.Inputs, ni), Cut(drawn.Targets, no), Cut(drawn.Mask, no), context, noise);
            var p = Enumerable.Range(0, networks).Select(e => ContinualLearner.Initialize(spec, Rng.For(1, Rng.InitStream, e))).ToArray();
            var g = Enumerable.Range(0, networks).Select(_ => new float[spec.ParameterCount]).ToArray();
            var m = Enumerable.Range(0, networks).Select(_ => new float[spec.ParameterCount]).ToArray();
            var v = Enumerable.Range(0, networks).Select(_ => new float[spec.ParameterCount]).ToArray();
            var ws = Enumerable.Range(0, networks).Select(_ => new ComposedWorkspace<float>()).ToArray();
            int step = 0;
            void One()
            {
                step++;
                var c = Kernels.AdamMath.Coefficients(1e-3f, step, 1f);
                Parallelism.For(networks, threads, e =>
                {
                    ComposedRnn.Gradient<float>(spec, p[e], batch, ws[e], g[e]);
                    for (int i = 0; i < spec.ParameterCount; i++)
                    {
                        Kernels.AdamMath.Update(ref p[e][i], ref m[e][i], ref v[e][i], g[e][i], c);
                    }
                });
            }

            One();
            One();
            double median = Util.StepTimer.Median(Util.StepTimer.SortedMilliseconds(repeats, One));
            double recurrent = cell == CellKind.Composed ? 2.0 * hidden * rank : (double)hidden * hidden;
            double flops = 3 * 2 * (hidden * ni + recurrent + no * hidden) * trials * t * networks;
            return new ComposedStepResult(cell == CellKind.Composed ? "composed" : "plain", hidden, cell == CellKind.Composed ? rank : hidden, networks, trials, t, median, flops / (median * 1e6));
        }

        return (Time(CellKind.Composed), Time(CellKind.Plain));
    }
}
