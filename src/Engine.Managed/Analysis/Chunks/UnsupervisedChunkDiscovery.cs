using System.Globalization;
using Engine.Kernels;
using Engine.Util;

namespace Engine.Analysis.Chunks;

/// <summary>UCD: K embeddings trained with Adam to maximise the mean over states of the best cosine; states go to their best embedding.</summary>
/// <remarks>
/// Loss = −(1/|batch|) Σ_{t∈batch} max_k cos(c_k, h_t); the gradient reaches only the winning embedding:
/// ∂cos/∂c = h/(‖c‖‖h‖) − cos·c/‖c‖². Embeddings start at K distinct states drawn with the seed; batches are drawn by a
/// seeded shuffle each epoch, so the result is deterministic for a seed. After training, embeddings whose cosine exceeds
/// MergeCosine are merged into the first of them and embeddings that win no state are dropped.
/// </remarks>
public static class UnsupervisedChunkDiscovery
{
    private const double Tiny = 1e-12;

    /// <summary>Runs UCD on states [S][width].</summary>
    public static ChunkExtraction Run(ReadOnlySpan<float> states, int width, ChunkOptions options)
    {
        int samples = states.Length / width, k = Math.Min(options.Chunks, samples);
        var h = new double[samples * width];
        var norm = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            double q = 0;
            for (int j = 0; j < width; j++)
            {
                h[s * width + j] = states[s * width + j];
                q += h[s * width + j] * h[s * width + j];
            }

            norm[s] = Math.Sqrt(q) + Tiny;
        }

        var rng = Rng.For(options.Seed, 0xC0C0);
        var order = Enumerable.Range(0, samples).ToArray();
        Shuffle(order, rng);
        var c = new double[k * width];
        for (int i = 0; i < k; i++)
        {
            Array.Copy(h, order[i] * width, c, i * width, width);
        }

        var m = new double[c.Length];
        var v = new double[c.Length];
        var g = new double[c.Length];
        var cn = new double[k];
        int step = 0;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            Shuffle(order, rng);
            for (int start = 0; start < samples; start += options.BatchSize)
            {
                int end = Math.Min(samples, start + options.BatchSize);
                Norms(c, k, width, cn);
                Array.Clear(g);
                for (int i = start; i < end; i++)
                {
                    int s = order[i];
                    var (best, cos) = Best(h, s, width, norm[s], c, cn, k);
                    double scale = -1.0 / (end - start);
                    for (int j = 0; j < width; j++)
                    {
                        double dc = h[s * width + j] / (cn[best] * norm[s]) - cos * c[best * width + j] / (cn[best] * cn[best]);
                        g[best * width + j] += scale * dc;
                    }
                }

                var coef = AdamMath.Coefficients64(options.LearningRate, ++step);
                for (int p = 0; p < c.Length; p++)
                {
                    AdamMath.Update(ref c[p], ref m[p], ref v[p], g[p], coef);
                }
            }
        }

        // Merge near-duplicates into the first of them, then assign and drop embeddings that win nothing.
        Norms(c, k, width, cn);
        var alias = Enumerable.Range(0, k).ToArray();
        for (int a = 0; a < k; a++)
        {
            for (int b = 0; b < a && alias[a] == a; b++)
            {
                if (alias[b] == b && Cos(c, a, c, b, width, cn[a], cn[b]) > options.MergeCosine)
                {
                    alias[a] = b;
                }
            }
        }

        var keep = Enumerable.Range(0, k).Where(a => alias[a] == a).ToArray();
        var kc = new double[keep.Length * width];
        var kn = new double[keep.Length];
        for (int i = 0; i < keep.Length; i++)
        {
            Array.Copy(c, keep[i] * width, kc, i * width, width);
            kn[i] = cn[keep[i]];
        }

        var raw = new int[samples];
        var explained = new bool[samples];
        double total = 0;
        for (int s = 0; s < samples; s++)
        {
            var (best, cos) = Best(h, s, width, norm[s], kc, kn, keep.Length);
            raw[s] = best;
            explained[s] = cos >= options.ExplainedCosine;
            total += cos;
        }

        var used = raw.Distinct().Order().ToArray();
        var index = new int[keep.Length];
        Array.Fill(index, -1);
        for (int i = 0; i < used.Length; i++)
        {
            index[used[i]] = i;
        }

        var labels = raw.Select(r => index[r]).ToArray();
        return new ChunkExtraction
        {
            Method = ChunkMethod.Ucd,
            Width = width,
            Prototypes = ChunkExtraction.MeanStates(states, width, labels, used.Length),
            Names = used.Select((_, i) => "c" + i.ToString(CultureInfo.InvariantCulture)).ToArray(),
            Labels = labels,
            Explained = explained,
            Embeddings = used.Select(u => kc.AsSpan(u * width, width).ToArray()).ToArray(),
            MeanMaxCosine = total / samples,
        };
    }

    private static void Shuffle(int[] a, Rng rng)
    {
        for (int i = a.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (a[i], a[j]) = (a[j], a[i]);
        }
    }

    private static void Norms(double[] c, int k, int width, double[] cn)
    {
        for (int a = 0; a < k; a++)
        {
            double q = 0;
            for (int j = 0; j < width; j++)
            {
                q += c[a * width + j] * c[a * width + j];
            }

            cn[a] = Math.Sqrt(q) + Tiny;
        }
    }

    private static double Cos(double[] x, int a, double[] y, int b, int width, double na, double nb)
    {
        double dot = 0;
        for (int j = 0; j < width; j++)
        {
            dot += x[a * width + j] * y[b * width + j];
        }

        return dot / (na * nb);
    }

    private static (int Best, double Cos) Best(double[] h, int s, int width, double hn, double[] c, double[] cn, int k)
    {
        int best = 0;
        double bc = double.NegativeInfinity;
        for (int a = 0; a < k; a++)
        {
            double cos = Cos(h, s, c, a, width, hn, cn[a]);
            if (cos > bc)
            {
                bc = cos;
                best = a;
            }
        }

        return (best, bc);
    }
}
