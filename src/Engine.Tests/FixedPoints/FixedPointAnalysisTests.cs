using System.Numerics;
using Engine.Backends;
using Engine.FixedPoints;
using Engine.Model;
using NUnit.Framework;

namespace Engine.Tests.FixedPoints;

/// <summary>
/// The analysis around the search, with values worked out by hand: a scripted search hands <see cref="FixedPointAnalysis.Run(FixedPointProblem, IFixedPointSearch, FixedPointOptions, int)"/>
/// chosen end states on a linear two-unit network whose fixed point is known, and the counts (non-finite, duplicates,
/// outliers), statuses, residuals, order, polish, linearisation and the diverged-network rules are checked against them.
/// </summary>
public sealed class FixedPointAnalysisTests
{
    // F(h) = W h + U u + b with W = diag(0.5, −0.25), U = (1, 0)ᵀ, b = (0.1, 0.2), u = 0.4: h* = (1, 0.16), up to the float32 constants
    private static readonly double[] Star = [((double)0.4f + (double)0.1f) / 0.5, (double)0.2f / 1.25];

    // a scripted search replays one result, so only the first search runs (no seeding rounds)
    private static readonly SeedRoundOptions FirstOnly = new() { MaxRounds = 0 };

    private static readonly EnsembleSpec Spec = new() { Networks = 2, Hidden = 2, Inputs = 1, Outputs = 1, Activation = ActivationKind.Identity };

    private sealed class ScriptedSearch(AdamSearchResult result) : IFixedPointSearch
    {
        public string Name => "scripted";

        public AdamSearchOptions? Options { get; private set; }

        public AdamSearchResult Result => result;

        public AdamSearchResult Search(FixedPointProblem problem, AdamSearchOptions options)
        {
            Options = options;
            return result;
        }

        public void Dispose()
        {
        }
    }

    private static float[] LinearParameters()
    {
        var p = new float[Spec.Networks * Spec.Layout.Stride];
        for (int e = 0; e < Spec.Networks; e++)
        {
            var w = Spec.Layout.WRec(p, e);
            w[0] = 0.5f;
            w[3] = -0.25f;
            Spec.Layout.WIn(p, e)[0] = 1f;
            Spec.Layout.Bias(p, e)[0] = 0.1f;
            Spec.Layout.Bias(p, e)[1] = 0.2f;
        }

        return p;
    }

    // six seeds per network at the corners of [0, 2]² and twice at (1, 1): centroid (1, 1), mean distance 4√2/6
    private static float[] Seeds() => [.. Enumerable.Repeat<float[]>([0, 0, 2, 0, 0, 2, 2, 2, 1, 1, 1, 1], Spec.Networks).SelectMany(x => x)];

    /// <summary>
    /// Network 0 ends at: h* (0), h* + 1e-4 e₁ (1, a duplicate of 0), NaN (2, non-finite), (1000, 1000) (3, an
    /// outlier), h* + 0.01 e₁ (4) and h* + 0.002 e₂ (5); network 1 ends non-finite everywhere.
    /// </summary>
    private static (FixedPointProblem Problem, ScriptedSearch Search) Scripted()
    {
        var problem = new FixedPointProblem(Spec, LinearParameters(), [0.4f, 0.4f], 6, Seeds());
        var adam = new AdamSearchResult(2, 6, 2);
        double[][] ends = [Star, [Star[0] + 1e-4, Star[1]], [double.NaN, 0], [1000, 1000], [Star[0] + 0.01, Star[1]], [Star[0], Star[1] + 0.002]];
        for (int k = 0; k < 6; k++)
        {
            adam.States[2 * k] = (float)ends[k][0];
            adam.States[2 * k + 1] = (float)ends[k][1];
            adam.Status[k] = k == 2 ? FixedPointStatus.NonFinite : FixedPointStatus.MaxIterations;
            adam.Q[k] = 99; // the analysis recomputes q from the state
            adam.Iterations[k] = 100 + k;
            adam.States[12 + 2 * k] = float.NaN;
            adam.Status[6 + k] = FixedPointStatus.NonFinite;
        }

        return (problem, new ScriptedSearch(adam));
    }

    /// <summary>q = ½‖F(h) − h‖² = ½ Σ ((w_i − 1)(h_i − h*_i))² for the diagonal linear network, at the float32 state.</summary>
    private static double Q(double x, double y)
    {
        double r0 = -0.5 * ((float)x - Star[0]), r1 = -1.25 * ((float)y - Star[1]);
        return 0.5 * (r0 * r0 + r1 * r1);
    }

    [Test]
    public void Run_WithoutPolish_CountsKeepsAndOrdersThePointsByHand()
    {
        var (problem, search) = Scripted();
        var options = new FixedPointOptions { Rounds = FirstOnly, Polish = false, Search = new AdamSearchOptions { Tolerance = 1e-10 } };
        var result = FixedPointAnalysis.Run(problem, search, options);
        Assert.That(search.Options, Is.SameAs(options.Search), "the search gets the analysis's search options");

        var net = result.Networks[0];
        Assert.That((net.NonFinite, net.Duplicates, net.Outliers, net.Diverged), Is.EqualTo((1, 1, 1, (string?)null)));
        Assert.That(net.Points.Select(p => p.Seed), Is.EqualTo(new[] { 0, 5, 4 }), "h*, then by increasing q");
        Assert.That(net.Points.Select(p => p.Q), Is.EqualTo(new[] { Q(Star[0], Star[1]), Q(Star[0], Star[1] + 0.002), Q(Star[0] + 0.01, Star[1]) }).Within(1e-18));
        Assert.That(net.Points.Select(p => p.Status), Is.EqualTo(new[] { FixedPointStatus.Converged, FixedPointStatus.MaxIterations, FixedPointStatus.MaxIterations }));
        Assert.That(net.Points.Select(p => p.SearchIterations), Is.EqualTo(new[] { 100, 105, 104 }));
        Assert.That(net.Points.Select(p => p.PolishIterations), Is.All.Zero);
        Assert.That(net.Points[1].State, Is.EqualTo(new[] { (double)(float)Star[0], (double)(float)(Star[1] + 0.002) }));

        var gone = result.Networks[1];
        Assert.That((gone.Network, gone.NonFinite, gone.Diverged, gone.Points.Count), Is.EqualTo((1, 6, "non-finite states", 0)));
        Assert.That(result.Search, Is.SameAs(search.Result));

        // linearised: J = W, ∂F/∂u = U, eigenvalues by decreasing modulus
        foreach (var p in net.Points)
        {
            Assert.That(p.Jacobian, Is.EqualTo(new[] { 0.5, 0, 0, -0.25 }));
            Assert.That(p.InputJacobian, Is.EqualTo(new[] { 1.0, 0 }));
            Assert.That(p.Eigenvalues, Is.EqualTo(new[] { new Complex(0.5, 0), new Complex(-0.25, 0) }));
            Assert.That((p.SpectralRadius, p.Stable, p.SaddleIndex), Is.EqualTo((0.5, true, 0)));
        }
    }

    [Test]
    public void Run_EachStepCanBeTurnedOff()
    {
        var (problem, search) = Scripted();
        var all = FixedPointAnalysis.Run(problem, search, new FixedPointOptions { Rounds = FirstOnly, Polish = false, Deduplicate = false, RemoveOutliers = false, Linearize = false });
        var net = all.Networks[0];
        Assert.That((net.NonFinite, net.Duplicates, net.Outliers), Is.EqualTo((1, 0, 0)));
        Assert.That(net.Points.Select(p => p.Seed), Is.EqualTo(new[] { 0, 1, 5, 4, 3 }), "every finite end, by increasing q");
        Assert.That(net.Points.SelectMany(p => p.Eigenvalues), Is.Empty, "not linearised");
        Assert.That(net.Points.Select(p => p.SpectralRadius), Is.All.NaN);
        Assert.That(net.Points.Select(p => p.Stable), Is.All.False);

        var outliersOnly = FixedPointAnalysis.Run(problem, search, new FixedPointOptions { Rounds = FirstOnly, Polish = false, Deduplicate = false, Linearize = false });
        Assert.That(outliersOnly.Networks[0].Points.Select(p => p.Seed), Is.EqualTo(new[] { 0, 1, 5, 4 }));
        Assert.That(outliersOnly.Networks[0].Outliers, Is.EqualTo(1));
    }

    [Test]
    public void Run_Polish_TakesEveryEndToTheFixedPoint_ThenMergesThem()
    {
        var (problem, search) = Scripted();
        var result = FixedPointAnalysis.Run(problem, search, new FixedPointOptions { Rounds = FirstOnly, RemoveOutliers = false });
        var net = result.Networks[0];
        // before the polish only seed 1 duplicates seed 0; after it the other three finite ends land on h* too
        Assert.That(net.Duplicates, Is.EqualTo(4));
        Assert.That(net.Points, Has.Count.EqualTo(1));
        var p = net.Points[0];
        Assert.That(p.State[0], Is.EqualTo(Star[0]).Within(1e-12));
        Assert.That(p.State[1], Is.EqualTo(Star[1]).Within(1e-12));
        Assert.That(p.Q, Is.LessThan(1e-24));
        Assert.That(p.Status, Is.EqualTo(FixedPointStatus.Converged));
        Assert.That(result.Networks[1].Diverged, Is.EqualTo("non-finite states"));
    }

    [Test]
    public void Run_NetworkWithNonFiniteParameters_IsDivergedWithoutPoints()
    {
        var (problem, search) = Scripted();
        Spec.Layout.WRec(problem.Parameters, 0)[1] = float.NaN; // the problem holds the caller's array
        var net = FixedPointAnalysis.Run(problem, search, new FixedPointOptions { Rounds = FirstOnly }).Networks[0];
        Assert.That((net.Diverged, net.NonFinite, net.Points.Count), Is.EqualTo(("non-finite parameters", 6, 0)));
    }

    [Test]
    public void Run_InvalidOptions_AreRefusedBeforeTheSearch()
    {
        var (problem, search) = Scripted();
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPointAnalysis.Run(problem, search, new FixedPointOptions { PolishIterations = -1 }));
        Assert.That(search.Options, Is.Null);
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.Run(null!, search));
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.Run(problem, null!));
    }

    [Test]
    public void Options_Validate_RefusesNegativeValues_AcceptsZero()
    {
        Assert.That(new FixedPointOptions { PolishIterations = 0, DuplicateTolerance = 0, OutlierFactor = 0 }.Validate(), Is.Not.Null);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedPointOptions { PolishIterations = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedPointOptions { DuplicateTolerance = -1e-9 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedPointOptions { OutlierFactor = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedPointOptions { Search = new AdamSearchOptions { CheckInterval = 0 } }.Validate());
    }

    private static FixedPoint Point(double q, params double[] state) => new() { State = state, Q = q };

    [Test]
    public void Deduplicate_KeepsTheLowestQ_StrictlyWithinTheTolerance_AndAddsToTheCount()
    {
        var points = new[] { Point(3, 0, 0), Point(double.NaN, 0.125, 0), Point(1, 0.25, 0), Point(2, 0.75, 0), Point(4, 2, 2) };
        int removed = 5;
        var kept = FixedPointAnalysis.Deduplicate(points, 0.5, ref removed);
        // by q: (0.25) kept, (0.75) exactly 0.5 away: kept, (0) within 0.5 of (0.25): removed, (2, 2) kept, NaN q last: (0.125) removed
        Assert.That(kept.Select(p => p.Q), Is.EqualTo(new[] { 1.0, 2, 4 }));
        Assert.That(removed, Is.EqualTo(7));
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.Deduplicate(null!, 1, ref removed));
    }

    [Test]
    public void RemoveOutliers_DropsPointsFartherThanFactorTimesTheSeedsMeanDistance()
    {
        // finite seeds (0, 0) and (2, 0): centroid (1, 0), mean distance 1; the NaN seed counts in neither
        float[] seeds = [0, 0, float.NaN, 5, 2, 0];
        var points = new[] { Point(0, 4, 0), Point(0, 1, -3.001), Point(0, -2, 0), Point(0, 1, 1) };
        int removed = 2;
        var kept = FixedPointAnalysis.RemoveOutliers(points, seeds, 2, 3, ref removed);
        Assert.That(kept, Is.EqualTo(new[] { points[0], points[2], points[3] }), "exactly 3 away is kept");
        Assert.That(removed, Is.EqualTo(3));

        int none = 0;
        Assert.That(FixedPointAnalysis.RemoveOutliers(points, [float.NaN, 0, float.PositiveInfinity, 1], 2, 3, ref none), Is.EqualTo(points), "no finite seed: nothing to measure against");
        Assert.That(FixedPointAnalysis.RemoveOutliers(points, [1, 1, 1, 1], 2, 3, ref none), Is.EqualTo(points), "identical seeds: no spread to measure against");
        Assert.That(none, Is.Zero);
    }

    private static FixedPointAnalysisResult Analysed(int networks) => new()
    {
        Search = new AdamSearchResult(networks, 1, 2),
        Networks = [.. Enumerable.Range(0, networks).Select(k => new NetworkFixedPoints { Network = k, Points = [Point(0, 1, 1)] })],
    };

    [Test]
    public void MarkDiverged_ByNonFiniteStates_OrByTheReasonGiven()
    {
        var result = Analysed(4);
        result.Networks[3].MarkDiverged("earlier reason");
        var states = new float[4 * 6];
        states[6 + 5] = float.NaN; // network 1's last state
        states[12] = float.PositiveInfinity; // network 2's first, but network 2 has a reason
        FixedPointAnalysis.MarkDiverged(result, states, [null, null, "diverged in training"]);
        Assert.That(result.Networks.Select(n => n.Diverged), Is.EqualTo(new[] { null, "non-finite states", "diverged in training", "earlier reason" }));
        Assert.That(result.Networks.Select(n => n.Points.Count), Is.EqualTo(new[] { 1, 0, 0, 0 }));

        var noStates = Analysed(2);
        FixedPointAnalysis.MarkDiverged(noStates, [], ["x"]);
        Assert.That(noStates.Networks.Select(n => n.Diverged), Is.EqualTo(new[] { "x", null }));
        Assert.Throws<ArgumentException>(() => noStates.Networks[1].MarkDiverged(" "));
    }

    [Test]
    public void TryLinearize_NonFiniteState_FailsAndClearsThePoint()
    {
        var spec = new EnsembleSpec { Networks = 1, Hidden = 2, Inputs = 1, Outputs = 1 };
        var net = new FrozenNetwork(spec, Support.TestData.Parameters(spec, 3), 0, [0.5f]);
        var skipped = new FixedPoint { State = [0, 0], Status = FixedPointStatus.NonFinite, Eigenvalues = [Complex.One] };
        Assert.That(FixedPointAnalysis.TryLinearize(net, skipped), Is.False);
        Assert.That(skipped.Eigenvalues, Has.Length.EqualTo(1), "a non-finite point is left as it is");

        var bad = new FixedPoint { State = [double.NaN, 0], Status = FixedPointStatus.Converged };
        Assert.That(FixedPointAnalysis.TryLinearize(net, bad), Is.False);
        Assert.That((bad.Status, bad.Jacobian.Length, bad.InputJacobian.Length, bad.Eigenvalues.Length, bad.Eigenvectors.Length),
            Is.EqualTo((FixedPointStatus.LinearizationFailed, 0, 0, 0, 0)));

        var good = new FixedPoint { State = [0, 0], Status = FixedPointStatus.Converged };
        Assert.That(FixedPointAnalysis.TryLinearize(net, good), Is.True, $"{good.Status}: J = [{string.Join(", ", good.Jacobian)}]");
        Assert.That((good.Status, good.Eigenvalues.Length, good.Eigenvectors.Length), Is.EqualTo((FixedPointStatus.Converged, 2, 4)));
    }

    /// <summary>Eigenvalues are the same in every mode; the vectors are all N columns, the unstable ones (the first SaddleIndex columns of the all-N set), or none.</summary>
    [Test]
    public void Linearize_EigenvectorModes_KeepTheColumnsTheyName()
    {
        var spec = new EnsembleSpec { Networks = 1, Hidden = 12, Inputs = 1, Outputs = 1 };
        var p = Support.TestData.Parameters(spec, 5);
        var w = spec.Layout.WRec(p, 0);
        for (int e = 0; e < w.Length; e++)
        {
            w[e] *= 6; // a large gain: the origin region is unstable in several directions
        }

        var net = new FrozenNetwork(spec, p, 0, [0f]);
        FixedPoint Point(EigenvectorMode mode)
        {
            var point = new FixedPoint { State = new double[12], Status = FixedPointStatus.Converged };
            FixedPointAnalysis.Linearize(net, point, mode);
            return point;
        }

        var all = Point(EigenvectorMode.All);
        var unstable = Point(EigenvectorMode.Unstable);
        var none = Point(EigenvectorMode.None);
        int k = all.SaddleIndex;
        Assert.That(k, Is.InRange(1, 11), "the test needs some unstable and some stable directions");
        Assert.That(unstable.Eigenvalues, Is.EqualTo(all.Eigenvalues));
        Assert.That(none.Eigenvalues, Is.EqualTo(all.Eigenvalues));
        Assert.That((all.EigenvectorCount, unstable.EigenvectorCount, none.EigenvectorCount), Is.EqualTo((12, k, 0)));
        for (int i = 0; i < 12; i++)
        {
            for (int j = 0; j < k; j++)
            {
                Assert.That(unstable.Eigenvectors[i * k + j], Is.EqualTo(all.Eigenvectors[i * 12 + j]), $"row {i}, column {j}");
            }
        }
    }

    /// <summary>A ReLU network's quiescent point (every unit off, so J = 0) is linearised: eigenvalues 0, the unit vectors as eigenvectors (MathNet alone returns NaN vectors for the zero matrix).</summary>
    [Test]
    public void TryLinearize_ZeroJacobian_OfAReluNetworkAtRest()
    {
        var spec = new EnsembleSpec { Networks = 1, Hidden = 3, Inputs = 1, Outputs = 1, Activation = ActivationKind.Relu };
        var p = Support.TestData.Parameters(spec, 4);
        spec.Layout.Bias(p, 0).Fill(-1f);
        spec.Layout.WIn(p, 0).Clear();
        var net = new FrozenNetwork(spec, p, 0, [0.5f]);
        var rest = new FixedPoint { State = [0, 0, 0], Status = FixedPointStatus.Converged };
        Assert.That(net.Residual(rest.State, new double[3]), Is.Zero, "h = 0 is a fixed point");
        Assert.That(FixedPointAnalysis.TryLinearize(net, rest), Is.True);
        Assert.That(rest.Jacobian, Is.All.Zero);
        Assert.That(rest.Eigenvalues, Is.All.EqualTo(Complex.Zero));
        Assert.That(rest.Eigenvectors, Is.EqualTo(new Complex[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }));
        Assert.That((rest.Stable, rest.SaddleIndex), Is.EqualTo((true, 0)));
    }

    [Test]
    public void SpectralRadiusStabilityAndSaddleIndex_AtTheUnitCircle()
    {
        var p = new FixedPoint { State = [0], Eigenvalues = [new Complex(0, 1.5), new Complex(0, -1.5), new Complex(-1, 0), new Complex(0.5, 0)] };
        Assert.That((p.SpectralRadius, p.Stable, p.SaddleIndex), Is.EqualTo((1.5, false, 2)), "|λ| = 1 is not a saddle direction");
        p.Eigenvalues = [new Complex(1, 0), new Complex(0.2, 0)];
        Assert.That((p.Stable, p.SaddleIndex), Is.EqualTo((false, 0)), "|λ| = 1 is not stable");
        p.Eigenvalues = [new Complex(0.999, 0)];
        Assert.That(p.Stable, Is.True);
    }

    [Test]
    public void Eigenvalues_TiesInModulus_SortByRealThenImaginaryPart()
    {
        // diag(−1, 1, then the rotation block ±i)
        double[] m = [-1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0];
        var expected = new[] { new Complex(1, 0), new Complex(0, 1), new Complex(0, -1), new Complex(-1, 0) };
        foreach (var values in new[] { FixedPointAnalysis.Eigenvalues(m, 4), FixedPointAnalysis.EigenDecomposition(m, 4).Values })
        {
            Assert.That(values.Select(v => (Math.Round(v.Real, 12), Math.Round(v.Imaginary, 12))), Is.EqualTo(expected.Select(v => (v.Real, v.Imaginary))));
        }

        var (vals, vecs) = FixedPointAnalysis.EigenDecomposition(m, 4);
        for (int c = 0; c < 4; c++)
        {
            double norm = 0;
            for (int i = 0; i < 4; i++)
            {
                var av = Complex.Zero;
                for (int k = 0; k < 4; k++)
                {
                    av += m[i * 4 + k] * vecs[k * 4 + c];
                }

                Assert.That((av - vals[c] * vecs[i * 4 + c]).Magnitude, Is.LessThan(1e-12), $"A v = λ v, column {c}, row {i}");
                norm += vecs[i * 4 + c].Magnitude * vecs[i * 4 + c].Magnitude;
            }

            Assert.That(norm, Is.EqualTo(1).Within(1e-12), $"column {c} is a unit vector");
        }

        Assert.Throws<ArgumentException>(() => FixedPointAnalysis.EigenDecomposition([double.NaN, 0, 0, 1], 2));
    }

    /// <summary>
    /// Two networks with two inputs each, different inputs and seeds far apart: each network's point must be its own
    /// h* = (I − W)⁻¹ U u (so it read its own inputs), kept by the outlier rule (measured against its own seeds), with
    /// ∂F/∂u = U [2×2].
    /// </summary>
    [Test]
    public void Run_TwoInputs_EachNetworkReadsItsOwnInputsAndSeeds()
    {
        var spec = new EnsembleSpec { Networks = 2, Hidden = 2, Inputs = 2, Outputs = 1, Activation = ActivationKind.Identity };
        var p = new float[spec.Networks * spec.Layout.Stride];
        float[] inputs = [0.4f, 0.2f, -20f, 30f];
        var stars = new double[2][];
        for (int e = 0; e < 2; e++)
        {
            spec.Layout.WRec(p, e)[0] = 0.5f;
            spec.Layout.WRec(p, e)[3] = -0.25f;
            spec.Layout.WIn(p, e)[0] = 1f;
            spec.Layout.WIn(p, e)[3] = 1f;
            stars[e] = [(double)inputs[2 * e] / 0.5, (double)inputs[2 * e + 1] / 1.25];
        }

        // each network's four seeds at the corners of a unit square around its own h*
        var seeds = new float[2 * 4 * 2];
        var adam = new AdamSearchResult(2, 4, 2);
        for (int e = 0; e < 2; e++)
        {
            for (int k = 0; k < 4; k++)
            {
                int row = e * 4 + k;
                seeds[2 * row] = (float)(stars[e][0] + (k % 2 == 0 ? -1 : 1));
                seeds[2 * row + 1] = (float)(stars[e][1] + (k < 2 ? -1 : 1));
                adam.States[2 * row] = (float)stars[e][0];
                adam.States[2 * row + 1] = (float)stars[e][1];
                adam.Status[row] = FixedPointStatus.MaxIterations;
            }
        }

        // outlier factor 1.5: h* sits at its own seeds' centroid, but network 1's h* (−40, 24) is 35.4 from the centroid
        // of any other four seeds that include network 0's, against 1.5 × their mean distance 17.9: a wrong slice drops it
        var problem = new FixedPointProblem(spec, p, inputs, 4, seeds);
        var options = new FixedPointOptions { Rounds = FirstOnly, Polish = false, OutlierFactor = 1.5, Search = new AdamSearchOptions { Tolerance = 1e-10 } };
        var result = FixedPointAnalysis.Run(problem, new ScriptedSearch(adam), options);
        for (int e = 0; e < 2; e++)
        {
            var net = result.Networks[e];
            Assert.That((net.Outliers, net.Duplicates, net.Points.Count), Is.EqualTo((0, 3, 1)), $"network {e}");
            var point = net.Points[0];
            Assert.That(point.State, Is.EqualTo(stars[e]).Within(1e-5), $"network {e}");
            Assert.That(point.Q, Is.LessThan(1e-10), $"network {e}: q at its own h*");
            Assert.That(point.Status, Is.EqualTo(FixedPointStatus.Converged));
            Assert.That(point.InputJacobian, Is.EqualTo(new[] { 1.0, 0, 0, 1 }));
        }
    }

    [Test]
    public void Run_NonFiniteStateTheSearchDidNotFlag_IsNonFinite()
    {
        var (problem, search) = Scripted();
        search.Result.States[11] = float.PositiveInfinity; // seed 5 ends at (x, ∞) with the status MaxIterations
        var net = FixedPointAnalysis.Run(problem, search, new FixedPointOptions { Rounds = FirstOnly, Polish = false, RemoveOutliers = false }).Networks[0];
        var point = net.Points.Single(p => p.Seed == 5);
        Assert.That((double.IsFinite(point.Q), point.Status), Is.EqualTo((false, FixedPointStatus.NonFinite)));
        Assert.That(point.Eigenvalues, Is.Empty, "a non-finite point is not linearised");
    }

    [Test]
    public void Run_QEqualToTheTolerance_IsNotConverged()
    {
        var (problem, search) = Scripted();
        var options = new FixedPointOptions { Rounds = FirstOnly, Polish = false, Linearize = false };
        double q = FixedPointAnalysis.Run(problem, search, options).Networks[0].Points.Single(p => p.Seed == 5).Q;
        FixedPointStatus At(double tolerance) => FixedPointAnalysis.Run(problem, search, options with { Search = new AdamSearchOptions { Tolerance = tolerance } })
            .Networks[0].Points.Single(p => p.Seed == 5).Status;
        Assert.That(At(q), Is.EqualTo(FixedPointStatus.MaxIterations), "converged means q < tolerance");
        Assert.That(At(Math.BitIncrement(q)), Is.EqualTo(FixedPointStatus.Converged));
    }

    [Test]
    public void MarkDiverged_NoNetworks_AndAnEarlierReasonStays()
    {
        Assert.DoesNotThrow(() => FixedPointAnalysis.MarkDiverged(Analysed(0), [1f, 2f], ["x"]));
        var result = Analysed(2);
        result.Networks[0].MarkDiverged("earlier reason");
        FixedPointAnalysis.MarkDiverged(result, [float.NaN, 0, 0, 0], ["later reason", null]);
        Assert.That(result.Networks.Select(n => n.Diverged), Is.EqualTo(new[] { "earlier reason", null }));
    }

    [Test]
    public void NullAndMisSizedArguments_AreArgumentErrors()
    {
        var spec = new EnsembleSpec { Networks = 1, Hidden = 2, Inputs = 1, Outputs = 1 };
        var net = new FrozenNetwork(spec, Support.TestData.Parameters(spec, 3), 0, [0.5f]);
        var point = new FixedPoint { State = [0, 0], Status = FixedPointStatus.Converged };
        int removed = 0;
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.MarkDiverged(null!, []));
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.TryLinearize(null!, point));
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.TryLinearize(net, null!));
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.Linearize(null!, point));
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.Linearize(net, null!));
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.EigenDecomposition(null!, 2));
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.Eigenvalues(null!, 2));
        Assert.Throws<ArgumentNullException>(() => FixedPointAnalysis.RemoveOutliers(null!, [], 2, 3, ref removed));
        Assert.Throws<ArgumentException>(() => FixedPointAnalysis.EigenDecomposition([1, 2, 3], 2));
        Assert.Throws<ArgumentException>(() => FixedPointAnalysis.Eigenvalues([1, 2, 3], 2));
        Assert.That(point.Status, Is.EqualTo(FixedPointStatus.Converged), "the point is left as it was");
    }

    [Test]
    public void TryLinearize_NonFiniteInputWeight_FailsWithAFiniteJacobian()
    {
        var spec = new EnsembleSpec { Networks = 1, Hidden = 2, Inputs = 2, Outputs = 1, Activation = ActivationKind.Identity };
        var p = new float[spec.Layout.Stride];
        spec.Layout.WRec(p, 0)[0] = 0.5f;
        spec.Layout.WIn(p, 0)[0] = float.NaN; // one of the four entries of U
        spec.Layout.WIn(p, 0)[3] = 1f;
        var point = new FixedPoint { State = [0, 0], Status = FixedPointStatus.Converged };
        Assert.That(FixedPointAnalysis.TryLinearize(new FrozenNetwork(spec, p, 0, [0f, 0f]), point), Is.False);
        Assert.That((point.Status, point.InputJacobian.Length), Is.EqualTo((FixedPointStatus.LinearizationFailed, 0)));
    }

    [Test]
    public void RemoveOutliers_ThreeUnits_AndAMeanDistanceOtherThanOne()
    {
        // finite seeds (0, 0, 0) and (4, 0, 0): centroid (2, 0, 0), mean distance 2; the NaN seed counts in neither
        float[] seeds = [0, 0, 0, 4, 0, 0, float.NaN, 5, 5];
        var points = new[] { Point(0, 2, 6, 0), Point(0, 2, 6.001, 0), Point(0, -4, 0, 0) };
        int removed = 0;
        Assert.That(FixedPointAnalysis.RemoveOutliers(points, seeds, 3, 3, ref removed), Is.EqualTo(new[] { points[0], points[2] }), "within 3 × 2 = 6 of the centroid");
        Assert.That(removed, Is.EqualTo(1));
    }

    [Test]
    public void EigenDecomposition_RandomMatrices_RightEigenpairsByDecreasingModulus()
    {
        int complexPairs = 0;
        for (int n = 2; n <= 7; n++)
        {
            for (ulong seed = 1; seed <= 4; seed++)
            {
                var rng = new Engine.Util.Rng(seed * 100 + (ulong)n);
                var m = Enumerable.Range(0, n * n).Select(_ => rng.NextGaussian()).ToArray();
                var (values, vectors) = FixedPointAnalysis.EigenDecomposition(m, n);
                Assert.That(values, Is.EqualTo(FixedPointAnalysis.Eigenvalues(m, n)));
                complexPairs += values.Count(v => v.Imaginary > 0);
                for (int c = 0; c < n; c++)
                {
                    if (c > 0)
                    {
                        Assert.That(values[c].Magnitude, Is.LessThanOrEqualTo(values[c - 1].Magnitude), $"n {n} seed {seed}: by decreasing |λ|");
                    }

                    double norm = 0;
                    for (int i = 0; i < n; i++)
                    {
                        var av = Complex.Zero;
                        for (int k = 0; k < n; k++)
                        {
                            av += m[i * n + k] * vectors[k * n + c];
                        }

                        Assert.That((av - values[c] * vectors[i * n + c]).Magnitude, Is.LessThan(1e-9), $"n {n} seed {seed}: A v = λ v, column {c}, row {i}");
                        norm += vectors[i * n + c].Magnitude * vectors[i * n + c].Magnitude;
                    }

                    Assert.That(norm, Is.EqualTo(1).Within(1e-12), $"n {n} seed {seed}: column {c} is a unit vector");
                }
            }
        }

        Assert.That(complexPairs, Is.GreaterThan(10), "the draws include complex pairs");
    }

    [Test]
    public void Eigenvalues_ByDecreasingModulus()
    {
        double[] m = [0.5, 0, 0, 0, -2, 0, 0, 0, 1];
        var expected = new Complex[] { -2, 1, 0.5 };
        Assert.That(FixedPointAnalysis.Eigenvalues(m, 3), Is.EqualTo(expected));
        Assert.That(FixedPointAnalysis.EigenDecomposition(m, 3).Values, Is.EqualTo(expected));
    }
}
