using System.Globalization;

namespace Engine.Analysis.Chunks;

/// <summary>DSC: discretise each neuron with 1-D k-means, name population states by their bin tuples, grow chunks BPE-style.</summary>
/// <remarks>
/// 1. Per neuron j, Lloyd's k-means over its S values with K bins, centres started at the quantiles (k + ½)/K (so the
///    result is deterministic); the population state of step s is the tuple (bin_1 … bin_N), numbered in order of first
///    appearance. 2. Each trial is a sequence of states; each of R rounds counts adjacent pairs of parse units over all
///    trials, adds the M most frequent pairs occurring at least MinCount times to the dictionary, and re-parses every
///    trial greedily, longest match first (matches found by a 64-bit rolling hash of the state sequence).
///    Labels are the states; the dictionary and parse are <see cref="ChunkExtraction.Words"/> and <see cref="ChunkExtraction.ParseChunks"/>.
/// </remarks>
public static class DiscreteSequenceChunking
{
    /// <summary>Runs DSC on states [trials·steps][width].</summary>
    public static ChunkExtraction Run(ReadOnlySpan<float> states, int trials, int steps, int width, ChunkOptions options)
    {
        int samples = trials * steps;
        var bins = new byte[samples * width];
        var values = new double[samples];
        for (int j = 0; j < width; j++)
        {
            for (int s = 0; s < samples; s++)
            {
                values[s] = states[s * width + j];
            }

            var assign = KMeans1D(values, options.Bins);
            for (int s = 0; s < samples; s++)
            {
                bins[s * width + j] = (byte)assign[s];
            }
        }

        var ids = new Dictionary<string, int>();
        var labels = new int[samples];
        var key = new char[width];
        for (int s = 0; s < samples; s++)
        {
            for (int j = 0; j < width; j++)
            {
                key[j] = (char)('0' + bins[s * width + j]);
            }

            string k = new(key);
            if (!ids.TryGetValue(k, out int id))
            {
                id = ids.Count;
                ids[k] = id;
            }

            labels[s] = id;
        }

        int atoms = ids.Count;
        var counts = new int[atoms];
        foreach (int l in labels)
        {
            counts[l]++;
        }

        var words = new List<int[]>();
        var known = new Dictionary<(ulong, int), int>();
        for (int a = 0; a < atoms; a++)
        {
            words.Add([a]);
            known[(Hash([a]), 1)] = a;
        }

        var parse = Parse(labels, trials, steps, words, known);
        for (int round = 0; round < options.Rounds; round++)
        {
            var pairs = new Dictionary<(int, int), int>();
            foreach (var trial in parse)
            {
                for (int u = 0; u + 1 < trial.Count; u++)
                {
                    var p = (trial[u], trial[u + 1]);
                    pairs[p] = pairs.GetValueOrDefault(p) + 1;
                }
            }

            int added = 0;
            foreach (var (pair, n) in pairs.Where(kv => kv.Value >= options.MinCount).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)))
            {
                if (added == options.MergesPerRound)
                {
                    break;
                }

                int[] w = [.. words[pair.Item1], .. words[pair.Item2]];
                var hk = (Hash(w), w.Length);
                if (known.ContainsKey(hk))
                {
                    continue;
                }

                known[hk] = words.Count;
                words.Add(w);
                added++;
            }

            if (added == 0)
            {
                break;
            }

            parse = Parse(labels, trials, steps, words, known);
        }

        var parseChunks = new int[samples];
        int units = 0;
        for (int b = 0; b < trials; b++)
        {
            int t = 0;
            foreach (int w in parse[b])
            {
                for (int i = 0; i < words[w].Length; i++)
                {
                    parseChunks[b * steps + t++] = w;
                }

                units++;
            }
        }

        return new ChunkExtraction
        {
            Method = ChunkMethod.Dsc,
            Width = width,
            Prototypes = ChunkExtraction.MeanStates(states, width, labels, atoms),
            Names = ids.OrderBy(kv => kv.Value).Select(kv => "s" + kv.Value.ToString(CultureInfo.InvariantCulture)).ToArray(),
            Labels = labels,
            Explained = labels.Select(l => counts[l] >= options.MinCount).ToArray(),
            ParseChunks = parseChunks,
            Words = words,
            ParseLength = units,
        };
    }

    /// <summary>1-D k-means (Lloyd) with quantile starts; returns the bin of each value, bins numbered by increasing centre.</summary>
    internal static int[] KMeans1D(double[] values, int k)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var centres = new double[k];
        for (int c = 0; c < k; c++)
        {
            centres[c] = sorted[Math.Min(sorted.Length - 1, (int)((c + 0.5) / k * sorted.Length))];
        }

        var assign = new int[values.Length];
        var sum = new double[k];
        var n = new int[k];
        for (int iter = 0; iter < 100; iter++)
        {
            Array.Sort(centres);
            bool changed = false;
            Array.Clear(sum);
            Array.Clear(n);
            for (int s = 0; s < values.Length; s++)
            {
                int best = 0;
                double bd = Math.Abs(values[s] - centres[0]);
                for (int c = 1; c < k; c++)
                {
                    double d = Math.Abs(values[s] - centres[c]);
                    if (d < bd)
                    {
                        bd = d;
                        best = c;
                    }
                }

                changed |= assign[s] != best || iter == 0;
                assign[s] = best;
                sum[best] += values[s];
                n[best]++;
            }

            if (!changed)
            {
                break;
            }

            for (int c = 0; c < k; c++)
            {
                if (n[c] > 0)
                {
                    centres[c] = sum[c] / n[c];
                }
            }
        }

        return assign;
    }

    private static List<List<int>> Parse(int[] labels, int trials, int steps, List<int[]> words, Dictionary<(ulong, int), int> known)
    {
        int longest = words.Max(w => w.Length);
        var result = new List<List<int>>(trials);
        for (int b = 0; b < trials; b++)
        {
            var units = new List<int>();
            int t = 0;
            while (t < steps)
            {
                ulong h = Seed;
                int best = -1;
                for (int len = 1; len <= longest && t + len <= steps; len++)
                {
                    h = Step(h, labels[b * steps + t + len - 1]);
                    if (known.TryGetValue((h, len), out int w))
                    {
                        best = w;
                    }
                }

                units.Add(best);
                t += words[best].Length;
            }

            result.Add(units);
        }

        return result;
    }

    private const ulong Seed = 1469598103934665603UL;

    private static ulong Step(ulong h, int symbol) => (h ^ (ulong)(uint)symbol) * 1099511628211UL + 0x9E3779B97F4A7C15UL;

    private static ulong Hash(int[] word)
    {
        ulong h = Seed;
        foreach (int s in word)
        {
            h = Step(h, s);
        }

        return h;
    }
}
