using System.Globalization;
using Engine.Backends;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using Engine.Util;

namespace Engine.Analysis.PathIntegration;

/// <summary>Pruning connections between classes and the path-integration error it causes (SEEDS.md §1, whole classes at once).</summary>
/// <remarks>
/// Conditions, per network with its own classes: velocity → class (zero the input rows U[i, :] of the class's units); all inputs
/// (U = 0); class A → class B (zero W[b, a] for a ∈ A, b ∈ B); class → readout (zero the readout columns C[:, i]). Each is set
/// against zeroing as many connections drawn uniformly at random from the same matrix (all inputs: from W, U and C together).
/// Error = mean over trials and steps of the Euclidean distance between the output and the true position, on fresh trials of the
/// training length shared by every network and condition. The authors prune 10 … 740 units in steps instead; this prunes each
/// class whole, so compare a class with its random control, not classes of different sizes with each other.
/// </remarks>
public static class Pruning
{
    private static readonly UnitClass[] Classes = [UnitClass.Band, UnitClass.Grid, UnitClass.Neither];

    /// <summary>Class names as written in outputs.</summary>
    public static string NameOf(UnitClass c) => c.ToString().ToLowerInvariant();

    /// <summary>Runs every condition.</summary>
    /// <param name="backend">The backend that runs the pruned networks.</param>
    /// <param name="state">The trained run.</param>
    /// <param name="task">Its path-integration task.</param>
    /// <param name="units">Every unit's scores and class.</param>
    /// <param name="options">The analysis settings.</param>
    /// <param name="problems">Per network, why it is left out (diverged, non-finite), or null: its errors are NaN, so the means skip it.</param>
    public static IReadOnlyList<PruneCondition> Run(IEnsembleBackend backend, TrainingState state, ITrialTask task, IReadOnlyList<UnitScores> units, PathIntegrationOptions options,
        IReadOnlyList<string?>? problems = null)
    {
        var ens = state.Ensemble;
        var spec = ens.Spec;
        var layout = spec.Layout;
        int ne = spec.Networks, n = spec.Hidden, ni = spec.Inputs, no = spec.Outputs;
        int steps = state.Options.StepsFor(task);
        var pathTask = (PathIntegrationTask)task;
        long seed = options.Seed + 991;
        var batch = Evaluation.SharedTrials(ens, task, options.PruneTrials, steps, seed);
        int samples = batch.Trials * steps, dims = pathTask.Dimensions;
        // the same walks again (same stream), for their true positions: the place-cell variant's targets are a code
        var positions = new float[samples * dims];
        pathTask.GenerateWithPositions(Rng.For(seed, Rng.EvalStream), batch.Trials, steps, new float[batch.Inputs.Length], new float[batch.Targets.Length],
            new float[batch.Mask.Length], positions);
        using var runner = backend.CreateRunner(spec);
        double[] Errors(float[] parameters)
        {
            runner.SetParameters(parameters);
            var outputs = new float[ne * samples * no];
            runner.Forward(batch, outputs, []);
            var decoded = new float[ne * samples * dims];
            for (int e = 0; e < ne; e++)
            {
                pathTask.Decode(outputs.AsSpan(e * samples * no, samples * no), decoded.AsSpan(e * samples * dims, samples * dims));
            }

            return Enumerable.Range(0, ne).Select(e => problems?[e] is null ? MeanDistance(decoded, positions, e, samples, dims) : double.NaN).ToArray();
        }

        var members = new Dictionary<UnitClass, int[][]>();
        foreach (var c in Classes)
        {
            members[c] = Enumerable.Range(0, ne).Select(e => units.Where(u => u.Network == e && u.Class == c).Select(u => u.Unit).ToArray()).ToArray();
        }

        var list = new List<PruneCondition>();
        var none = Enumerable.Repeat(double.NaN, ne).ToArray();
        list.Add(new PruneCondition("intact", "", "", new int[ne], Errors(ens.Parameters), none));
        list.Add(new PruneCondition("untrained", "", "", new int[ne], Errors(state.InitialParameters), none));
        var rng = Rng.For(options.Seed, Rng.EvalStream, 9);

        // one condition: zero(e, p) zeroes the chosen connections of network e in its slice p and returns how many; pool(e) lists the
        // offsets (within a network's slice) that the random control draws from
        PruneCondition Condition(string kind, string from, string to, Func<int, Span<float>, int> zero, Func<int[]> pool)
        {
            var p = (float[])ens.Parameters.Clone();
            var r = (float[])ens.Parameters.Clone();
            var counts = new int[ne];
            var candidates = pool();
            for (int e = 0; e < ne; e++)
            {
                counts[e] = zero(e, layout.Network(p, e));
                var slice = layout.Network(r, e);
                foreach (int k in Draw(rng, candidates, counts[e]))
                {
                    slice[k] = 0;
                }
            }

            return new PruneCondition(kind, from, to, counts, Errors(p), Errors(r));
        }

        int[] Range(int start, int length) => Enumerable.Range(start, length).ToArray();
        int[] inputPool = Range(layout.WInOffset, n * ni), recPool = Range(layout.WRecOffset, n * n), outPool = Range(layout.WOutOffset, no * n);
        foreach (var c in Classes)
        {
            list.Add(Condition("input", "velocity", NameOf(c), (e, s) =>
            {
                foreach (int i in members[c][e])
                {
                    s.Slice(layout.WInOffset + i * ni, ni).Clear();
                }

                return members[c][e].Length * ni;
            }, () => inputPool));
        }

        list.Add(Condition("all-inputs", "velocity", "all", (e, s) =>
        {
            s.Slice(layout.WInOffset, n * ni).Clear();
            return n * ni;
        }, () => [.. recPool, .. inputPool, .. outPool]));
        foreach (var a in Classes)
        {
            foreach (var b in Classes)
            {
                list.Add(Condition("recurrent", NameOf(a), NameOf(b), (e, s) =>
                {
                    foreach (int i in members[b][e])
                    {
                        foreach (int j in members[a][e])
                        {
                            s[layout.WRecOffset + i * n + j] = 0;
                        }
                    }

                    return members[a][e].Length * members[b][e].Length;
                }, () => recPool));
            }
        }

        foreach (var c in Classes)
        {
            list.Add(Condition("readout", NameOf(c), "readout", (e, s) =>
            {
                foreach (int i in members[c][e])
                {
                    for (int o = 0; o < no; o++)
                    {
                        s[layout.WOutOffset + o * n + i] = 0;
                    }
                }

                return members[c][e].Length * no;
            }, () => outPool));
        }

        return list;
    }

    /// <summary>Mean over samples of the Euclidean distance between outputs and targets of network e ([E][S][O] outputs, [S][O] shared targets).</summary>
    public static double MeanDistance(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, int e, int samples, int outputsPerSample)
    {
        double sum = 0;
        var y = outputs.Slice(e * samples * outputsPerSample, samples * outputsPerSample);
        for (int s = 0; s < samples; s++)
        {
            double d2 = 0;
            for (int o = 0; o < outputsPerSample; o++)
            {
                double d = y[s * outputsPerSample + o] - targets[s * outputsPerSample + o];
                d2 += d * d;
            }

            sum += Math.Sqrt(d2);
        }

        return sum / samples;
    }

    private static IEnumerable<int> Draw(Rng rng, int[] pool, int count)
    {
        var copy = (int[])pool.Clone();
        count = Math.Min(count, copy.Length);
        for (int k = 0; k < count; k++)
        {
            int j = k + rng.NextInt(copy.Length - k);
            (copy[k], copy[j]) = (copy[j], copy[k]);
            yield return copy[k];
        }
    }

    /// <summary>Sentences on the hierarchy: where velocity enters, where position leaves, the strongest recurrent pathway.</summary>
    public static IReadOnlyList<string> Summarize(IReadOnlyList<PruneCondition> conditions, double side)
    {
        string P(double err) => (100 * err / side).ToString("F2", CultureInfo.InvariantCulture) + "%";
        var intact = conditions.First(c => c.Kind == "intact");
        var untrained = conditions.First(c => c.Kind == "untrained");
        var lines = new List<string>
        {
            $"intact error {P(intact.MeanError)} of the arena side; untrained {P(untrained.MeanError)}.",
        };
        // a class "stands out" when pruning it costs more than as many random connections of the same kind by at least 5% of the
        // gap between the intact and the untrained error; otherwise the sentence says that no class does
        double margin = 0.05 * Math.Max(untrained.MeanError - intact.MeanError, 1e-12);
        void Pathway(string kind, string what, Func<PruneCondition, string> name, string verb)
        {
            var cands = conditions.Where(c => c.Kind == kind && c.Connections.Sum() > 0 && double.IsFinite(c.MeanError) && double.IsFinite(c.MeanRandomError)).ToList();
            var best = cands.MaxBy(c => c.MeanError - c.MeanRandomError);
            if (best is null)
            {
                lines.Add($"{what}: no class has units.");
            }
            else if (best.MeanError - best.MeanRandomError < margin)
            {
                lines.Add($"{what}: no class stands out from its random control (" + string.Join("; ", cands.Select(c => $"{name(c)} {P(c.MeanError)} vs {P(c.MeanRandomError)}")) + ").");
            }
            else
            {
                lines.Add($"{what} {verb} {name(best)}: {P(best.MeanError)} vs {P(best.MeanRandomError)} for as many random connections of the same kind.");
            }
        }

        Pathway("input", "velocity input", c => $"{c.To} cells", "enters through");
        Pathway("readout", "readout", c => $"{c.From} cells", "reads position from");
        Pathway("recurrent", "recurrent pathways", c => $"{c.From}→{c.To}", "depend most on");
        if (conditions.FirstOrDefault(c => c.Kind == "all-inputs") is { } all)
        {
            lines.Add($"all velocity inputs pruned: {P(all.MeanError)} (as many random connections of W, U, C: {P(all.MeanRandomError)}).");
        }

        return lines;
    }
}
