using Engine.Backends;
using Engine.Util;

namespace Engine.FixedPoints;

/// <summary>Settings of the seeding rounds that follow the first search (<see cref="CompleteSearch"/>).</summary>
public sealed record SeedRoundOptions
{
    /// <summary>Rounds after the first search, at most (3); a network stops after a round that finds no new converged point. 0: the first search only.</summary>
    public int MaxRounds { get; init; } = 3;

    /// <summary>Seeds per network in each later round (128; 0: the first search's S).</summary>
    public int SeedsPerRound { get; init; } = 128;

    /// <summary>Interpolation parameters t: a seed (1 − t) a + t b for a pair of points a, b found so far (0.5, 1/3, 2/3); the first is tried between stable points before anything else.</summary>
    public IReadOnlyList<double> Interpolations { get; init; } = [0.5, 1.0 / 3, 2.0 / 3];

    /// <summary>Also seed at 2 s − a for a stable point a and an unstable point s (true): through a saddle, the attractor beyond it.</summary>
    public bool Reflections { get; init; } = true;

    /// <summary>Largest share of a round's seeds spent on interpolations (0.5); the rest are noisy trajectory states and hull draws.</summary>
    public double InterpolationShare { get; init; } = 0.5;

    /// <summary>Noise scales, as multiples of the trajectory seeds' RMS spread per coordinate (0.1, 0.3, 1).</summary>
    public IReadOnlyList<double> NoiseScales { get; init; } = [0.1, 0.3, 1.0];

    /// <summary>
    /// Adam's initial learning rate in the later rounds (0.05; 0: the first search's). Their seeds are placed near the points
    /// sought, and the first search's rate (1.0) carries a seed far from where it started.
    /// </summary>
    public double LearningRate { get; init; } = 0.05;

    /// <summary>Adam iterations in the later rounds, at most (1000; 0: the first search's); the polish finishes what they leave close.</summary>
    public int MaxIterations { get; init; } = 1000;

    /// <summary>Seed of the later rounds' random draws (0).</summary>
    public long Seed { get; init; }

    /// <summary>Throws a clear error naming the first invalid field.</summary>
    public SeedRoundOptions Validate()
    {
        Guard.AtLeast(MaxRounds, 0, nameof(MaxRounds));
        Guard.AtLeast(SeedsPerRound, 0, nameof(SeedsPerRound));
        ArgumentNullException.ThrowIfNull(Interpolations, nameof(Interpolations));
        ArgumentNullException.ThrowIfNull(NoiseScales, nameof(NoiseScales));
        foreach (double t in Interpolations)
        {
            Guard.InRange(t, -1, 2, nameof(Interpolations));
        }

        foreach (double scale in NoiseScales)
        {
            Guard.InRange(scale, 0, 1e6, nameof(NoiseScales));
        }

        Guard.InRange(InterpolationShare, 0, 1, nameof(InterpolationShare));
        Guard.InRange(LearningRate, 0, 1e6, nameof(LearningRate));
        Guard.AtLeast(MaxIterations, 0, nameof(MaxIterations));
        return this;
    }
}

/// <summary>What one seeding round found in one network.</summary>
/// <param name="Round">0 for the first search from the trajectory seeds.</param>
/// <param name="Seeds">Seeds searched.</param>
/// <param name="Found">Converged points the round ended with that no earlier round had (after de-duplication, polish and the outlier filter).</param>
/// <param name="Total">Converged points known after the round.</param>
public sealed record SearchRound(int Round, int Seeds, int Found, int Total);

/// <summary>The fixed-point search in rounds, so that saddles are found as well as attractors.</summary>
/// <remarks>
/// Round 0 is the ordinary pipeline from the trajectory seeds; it finds mostly the stable points (a saddle's basin under
/// the descent of q is small, and Adam at learning rate 1 carries a seed far from where it started). Each later round
/// gives every network that is still finding points <see cref="SeedRoundOptions.SeedsPerRound"/> new seeds: (a) up to
/// <see cref="SeedRoundOptions.InterpolationShare"/> of them from pairs of the converged points found so far, in this
/// order, each (pair, t) once: the midpoint (the first t) of two stable points (a saddle sits between two attractors);
/// 2 s − a for a stable point a and an unstable point s (through a saddle, the attractor beyond it); then every other
/// (1 − t) a + t b, stable–stable before stable–unstable before unstable–unstable, t by t; nearest pairs first within each
/// group. The rest alternate between (b) a trajectory seed plus 𝒩(0, (σ r)²) for each scale σ of
/// <see cref="SeedRoundOptions.NoiseScales"/>, r the seeds' RMS spread per coordinate, and (c) a random convex combination
/// of two to four trajectory seeds (the trajectories' hull). A later round runs the same batched
/// <see cref="IFixedPointSearch"/> at <see cref="SeedRoundOptions.LearningRate"/> for at most
/// <see cref="SeedRoundOptions.MaxIterations"/> (so a seed stays near where it was put), then the same polish (Newton/LM,
/// which converges to a saddle as readily as to an attractor) and linearisation; candidates that match a point already found
/// are dropped before the polish, so each point is polished and linearised once, and a later round keeps only converged
/// points. A network stops after a round without a new converged point, or after <see cref="SeedRoundOptions.MaxRounds"/>.
/// The draws come from (seed, round, network), and the search, the polish and the linearisation of a point do not depend
/// on the thread count or the other networks, so the points do not either.
/// </remarks>
public static class CompleteSearch
{
    /// <summary>Purpose tag of the later rounds' random draws.</summary>
    public const ulong RoundStream = 0x5ADD1E;

    /// <summary>Counts converged, linearised points by saddle index: element k is the number with k unstable directions.</summary>
    public static int[] Census(IEnumerable<FixedPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var indices = points.Where(p => p.Status == FixedPointStatus.Converged && p.Eigenvalues.Length > 0).Select(p => p.SaddleIndex).ToList();
        var census = new int[indices.Count == 0 ? 0 : indices.Max() + 1];
        foreach (int k in indices)
        {
            census[k]++;
        }

        return census;
    }

    /// <summary>The census as text, e.g. "8/12/6/1" (stable/index 1/index 2/index 3); "0" when empty.</summary>
    public static string CensusText(IReadOnlyList<int> census)
    {
        ArgumentNullException.ThrowIfNull(census);
        return census.Count == 0 ? "0" : string.Join('/', census);
    }

    /// <summary>Runs round 0 and the later rounds (none when <see cref="SeedRoundOptions.MaxRounds"/> is 0); see the class remarks. <paramref name="options"/> must be validated.</summary>
    internal static FixedPointAnalysisResult Run(FixedPointProblem problem, IFixedPointSearch search, FixedPointOptions options, int threads)
    {
        var spec = problem.Spec;
        int e = spec.Networks, s0 = problem.SeedsPerNetwork, n = spec.Hidden;
        var rounds = options.Rounds;
        int perRound = rounds.SeedsPerRound > 0 ? rounds.SeedsPerRound : s0;
        var first = FixedPointAnalysis.RunRound(problem, search, options, threads, null, problem.Seeds);
        var laterSearch = options.Search;
        if (rounds.LearningRate > 0)
        {
            laterSearch = laterSearch with { LearningRate = rounds.LearningRate, MinLearningRate = Math.Min(laterSearch.MinLearningRate, rounds.LearningRate) };
        }

        if (rounds.MaxIterations > 0)
        {
            laterSearch = laterSearch with { MaxIterations = Math.Min(laterSearch.MaxIterations, rounds.MaxIterations) };
        }

        var later = options with { Search = laterSearch };
        var points = first.Networks.Select(r => r.Points.ToList()).ToArray();
        var log = Enumerable.Range(0, e).Select(net => new List<SearchRound> { Report(0, s0, points[net], points[net]) }).ToArray();
        var nonFinite = first.Networks.Select(r => r.NonFinite).ToArray();
        var duplicates = first.Networks.Select(r => r.Duplicates).ToArray();
        var outliers = first.Networks.Select(r => r.Outliers).ToArray();
        var tried = Enumerable.Range(0, e).Select(_ => new HashSet<(int, int, int)>()).ToArray();
        var (searchTime, polishTime, linearizeTime) = (first.SearchTime, first.PolishTime, first.LinearizeTime);
        var active = Enumerable.Range(0, e).Where(net => first.Networks[net].Diverged is null).ToList();
        int roundsRun = 1;
        for (int round = 1; round <= rounds.MaxRounds && active.Count > 0; round++)
        {
            // the networks still finding points, as a smaller ensemble: each network's search depends only on its own seeds
            var sub = spec with { Networks = active.Count };
            int stride = spec.Layout.Stride;
            var parameters = new float[(long)active.Count * stride];
            var inputs = new float[active.Count * spec.Inputs];
            var seeds = new float[(long)active.Count * perRound * n];
            var outlierSeeds = new float[(long)active.Count * s0 * n];
            var known = new IReadOnlyList<FixedPoint>[active.Count];
            for (int i = 0; i < active.Count; i++)
            {
                int net = active[i];
                problem.Parameters.AsSpan((int)((long)net * stride), stride).CopyTo(parameters.AsSpan((int)((long)i * stride), stride));
                problem.Inputs.AsSpan(net * spec.Inputs, spec.Inputs).CopyTo(inputs.AsSpan(i * spec.Inputs, spec.Inputs));
                var own = problem.Seeds.AsSpan((int)((long)net * s0 * n), s0 * n);
                own.CopyTo(outlierSeeds.AsSpan((int)((long)i * s0 * n), s0 * n));
                known[i] = points[net].Where(p => p.Status == FixedPointStatus.Converged).ToList();
                var rng = Rng.For(rounds.Seed, RoundStream, ((long)round << 32) | (uint)net);
                Seeds(points[net], tried[net], own, n, rounds, rng, seeds.AsSpan((int)((long)i * perRound * n), perRound * n));
            }

            var result = FixedPointAnalysis.RunRound(new FixedPointProblem(sub, parameters, inputs, perRound, seeds), search, later, threads, known, outlierSeeds);
            (searchTime, polishTime, linearizeTime) = (searchTime + result.SearchTime, polishTime + result.PolishTime, linearizeTime + result.LinearizeTime);
            roundsRun++;
            var still = new List<int>();
            for (int i = 0; i < active.Count; i++)
            {
                int net = active[i];
                // a later round's unconverged candidates are seeds its short, slow search left behind, not slow points
                var found = result.Networks[i].Points.Where(p => p.Status == FixedPointStatus.Converged).ToList();
                foreach (var p in found)
                {
                    p.Round = round;
                }

                // a point found now replaces an unconverged candidate of an earlier round at the same place
                int merged = points[net].RemoveAll(p => p.Status != FixedPointStatus.Converged
                    && found.Any(f => FixedPointAnalysis.MaxAbsDifference(f.State, p.State) < options.DuplicateTolerance));
                duplicates[net] += merged;
                points[net].AddRange(found);
                nonFinite[net] += result.Networks[i].NonFinite;
                duplicates[net] += result.Networks[i].Duplicates;
                outliers[net] += result.Networks[i].Outliers;
                var report = Report(round, perRound, found, points[net]);
                log[net].Add(report);
                if (report.Found > 0)
                {
                    still.Add(net);
                }
            }

            active = still;
        }

        var networks = new NetworkFixedPoints[e];
        for (int net = 0; net < e; net++)
        {
            networks[net] = new NetworkFixedPoints
            {
                Network = net, Points = points[net].OrderBy(p => p.Q).ToList(), NonFinite = nonFinite[net], Duplicates = duplicates[net],
                Outliers = outliers[net], Rounds = log[net],
            };
            if (first.Networks[net].Diverged is { } reason)
            {
                networks[net].MarkDiverged(reason);
            }
        }

        return new FixedPointAnalysisResult
        {
            Search = first.Search, Networks = networks, SearchTime = searchTime, PolishTime = polishTime, LinearizeTime = linearizeTime,
            RoundsRun = roundsRun,
        };
    }

    private static SearchRound Report(int round, int seeds, IEnumerable<FixedPoint> found, IEnumerable<FixedPoint> all) =>
        new(round, seeds, found.Count(p => p.Status == FixedPointStatus.Converged), all.Count(p => p.Status == FixedPointStatus.Converged));

    /// <summary>Fills one network's seeds [S][N] for a later round: interpolations between found points, then noisy and hull draws from the trajectory seeds.</summary>
    private static void Seeds(List<FixedPoint> points, HashSet<(int, int, int)> tried, ReadOnlySpan<float> trajectory, int n, SeedRoundOptions options, Rng rng, Span<float> seeds)
    {
        int count = seeds.Length / n;
        int k = 0;

        // (a) pairs of converged points: the first t (the midpoint) between stable points; then each stable point reflected
        // through each unstable one; then the other (pair, t), stable–stable before stable–unstable before unstable–unstable,
        // t by t; nearest pairs first within each group
        var converged = Enumerable.Range(0, points.Count).Where(i => points[i].Status == FixedPointStatus.Converged).ToList();
        int budget = (int)(options.InterpolationShare * count);
        var pairs = new List<(int Group, int T, double Distance, int A, int B)>();
        for (int i = 0; i < converged.Count; i++)
        {
            for (int j = i + 1; j < converged.Count; j++)
            {
                var (a, b) = (converged[i], converged[j]);
                bool ua = Unstable(points[a]), ub = Unstable(points[b]);
                int kind = (ua ? 1 : 0) + (ub ? 1 : 0);
                double distance = Distance(points[a].State, points[b].State);
                for (int ti = 0; ti < options.Interpolations.Count; ti++)
                {
                    pairs.Add((kind == 0 && ti == 0 ? 0 : 2 + kind, ti, distance, a, b));
                }

                if (options.Reflections && kind == 1)
                {
                    // T = −1: the stable point A reflected through the unstable point B, 2 h_B − h_A
                    pairs.Add((1, -1, distance, ua ? b : a, ua ? a : b));
                }
            }
        }

        foreach (var (_, ti, _, a, b) in pairs.OrderBy(x => x.Group).ThenBy(x => x.T).ThenBy(x => x.Distance))
        {
            if (k >= budget)
            {
                break;
            }

            if (!tried.Add((a, b, ti)))
            {
                continue;
            }

            double t = ti < 0 ? 2 : options.Interpolations[ti];
            var (ha, hb) = (points[a].State, points[b].State);
            var dst = seeds.Slice(k++ * n, n);
            for (int i = 0; i < n; i++)
            {
                dst[i] = (float)((1 - t) * ha[i] + t * hb[i]);
            }
        }

        // (b) and (c) from the finite trajectory seeds
        var pool = new List<int>();
        for (int j = 0; j < trajectory.Length / n; j++)
        {
            if (Analysis.NetworkHealth.AllFinite(trajectory.Slice(j * n, n)))
            {
                pool.Add(j);
            }
        }

        if (pool.Count == 0)
        {
            // not reached for an active network (its first round had finite seeds); repeat the interpolations instead
            for (int j = k; j < count; j++)
            {
                seeds.Slice((j % Math.Max(k, 1)) * n, n).CopyTo(seeds.Slice(j * n, n));
            }

            return;
        }

        double spread = Spread(trajectory, pool, n);
        Span<double> w = stackalloc double[4];
        for (int draw = 0; k < count; draw++, k++)
        {
            var dst = seeds.Slice(k * n, n);
            int cycle = options.NoiseScales.Count + 1;
            int kind = draw % cycle;
            if (kind < options.NoiseScales.Count)
            {
                var src = trajectory.Slice(pool[rng.NextInt(pool.Count)] * n, n);
                double std = options.NoiseScales[kind] * spread;
                for (int i = 0; i < n; i++)
                {
                    dst[i] = (float)(src[i] + std * rng.NextGaussian());
                }
            }
            else
            {
                int m = 2 + rng.NextInt(3);
                double sum = 0;
                for (int j = 0; j < m; j++)
                {
                    w[j] = -Math.Log(1 - rng.NextDouble());
                    sum += w[j];
                }

                dst.Clear();
                for (int j = 0; j < m; j++)
                {
                    var src = trajectory.Slice(pool[rng.NextInt(pool.Count)] * n, n);
                    float weight = (float)(w[j] / sum);
                    for (int i = 0; i < n; i++)
                    {
                        dst[i] += weight * src[i];
                    }
                }
            }
        }
    }

    private static bool Unstable(FixedPoint p) => p.Eigenvalues.Length == 0 || !p.Stable;

    private static double Distance(double[] a, double[] b)
    {
        double d = 0;
        for (int i = 0; i < a.Length; i++)
        {
            d += (a[i] - b[i]) * (a[i] - b[i]);
        }

        return Math.Sqrt(d);
    }

    /// <summary>sqrt of the mean over coordinates of the seeds' variance.</summary>
    private static double Spread(ReadOnlySpan<float> seeds, List<int> pool, int n)
    {
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double mean = 0, sq = 0;
            foreach (int j in pool)
            {
                mean += seeds[j * n + i];
            }

            mean /= pool.Count;
            foreach (int j in pool)
            {
                double d = seeds[j * n + i] - mean;
                sq += d * d;
            }

            total += sq / pool.Count;
        }

        return Math.Sqrt(total / n);
    }
}
