using System.Globalization;
using Engine.Util;

namespace Engine.Analysis.Chunks;

/// <summary>PA: for each known label, a mean state over a few occurrences, the units that stay within tol of it, and a threshold.</summary>
/// <remarks>
/// For label l with reference occurrences I (<see cref="ChunkOptions.Occurrences"/>, drawn with the seed): m = mean_{i∈I} h_i;
/// subpopulation S = {j : |h_ij − m_j| &lt; tol ∀ i ∈ I}; deviation d_t = (1/|S|) Σ_{j∈S} (h_tj − m_j)²; threshold
/// τ = max_{i∈I} d_i; l is detected at t when d_t ≤ τ. Labels with fewer occurrences than I, or an empty S, take no part.
/// The sweep over tol records TPR, FPR and accuracy (the best-ratio label d_t/τ among those detected against the truth);
/// the most accurate tol is kept, and every step is then assigned the label of smallest d_t/τ (explained when detected).
/// </remarks>
public static class PopulationAveraging
{
    /// <summary>Runs PA on states [S][width] with labels [S] in 0 … labelCount − 1 (−1: unlabelled).</summary>
    public static ChunkExtraction Run(ReadOnlySpan<float> states, int width, int[] latents, int labelCount, ChunkOptions options, Func<int, string>? name = null)
    {
        int samples = latents.Length;
        var rng = Rng.For(options.Seed, 0x9A);
        var kept = new List<int>();
        var means = new List<double[]>();
        var spread = new List<double[]>();
        var refs = new List<int[]>();
        for (int l = 0; l < labelCount; l++)
        {
            var occ = Enumerable.Range(0, samples).Where(s => latents[s] == l).ToArray();
            if (occ.Length < options.Occurrences)
            {
                continue;
            }

            for (int i = 0; i < options.Occurrences; i++)
            {
                int k = i + rng.NextInt(occ.Length - i);
                (occ[i], occ[k]) = (occ[k], occ[i]);
            }

            var chosen = occ[..options.Occurrences];
            var m = new double[width];
            foreach (int s in chosen)
            {
                for (int j = 0; j < width; j++)
                {
                    m[j] += states[s * width + j] / (double)chosen.Length;
                }
            }

            var dev = new double[width];
            foreach (int s in chosen)
            {
                for (int j = 0; j < width; j++)
                {
                    dev[j] = Math.Max(dev[j], Math.Abs(states[s * width + j] - m[j]));
                }
            }

            kept.Add(l);
            means.Add(m);
            spread.Add(dev);
            refs.Add(chosen);
        }

        if (kept.Count == 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Method 'pa' (population averaging) found no label with at least {options.Occurrences} occurrences among {samples} steps."), nameof(latents));
        }

        int c = kept.Count;
        var d = new double[c * samples];
        var tau = new double[c];
        var active = new bool[c];
        var roc = new List<PaRocPoint>();
        double bestAccuracy = -1, bestTol = options.Tolerances[0];
        foreach (double tol in options.Tolerances)
        {
            Deviations(states, width, means, spread, refs, tol, d, tau, active, samples);
            long tp = 0, pos = 0, fp = 0, neg = 0, correct = 0, labelled = 0;
            for (int s = 0; s < samples; s++)
            {
                int truth = kept.IndexOf(latents[s]);
                if (truth < 0)
                {
                    continue;
                }

                labelled++;
                int best = -1;
                double br = double.PositiveInfinity;
                for (int k = 0; k < c; k++)
                {
                    bool hit = active[k] && d[k * samples + s] <= tau[k];
                    if (k == truth)
                    {
                        pos++;
                        tp += hit ? 1 : 0;
                    }
                    else
                    {
                        neg++;
                        fp += hit ? 1 : 0;
                    }

                    double r = d[k * samples + s] / (tau[k] + 1e-12);
                    if (hit && r < br)
                    {
                        br = r;
                        best = k;
                    }
                }

                correct += best == truth ? 1 : 0;
            }

            double acc = labelled == 0 ? 0 : (double)correct / labelled;
            roc.Add(new PaRocPoint(tol, pos == 0 ? 0 : (double)tp / pos, neg == 0 ? 0 : (double)fp / neg, acc));
            if (acc > bestAccuracy)
            {
                bestAccuracy = acc;
                bestTol = tol;
            }
        }

        Deviations(states, width, means, spread, refs, bestTol, d, tau, active, samples);
        var labels = new int[samples];
        var explained = new bool[samples];
        for (int s = 0; s < samples; s++)
        {
            int best = -1;
            double br = double.PositiveInfinity;
            for (int k = 0; k < c; k++)
            {
                if (!active[k])
                {
                    continue;
                }

                double r = d[k * samples + s] / (tau[k] + 1e-12);
                explained[s] |= d[k * samples + s] <= tau[k];
                if (r < br)
                {
                    br = r;
                    best = k;
                }
            }

            labels[s] = best;
        }

        return new ChunkExtraction
        {
            Method = ChunkMethod.Pa,
            Width = width,
            Prototypes = ChunkExtraction.MeanStates(states, width, labels, c),
            Names = kept.Select(l => name?.Invoke(l) ?? "l" + l.ToString(CultureInfo.InvariantCulture)).ToArray(),
            Labels = labels,
            Explained = explained,
            Roc = roc,
            Tolerance = bestTol,
        };
    }

    private static void Deviations(ReadOnlySpan<float> states, int width, List<double[]> means, List<double[]> spread, List<int[]> refs, double tol,
        double[] d, double[] tau, bool[] active, int samples)
    {
        for (int k = 0; k < means.Count; k++)
        {
            var m = means[k];
            var units = Enumerable.Range(0, width).Where(j => spread[k][j] < tol).ToArray();
            active[k] = units.Length > 0;
            if (!active[k])
            {
                continue;
            }

            for (int s = 0; s < samples; s++)
            {
                double sum = 0;
                foreach (int j in units)
                {
                    double x = states[s * width + j] - m[j];
                    sum += x * x;
                }

                d[k * samples + s] = sum / units.Length;
            }

            tau[k] = refs[k].Max(s => d[k * samples + s]);
        }
    }
}
