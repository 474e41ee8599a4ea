using System.Diagnostics;
using System.Numerics;
using Engine.Backends;
using Engine.Numerics;
using Engine.Util;

namespace Engine.FixedPoints;

/// <summary>Which eigenvectors a fixed point's linearisation keeps (stability and the saddle index need only eigenvalues).</summary>
public enum EigenvectorMode
{
    /// <summary>Those of the eigenvalues with |λ| &gt; 1 (the first <see cref="FixedPoint.SaddleIndex"/> columns): the directions a saddle's trajectories leave along. Points without any cost only their eigenvalues.</summary>
    Unstable,

    /// <summary>All N.</summary>
    All,

    /// <summary>None: eigenvalues only.</summary>
    None,
}

/// <summary>Settings of a whole fixed-point analysis (FixedPointFinder's defaults).</summary>
public sealed record FixedPointOptions
{
    /// <summary>The Adam search.</summary>
    public AdamSearchOptions Search { get; init; } = new();

    /// <summary>Run the float64 Newton/LM polish on the candidates (true).</summary>
    public bool Polish { get; init; } = true;

    /// <summary>Polish iterations per point (25).</summary>
    public int PolishIterations { get; init; } = 25;

    /// <summary>Merge points whose states differ by less than <see cref="DuplicateTolerance"/> in every coordinate (true).</summary>
    public bool Deduplicate { get; init; } = true;

    /// <summary>Duplicate tolerance (1e-3), max-abs over coordinates; the point with the lowest q is kept.</summary>
    public double DuplicateTolerance { get; init; } = 1e-3;

    /// <summary>Drop points farther from the seeds' centroid than <see cref="OutlierFactor"/> × the mean seed distance (true).</summary>
    public bool RemoveOutliers { get; init; } = true;

    /// <summary>Outlier factor (10).</summary>
    public double OutlierFactor { get; init; } = 10;

    /// <summary>Compute Jacobians and eigenvalues (true).</summary>
    public bool Linearize { get; init; } = true;

    /// <summary>Which right eigenvectors to compute (default <see cref="EigenvectorMode.Unstable"/>: the unstable directions only).</summary>
    public EigenvectorMode Eigenvectors { get; init; } = EigenvectorMode.Unstable;

    /// <summary>The seeding rounds after the first search that look for the unstable points (saddles); see <see cref="CompleteSearch"/>.</summary>
    public SeedRoundOptions Rounds { get; init; } = new();

    /// <summary>Throws a clear error naming the first invalid field.</summary>
    public FixedPointOptions Validate()
    {
        Search.Validate();
        Guard.AtLeast(PolishIterations, 0, nameof(PolishIterations));
        Guard.InRange(DuplicateTolerance, 0, double.MaxValue, nameof(DuplicateTolerance));
        Guard.InRange(OutlierFactor, 0, double.MaxValue, nameof(OutlierFactor));
        ArgumentNullException.ThrowIfNull(Rounds, nameof(Rounds));
        Rounds.Validate();
        return this;
    }
}

/// <summary>One fixed point (or slow point) of one network, with its linearisation.</summary>
/// <remarks>
/// State h* [N]; q = ½‖F(h*) − h*‖² in float64; Jacobian ∂F/∂h [N×N] and ∂F/∂u [N×I] row-major; eigenvalues of ∂F/∂h
/// sorted by decreasing modulus; stable iff max|λ| &lt; 1; saddle index = #{|λ| &gt; 1}.
/// </remarks>
public sealed class FixedPoint
{
    /// <summary>h* [N].</summary>
    public required double[] State { get; init; }

    /// <summary>q at h*.</summary>
    public double Q { get; set; }

    /// <summary>Converged (q below the search tolerance) or MaxIterations (a slow point).</summary>
    public FixedPointStatus Status { get; set; }

    /// <summary>Index (within its network and its <see cref="Round"/>) of the seed it came from.</summary>
    public int Seed { get; init; }

    /// <summary>The seeding round that found it (0: the first search from the trajectory seeds; see <see cref="CompleteSearch"/>).</summary>
    public int Round { get; set; }

    /// <summary>Adam updates the seed took.</summary>
    public int SearchIterations { get; init; }

    /// <summary>Polish iterations taken.</summary>
    public int PolishIterations { get; set; }

    /// <summary>∂F/∂h [N×N], or empty when not linearised.</summary>
    public double[] Jacobian { get; set; } = [];

    /// <summary>∂F/∂u [N×I], or empty.</summary>
    public double[] InputJacobian { get; set; } = [];

    /// <summary>Eigenvalues of ∂F/∂h by decreasing |λ|, or empty.</summary>
    public Complex[] Eigenvalues { get; set; } = [];

    /// <summary>Right eigenvectors of ∂F/∂h, N × <see cref="EigenvectorCount"/> row-major: column j (unit 2-norm) belongs to <see cref="Eigenvalues"/>[j] (the first K eigenvalues: all N, or the unstable ones, which come first); or empty.</summary>
    public Complex[] Eigenvectors { get; set; } = [];

    /// <summary>K, the eigenvector columns held (0 when none).</summary>
    public int EigenvectorCount => State.Length == 0 ? 0 : Eigenvectors.Length / State.Length;

    /// <summary>max|λ|.</summary>
    public double SpectralRadius => Eigenvalues.Length == 0 ? double.NaN : Eigenvalues[0].Magnitude;

    /// <summary>Stable iff max|λ| &lt; 1 (a discrete map); false when not linearised (the radius is NaN).</summary>
    public bool Stable => SpectralRadius < 1;

    /// <summary>Number of eigenvalues with |λ| &gt; 1.</summary>
    public int SaddleIndex => Eigenvalues.Count(l => l.Magnitude > 1);
}

/// <summary>The fixed points of one network and what the filters removed.</summary>
public sealed class NetworkFixedPoints
{
    /// <summary>Network index.</summary>
    public int Network { get; init; }

    /// <summary>Unique, non-outlier points, by increasing q (none when <see cref="Diverged"/>).</summary>
    public required IReadOnlyList<FixedPoint> Points { get; set; }

    /// <summary>Seeds with NaN/Inf (excluded).</summary>
    public int NonFinite { get; init; }

    /// <summary>Candidates merged into another point.</summary>
    public int Duplicates { get; init; }

    /// <summary>Points dropped as outliers.</summary>
    public int Outliers { get; init; }

    /// <summary>What each seeding round found (one entry per round run for this network; empty when none ran).</summary>
    public IReadOnlyList<SearchRound> Rounds { get; init; } = [];

    /// <summary>
    /// The census: element k counts the converged, linearised points with saddle index k (k unstable directions, #|λ| &gt; 1),
    /// up to the largest index present; empty when there is none.
    /// </summary>
    public int[] Census => CompleteSearch.Census(Points);

    /// <summary>Why the network counts as diverged (non-finite parameters, or every seed state non-finite), or null; a diverged network has no points.</summary>
    public string? Diverged { get; private set; }

    /// <summary>Marks the network diverged for <paramref name="reason"/> and drops its points (they belong to a network that blew up).</summary>
    public void MarkDiverged(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        Diverged = reason;
        Points = [];
    }
}

/// <summary>Everything a fixed-point analysis produced, with timings.</summary>
public sealed class FixedPointAnalysisResult
{
    /// <summary>The Adam search, per seed.</summary>
    public required AdamSearchResult Search { get; init; }

    /// <summary>Per network.</summary>
    public required NetworkFixedPoints[] Networks { get; init; }

    /// <summary>Wall time of the Adam search.</summary>
    public TimeSpan SearchTime { get; init; }

    /// <summary>Wall time of de-duplication, polish and outlier removal.</summary>
    public TimeSpan PolishTime { get; init; }

    /// <summary>Wall time of Jacobians and eigen-decompositions.</summary>
    public TimeSpan LinearizeTime { get; init; }

    /// <summary>Seeding rounds run (1 without <see cref="FixedPointOptions.Rounds"/>: the first search only).</summary>
    public int RoundsRun { get; init; } = 1;
}

/// <summary>The pipeline: Adam search → de-duplicate → polish → de-duplicate → outliers → Jacobians and eigenvalues.</summary>
public static class FixedPointAnalysis
{
    /// <summary>Runs the whole analysis on every network of the problem, the search on <paramref name="backend"/>'s device and the float64 steps on its host threads.</summary>
    public static FixedPointAnalysisResult Run(IEnsembleBackend backend, FixedPointProblem problem, FixedPointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        using var search = backend.CreateFixedPointSearch();
        return Run(problem, search, options, backend.Threads);
    }

    /// <summary>Runs the whole analysis on every network of the problem with a given search.</summary>
    /// <remarks>
    /// De-duplication runs before the polish too (fewer O(N³) polishes), and again after it. Polish, Jacobians and the
    /// float64 eigen-decompositions (<see cref="Eigen"/>, non-symmetric) run in parallel over all points of all networks, on up to
    /// <paramref name="threads"/> threads (0: all cores). Seeding rounds follow this first search, up to
    /// <see cref="SeedRoundOptions.MaxRounds"/> (<see cref="CompleteSearch"/>).
    /// </remarks>
    public static FixedPointAnalysisResult Run(FixedPointProblem problem, IFixedPointSearch search, FixedPointOptions? options = null, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(search);
        options = (options ?? new FixedPointOptions()).Validate();
        return CompleteSearch.Run(problem, search, options, threads);
    }

    /// <summary>
    /// One round of the pipeline. Candidates within the duplicate tolerance of a point in <paramref name="known"/>[e] (before
    /// and after the polish) are dropped as duplicates, so the result holds only new points; outliers are judged against
    /// <paramref name="outlierSeeds"/> [E][S₀][N] (the first round's trajectory seeds).
    /// </summary>
    internal static FixedPointAnalysisResult RunRound(FixedPointProblem problem, IFixedPointSearch search, FixedPointOptions options, int threads,
        IReadOnlyList<FixedPoint>[]? known, float[] outlierSeeds)
    {
        var spec = problem.Spec;
        int e = spec.Networks, s = problem.SeedsPerNetwork, n = spec.Hidden;
        long start = Stopwatch.GetTimestamp();
        var adam = search.Search(problem, options.Search);
        long searched = Stopwatch.GetTimestamp();

        var nets = Enumerable.Range(0, e).Select(k => new FrozenNetwork(spec, problem.Parameters, k, problem.Inputs.AsSpan(k * spec.Inputs, spec.Inputs))).ToArray();
        var candidates = new List<FixedPoint>[e];
        var nonFinite = new int[e];
        var duplicates = new int[e];
        var outliers = new int[e];
        var diverged = new string?[e];
        for (int net = 0; net < e; net++)
        {
            candidates[net] = [];
            if (!Analysis.NetworkHealth.AllFinite(spec.Layout.Network(problem.Parameters, net)))
            {
                diverged[net] = "non-finite parameters";
                nonFinite[net] = s;
                continue;
            }

            for (int k = 0; k < s; k++)
            {
                int row = net * s + k;
                if (adam.Status[row] == FixedPointStatus.NonFinite)
                {
                    nonFinite[net]++;
                    continue;
                }

                var h = new double[n];
                for (int i = 0; i < n; i++)
                {
                    h[i] = adam.States[(long)row * n + i];
                }

                candidates[net].Add(new FixedPoint { State = h, Q = nets[net].Residual(h, new double[n]), Seed = k, SearchIterations = adam.Iterations[row] });
            }

            if (nonFinite[net] == s)
            {
                diverged[net] = "non-finite states";
            }

            if (options.Deduplicate)
            {
                candidates[net] = Deduplicate(candidates[net], options.DuplicateTolerance, ref duplicates[net]);
            }

            if (known is not null)
            {
                candidates[net] = DropKnown(candidates[net], known[net], options.DuplicateTolerance, ref duplicates[net]);
            }
        }

        var all = candidates.SelectMany((list, net) => list.Select(p => (Net: net, Point: p))).ToArray();
        if (options.Polish)
        {
            Parallelism.For(all.Length, threads, k =>
            {
                var item = all[k];
                var (q, iterations) = FixedPoints.Polish.Run(nets[item.Net], item.Point.State, options.PolishIterations);
                item.Point.Q = q;
                item.Point.PolishIterations = iterations;
            });
        }

        var results = new NetworkFixedPoints[e];
        for (int net = 0; net < e; net++)
        {
            var list = candidates[net];
            foreach (var p in list)
            {
                // q is the residual of this state, so a non-finite state has a non-finite q
                p.Status = !double.IsFinite(p.Q) ? FixedPointStatus.NonFinite
                    : p.Q < options.Search.Tolerance ? FixedPointStatus.Converged : FixedPointStatus.MaxIterations;
            }

            if (options.Deduplicate)
            {
                list = Deduplicate(list, options.DuplicateTolerance, ref duplicates[net]);
            }

            if (known is not null)
            {
                list = DropKnown(list, known[net], options.DuplicateTolerance, ref duplicates[net]);
            }

            if (options.RemoveOutliers)
            {
                int s0 = outlierSeeds.Length / (e * n);
                list = RemoveOutliers(list, outlierSeeds.AsSpan(net * s0 * n, s0 * n), n, options.OutlierFactor, ref outliers[net]);
            }

            results[net] = new NetworkFixedPoints
            {
                Network = net, Points = list.OrderBy(p => p.Q).ToList(), NonFinite = nonFinite[net],
                Duplicates = duplicates[net], Outliers = outliers[net],
            };
            if (diverged[net] is { } reason)
            {
                results[net].MarkDiverged(reason);
            }
        }

        long polished = Stopwatch.GetTimestamp();
        if (options.Linearize)
        {
            var kept = results.SelectMany(r => r.Points.Select(p => (r.Network, Point: p))).ToArray();
            Parallelism.For(kept.Length, threads, k => TryLinearize(nets[kept[k].Network], kept[k].Point, options.Eigenvectors));
        }

        return new FixedPointAnalysisResult
        {
            Search = adam, Networks = results, SearchTime = Stopwatch.GetElapsedTime(start, searched),
            PolishTime = Stopwatch.GetElapsedTime(searched, polished), LinearizeTime = Stopwatch.GetElapsedTime(polished),
        };
    }

    /// <summary>
    /// Marks as diverged every network whose recorded states [E][B·T][N] hold a NaN/±Inf, or that has a reason in
    /// <paramref name="reasons"/> (e.g. "diverged in training"); their points are dropped.
    /// </summary>
    public static void MarkDiverged(FixedPointAnalysisResult result, ReadOnlySpan<float> states, IReadOnlyList<string?>? reasons = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        int e = result.Networks.Length;
        int per = e == 0 ? 0 : states.Length / e;
        for (int net = 0; net < e; net++)
        {
            if (result.Networks[net].Diverged is not null)
            {
                continue;
            }

            string? reason = reasons is not null && net < reasons.Count ? reasons[net] : null;
            reason ??= !Analysis.NetworkHealth.AllFinite(states.Slice(net * per, per)) ? "non-finite states" : null;
            if (reason is not null)
            {
                result.Networks[net].MarkDiverged(reason);
            }
        }
    }

    /// <summary>
    /// <see cref="Linearize"/>, but a failure (a non-finite state, Jacobian or eigenvalue, or an eigensolver that does not
    /// converge) marks the point <see cref="FixedPointStatus.LinearizationFailed"/> and clears its linearisation instead of throwing.
    /// </summary>
    /// <returns>True when the point was linearised.</returns>
    /// <param name="net">The network.</param>
    /// <param name="point">The point, linearised in place.</param>
    /// <param name="eigenvectors">Which eigenvectors to keep (default all).</param>
    public static bool TryLinearize(FrozenNetwork net, FixedPoint point, EigenvectorMode eigenvectors = EigenvectorMode.All)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(point);
        if (point.Status == FixedPointStatus.NonFinite)
        {
            return false;
        }

        try
        {
            Linearize(net, point, eigenvectors);
            if (point.Jacobian.All(double.IsFinite) && point.InputJacobian.All(double.IsFinite)
                && point.Eigenvalues.All(l => double.IsFinite(l.Real) && double.IsFinite(l.Imaginary))
                && point.Eigenvectors.All(v => double.IsFinite(v.Real) && double.IsFinite(v.Imaginary)))
            {
                return true;
            }
        }
        catch (Exception e) when (e is MathNet.Numerics.NonConvergenceException or ArithmeticException or ArgumentException or IndexOutOfRangeException)
        {
            // Falls through: the point keeps its state and q, without a linearisation.
        }

        point.Jacobian = [];
        point.InputJacobian = [];
        point.Eigenvalues = [];
        point.Eigenvectors = [];
        point.Status = FixedPointStatus.LinearizationFailed;
        return false;
    }

    /// <summary>Fills a point's Jacobians, sorted eigenvalues and the eigenvectors <paramref name="eigenvectors"/> asks for.</summary>
    /// <remarks>Eigenvalues first (<see cref="Eigen.Values(ReadOnlySpan{double}, int, Span{Complex})"/>); the vectors, when any are wanted, from
    /// <see cref="EigenDecomposition"/>, whose values are bitwise the same.</remarks>
    /// <param name="net">The network.</param>
    /// <param name="point">The point, linearised in place.</param>
    /// <param name="eigenvectors">Which eigenvectors to keep (default all).</param>
    /// <exception cref="EigenNonConvergenceException">The eigensolver did not converge (see <see cref="TryLinearize"/>).</exception>
    public static void Linearize(FrozenNetwork net, FixedPoint point, EigenvectorMode eigenvectors = EigenvectorMode.All)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(point);
        int n = net.Hidden;
        var j = new double[n * n];
        net.Jacobian(point.State, j);
        var ju = new double[n * net.Inputs];
        net.InputJacobian(point.State, ju);
        point.Jacobian = j;
        point.InputJacobian = ju;
        if (eigenvectors == EigenvectorMode.All)
        {
            (point.Eigenvalues, point.Eigenvectors) = EigenDecomposition(j, n);
            return;
        }

        if (!j.All(double.IsFinite))
        {
            throw new ArgumentException($"The Jacobian [{n}×{n}] has non-finite entries; no eigenvalues.", nameof(point));
        }

        point.Eigenvalues = Eigenvalues(j, n);
        point.Eigenvectors = [];
        int unstable = point.SaddleIndex;
        if (eigenvectors == EigenvectorMode.Unstable && unstable > 0)
        {
            var (values, all) = EigenDecomposition(j, n);
            point.Eigenvalues = values;
            var kept = new Complex[n * unstable];
            for (int i = 0; i < n; i++)
            {
                all.AsSpan(i * n, unstable).CopyTo(kept.AsSpan(i * unstable, unstable));
            }

            point.Eigenvectors = kept;
        }
    }

    /// <summary>Eigenvalues (sorted as <see cref="FixedPointAnalysis.Eigenvalues(double[], int)"/>) and unit right eigenvectors of a real N×N row-major matrix, in float64.</summary>
    /// <remarks>
    /// <see cref="Eigen.Decompose(ReadOnlySpan{double}, int, Span{Complex}, Span{Complex})"/> (Hessenberg reduction, Francis
    /// QR, back-substitution on the Schur form), then the columns permuted with the values. Vectors [N×N] row-major, column
    /// j (unit 2-norm) for eigenvalue j; a complex pair's vectors are conjugate. The zero matrix (a ReLU network's
    /// quiescent point: every unit off) gets the unit vectors.
    /// </remarks>
    /// <exception cref="EigenNonConvergenceException">The QR iteration did not converge (see <see cref="TryLinearize"/>).</exception>
    public static (Complex[] Values, Complex[] Vectors) EigenDecomposition(double[] matrix, int n)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        Guard.Length(matrix.Length, (long)n * n, nameof(matrix), $"[{n}×{n}]");
        if (!matrix.All(double.IsFinite))
        {
            throw new ArgumentException($"matrix [{n}×{n}] has non-finite entries; no eigen-decomposition.", nameof(matrix));
        }

        var values = new Complex[n];
        var vectors = new Complex[n * n];
        Eigen.Decompose(matrix, n, values, vectors);
        Eigen.SortByDecreasingModulus(values, vectors);
        return (values, vectors);
    }

    /// <summary>Eigenvalues of a real N×N row-major matrix in float64, sorted by decreasing modulus (ties: by real, then imaginary part).</summary>
    /// <remarks><see cref="Eigen.Values(ReadOnlySpan{double}, int, Span{Complex})"/>: bitwise the values <see cref="EigenDecomposition"/> returns, without forming eigenvectors.</remarks>
    public static Complex[] Eigenvalues(double[] matrix, int n)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        Guard.Length(matrix.Length, (long)n * n, nameof(matrix), $"[{n}×{n}]");
        var values = new Complex[n];
        Eigen.Values(matrix, n, values);
        Eigen.SortByDecreasingModulus(values, Span<Complex>.Empty);
        return values;
    }

    /// <summary>Greedy de-duplication: by increasing q, keep a point unless a kept one is within <paramref name="tolerance"/> in every coordinate.</summary>
    public static List<FixedPoint> Deduplicate(IReadOnlyList<FixedPoint> points, double tolerance, ref int removed)
    {
        ArgumentNullException.ThrowIfNull(points);
        var kept = new List<FixedPoint>();
        foreach (var p in points.OrderBy(p => double.IsNaN(p.Q) ? double.PositiveInfinity : p.Q))
        {
            bool duplicate = false;
            foreach (var k in kept)
            {
                if (MaxAbsDifference(p.State, k.State) < tolerance)
                {
                    duplicate = true;
                    break;
                }
            }

            if (duplicate)
            {
                removed++;
            }
            else
            {
                kept.Add(p);
            }
        }

        return kept;
    }

    /// <summary>The points not within <paramref name="tolerance"/> (max-abs) of any of <paramref name="known"/>; the others count as removed.</summary>
    internal static List<FixedPoint> DropKnown(List<FixedPoint> points, IReadOnlyList<FixedPoint> known, double tolerance, ref int removed)
    {
        var kept = new List<FixedPoint>(points.Count);
        foreach (var p in points)
        {
            if (known.Any(k => MaxAbsDifference(p.State, k.State) < tolerance))
            {
                removed++;
            }
            else
            {
                kept.Add(p);
            }
        }

        return kept;
    }

    /// <summary>Drops points farther from the seeds' centroid than factor × the mean distance of the (finite) seeds [S][N] from it.</summary>
    public static List<FixedPoint> RemoveOutliers(IReadOnlyList<FixedPoint> points, ReadOnlySpan<float> seeds, int n, double factor, ref int removed)
    {
        ArgumentNullException.ThrowIfNull(points);
        var centroid = new double[n];
        int count = 0;
        for (int k = 0; k < seeds.Length / n; k++)
        {
            var seed = seeds.Slice(k * n, n);
            bool finite = true;
            foreach (float x in seed)
            {
                finite &= float.IsFinite(x);
            }

            if (!finite)
            {
                continue;
            }

            count++;
            for (int i = 0; i < n; i++)
            {
                centroid[i] += seed[i];
            }
        }

        if (count == 0)
        {
            return [.. points];
        }

        for (int i = 0; i < n; i++)
        {
            centroid[i] /= count;
        }

        double mean = 0;
        for (int k = 0; k < seeds.Length / n; k++)
        {
            double d = 0;
            bool finite = true;
            for (int i = 0; i < n; i++)
            {
                double x = seeds[k * n + i];
                finite &= double.IsFinite(x);
                d += (x - centroid[i]) * (x - centroid[i]);
            }

            mean += finite ? Math.Sqrt(d) : 0;
        }

        mean /= count;
        if (!(mean > 0))
        {
            return [.. points];
        }

        var kept = new List<FixedPoint>();
        foreach (var p in points)
        {
            double d = 0;
            for (int i = 0; i < n; i++)
            {
                d += (p.State[i] - centroid[i]) * (p.State[i] - centroid[i]);
            }

            if (Math.Sqrt(d) > factor * mean)
            {
                removed++;
            }
            else
            {
                kept.Add(p);
            }
        }

        return kept;
    }

    internal static double MaxAbsDifference(double[] a, double[] b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            m = Math.Max(m, Math.Abs(a[i] - b[i]));
        }

        return m;
    }
}
