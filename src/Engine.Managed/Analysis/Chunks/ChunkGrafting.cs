using Engine.Kernels;
using Engine.Model;
using Engine.Tasks;

namespace Engine.Analysis.Chunks;

/// <summary>The grafting result for one chunk.</summary>
/// <param name="Chunk">Chunk index in the dictionary.</param>
/// <param name="Name">Chunk name.</param>
/// <param name="Expected">The chunk's continuation: the latent value the network's output most often decodes to at the chunk's steps.</param>
/// <param name="ExpectedName">Its name (e.g. <c>+-+</c>).</param>
/// <param name="Grafted">Share of scored outputs after grafting that decode to <paramref name="Expected"/>.</param>
/// <param name="Baseline">The same share on the network's own, ungrafted trajectory.</param>
/// <param name="Scored">Outputs scored (over trials, the quiet window of at most the horizon after the graft).</param>
public sealed record GraftChunk(int Chunk, string Name, int Expected, string ExpectedName, double Grafted, double Baseline, int Scored);

/// <summary>Grafting over the most frequent chunks of one network.</summary>
/// <param name="Step">The step whose state was replaced.</param>
/// <param name="Horizon">Outputs scored after it.</param>
/// <param name="Chunks">Per grafted chunk.</param>
public sealed record GraftResult(int Step, int Horizon, IReadOnlyList<GraftChunk> Chunks)
{
    /// <summary>Mean over chunks of <see cref="GraftChunk.Grafted"/>.</summary>
    public double MeanGrafted => Chunks.Count == 0 ? double.NaN : Chunks.Average(c => c.Grafted);

    /// <summary>Mean over chunks of <see cref="GraftChunk.Baseline"/>.</summary>
    public double MeanBaseline => Chunks.Count == 0 ? double.NaN : Chunks.Average(c => c.Baseline);
}

/// <summary>Grafting: write a chunk's prototype into h at one step, run the network on, and see whether its outputs follow the chunk.</summary>
/// <remarks>
/// For every trial b and grafted chunk c: h_g ← prototype_c (the mean state of the chunk's steps), then
/// h_{t} = F(h_{t−1}, x_t) for t = g+1 … g+H with the trial's own inputs (float64, no process noise), and each output
/// y_t = C h_t + d (rate cell: C φ(h_t) + d) is decoded by the task (<see cref="ILatentTask.DecodeOutput"/>). The score is
/// the share of those outputs that decode to the chunk's continuation (what the network's outputs say at the chunk's steps),
/// against the same share of the recorded, ungrafted outputs at the same steps. Only the quiet window is scored: the steps
/// up to the first one where the network's own output changes class (an input event such as a flip-flop pulse, after which
/// the grafted memory should no longer be held). For the flip-flop the continuation is the chunk's memory and the score is
/// the share of outputs whose sign pattern is the grafted memory.
/// </remarks>
public static class ChunkGrafting
{
    /// <summary>Grafts the most frequent chunks of <paramref name="chunks"/> into network <paramref name="network"/>.</summary>
    /// <param name="spec">The ensemble's architecture.</param>
    /// <param name="parameters">The parameter block [E][P].</param>
    /// <param name="network">e.</param>
    /// <param name="inputs">The trials' inputs [B][T][I].</param>
    /// <param name="outputs">This network's recorded outputs [B][T][O].</param>
    /// <param name="trials">B.</param>
    /// <param name="steps">T.</param>
    /// <param name="chunks">The chunks read off this network's states.</param>
    /// <param name="task">Decodes outputs.</param>
    /// <param name="options">Step, horizon, chunk count.</param>
    /// <exception cref="ArgumentOutOfRangeException">The graft step leaves no step after it.</exception>
    public static GraftResult Run(EnsembleSpec spec, ReadOnlySpan<float> parameters, int network, ReadOnlySpan<float> inputs, ReadOnlySpan<float> outputs,
        int trials, int steps, ChunkExtraction chunks, ILatentTask task, ChunkOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(chunks);
        ArgumentNullException.ThrowIfNull(task);
        int g = options.GraftStep < 0 ? steps / 2 : options.GraftStep;
        if (g > steps - 2)
        {
            throw new ArgumentOutOfRangeException(nameof(options), g, $"The graft step must leave at least one step after it: got step {g} of trials of {steps} steps.");
        }

        int no = spec.Outputs, ni = spec.Inputs, n = spec.Hidden;
        int horizon = Math.Min(options.GraftHorizon, steps - 1 - g);
        var counts = chunks.Counts();
        var expected = new int[chunks.Count];
        for (int c = 0; c < chunks.Count; c++)
        {
            var votes = new Dictionary<int, int>();
            for (int s = 0; s < chunks.Labels.Length; s++)
            {
                if (chunks.Labels[s] == c)
                {
                    int v = task.DecodeOutput(outputs.Slice(s * no, no));
                    votes[v] = votes.GetValueOrDefault(v) + 1;
                }
            }

            expected[c] = votes.Count == 0 ? -1 : votes.MaxBy(kv => kv.Value).Key;
        }

        var net = new Stepper(spec, parameters, network);
        var h = new double[n];
        var next = new double[n];
        var y = new float[no];
        var result = new List<GraftChunk>();
        foreach (int c in Enumerable.Range(0, chunks.Count).Where(c => counts[c] > 0).OrderByDescending(c => counts[c]).Take(options.GraftChunks))
        {
            int grafted = 0, baseline = 0, scored = 0;
            for (int b = 0; b < trials; b++)
            {
                chunks.Prototypes[c].CopyTo(h, 0);
                int quiet = QuietWindow(outputs, b * steps + g, no, horizon, task);
                for (int k = 1; k <= quiet; k++)
                {
                    int s = b * steps + g + k;
                    net.Step(h, inputs.Slice(s * ni, ni), next);
                    (h, next) = (next, h);
                    net.Readout(h, y);
                    grafted += task.DecodeOutput(y) == expected[c] ? 1 : 0;
                    baseline += task.DecodeOutput(outputs.Slice(s * no, no)) == expected[c] ? 1 : 0;
                    scored++;
                }
            }

            if (scored > 0)
            {
                result.Add(new GraftChunk(c, chunks.Names[c], expected[c], task.LatentLabel(expected[c]), (double)grafted / scored, (double)baseline / scored, scored));
            }
        }

        return new GraftResult(g, horizon, result);
    }

    /// <summary>How many steps after <paramref name="s"/> (at most <paramref name="horizon"/>) the recorded output keeps the class it has at <paramref name="s"/>.</summary>
    private static int QuietWindow(ReadOnlySpan<float> outputs, int s, int no, int horizon, ILatentTask task)
    {
        int at = task.DecodeOutput(outputs.Slice(s * no, no));
        int k = 0;
        while (k < horizon && task.DecodeOutput(outputs.Slice((s + k + 1) * no, no)) == at)
        {
            k++;
        }

        return k;
    }

    /// <summary>One network's step and readout in float64.</summary>
    private sealed class Stepper
    {
        private readonly double[] _w, _u, _b, _c, _d;
        private readonly double[] _a;
        private readonly int _n, _i, _o, _act;
        private readonly double _alpha;
        private readonly bool _rate;

        public Stepper(EnsembleSpec spec, ReadOnlySpan<float> parameters, int network)
        {
            var layout = spec.Layout;
            var p = parameters.Slice(network * layout.Stride, layout.Stride);
            _n = spec.Hidden;
            _i = spec.Inputs;
            _o = spec.Outputs;
            _act = (int)spec.Activation;
            _alpha = spec.EffectiveAlpha;
            _rate = spec.Cell == CellType.Rate;
            _w = Copy(p.Slice(layout.WRecOffset, _n * _n));
            _u = Copy(p.Slice(layout.WInOffset, _n * _i));
            _b = Copy(p.Slice(layout.BiasOffset, _n));
            _c = Copy(p.Slice(layout.WOutOffset, _o * _n));
            _d = Copy(p.Slice(layout.BOutOffset, _o));
            _a = new double[_n];
        }

        private static double[] Copy(ReadOnlySpan<float> s)
        {
            var r = new double[s.Length];
            for (int k = 0; k < s.Length; k++)
            {
                r[k] = s[k];
            }

            return r;
        }

        /// <summary>Discrete/leaky: h' = (1 − α) h + α φ(W h + U x + b); rate: h' = (1 − α) h + α (W φ(h) + U x + b).</summary>
        public void Step(double[] h, ReadOnlySpan<float> x, double[] next)
        {
            for (int j = 0; j < _n; j++)
            {
                _a[j] = _rate ? ActivationCode.Apply(_act, h[j]) : h[j];
            }

            for (int i = 0; i < _n; i++)
            {
                double z = _b[i];
                for (int j = 0; j < _n; j++)
                {
                    z += _w[i * _n + j] * _a[j];
                }

                for (int j = 0; j < _i; j++)
                {
                    z += _u[i * _i + j] * x[j];
                }

                next[i] = (1 - _alpha) * h[i] + _alpha * (_rate ? z : ActivationCode.Apply(_act, z));
            }
        }

        public void Readout(double[] h, float[] y)
        {
            for (int o = 0; o < _o; o++)
            {
                double v = _d[o];
                for (int j = 0; j < _n; j++)
                {
                    v += _c[o * _n + j] * (_rate ? ActivationCode.Apply(_act, h[j]) : h[j]);
                }

                y[o] = (float)v;
            }
        }
    }
}
