using System.Globalization;
using Engine.Backends;
using Engine.IO;
using Engine.Plotting;
using MathNet.Numerics.LinearAlgebra;
using ScottPlot;

namespace Engine.FixedPoints;

/// <summary>Writes a fixed-point analysis: .npy arrays and a JSON summary per network, a PCA figure per network, one spectra figure.</summary>
/// <remarks>
/// Per network e, in <c>network_eee/</c>: points.npy [K][N] (float64), q.npy [K], stable.npy [K] (1/0), saddle_index.npy [K],
/// eigenvalues.npy [K][N][2] (real, imaginary; by decreasing modulus), eigenvectors.npy [K][N][N][2] (real, imaginary;
/// [k, :, j] is the unit right eigenvector of eigenvalue j of point k), jacobians.npy [K][N][N], input_jacobians.npy
/// [K][N][I], seed_q.npy [S] and seed_status.npy [S] (1 converged, 2 max iterations, 3 non-finite). Points are sorted by q.
/// <c>fixed_points.json</c> summarises every network and point; <c>network_eee.png</c> projects the recorded
/// trajectories [B][T][N] onto their top two principal components with stable points filled, saddles hollow with a marker
/// per saddle index and a segment along each unstable direction; census.csv and rounds.csv hold the census and the rounds;
/// <c>spectra.png</c> plots every converged point's eigenvalues against the unit circle.
/// </remarks>
public static class FixedPointOutput
{
    /// <summary>Writes the arrays and the JSON summary; returns the summary object written.</summary>
    public static void Write(string dir, FixedPointAnalysisResult result, int inputs, IReadOnlyDictionary<string, object> context)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(dir);
        var networks = new List<object>();
        int s = result.Search.SeedsPerNetwork, n = result.Search.Hidden;
        foreach (var net in result.Networks)
        {
            string sub = Path.Combine(dir, $"network_{net.Network:D3}");
            Directory.CreateDirectory(sub);
            var pts = net.Points;
            int k = pts.Count;
            Npy.Write(Path.Combine(sub, "points.npy"), pts.SelectMany(p => p.State).ToArray(), k, n);
            Npy.Write(Path.Combine(sub, "q.npy"), pts.Select(p => p.Q).ToArray(), k);
            Npy.Write(Path.Combine(sub, "stable.npy"), pts.Select(p => p.Stable).ToArray(), k);
            Npy.Write(Path.Combine(sub, "saddle_index.npy"), pts.Select(p => p.SaddleIndex).ToArray(), k);
            if (pts.All(p => p.Eigenvalues.Length == n || p.Status == FixedPointStatus.LinearizationFailed))
            {
                // A point whose linearisation failed is written as NaN rows, so the arrays stay aligned with points.npy.
                Npy.Write(Path.Combine(sub, "eigenvalues.npy"), pts.SelectMany(p => Pad(p.Eigenvalues.SelectMany(l => new[] { l.Real, l.Imaginary }), 2 * n)).ToArray(), k, n, 2);
                // [P][N][K][2] with K the most columns any point holds (all N, or the largest saddle index; 0 when every point is
                // stable); columns a point does not hold are NaN.
                int cols = pts.Select(p => p.EigenvectorCount).DefaultIfEmpty(0).Max();
                Npy.Write(Path.Combine(sub, "eigenvectors.npy"), pts.SelectMany(p => Columns(p, n, cols)).ToArray(), k, n, cols, 2);

                Npy.Write(Path.Combine(sub, "jacobians.npy"), pts.SelectMany(p => Pad(p.Jacobian, n * n)).ToArray(), k, n, n);
                Npy.Write(Path.Combine(sub, "input_jacobians.npy"), pts.SelectMany(p => Pad(p.InputJacobian, n * inputs)).ToArray(), k, n, inputs);
            }

            var seedQ = result.Search.Q.AsSpan(net.Network * s, s).ToArray();
            var seedStatus = result.Search.Status.AsSpan(net.Network * s, s).ToArray();
            Npy.Write(Path.Combine(sub, "seed_q.npy"), seedQ, s);
            Npy.Write(Path.Combine(sub, "seed_status.npy"), seedStatus.Select(x => (int)x).ToArray(), s);
            networks.Add(new
            {
                network = net.Network,
                status = net.Diverged is null ? "ok" : Analysis.NetworkHealth.DivergedName,
                diverged = net.Diverged,
                seeds = s,
                seeds_converged = seedStatus.Count(x => x == FixedPointStatus.Converged),
                seeds_max_iterations = seedStatus.Count(x => x == FixedPointStatus.MaxIterations),
                seeds_non_finite = seedStatus.Count(x => x == FixedPointStatus.NonFinite),
                duplicates = net.Duplicates,
                outliers = net.Outliers,
                points = k,
                converged_points = pts.Count(p => p.Status == FixedPointStatus.Converged),
                stable_points = pts.Count(p => p.Status == FixedPointStatus.Converged && p.Stable),
                linearization_failed_points = pts.Count(p => p.Status == FixedPointStatus.LinearizationFailed),
                census = net.Census,
                census_text = CompleteSearch.CensusText(net.Census),
                rounds = net.Rounds.Select(r => new { round = r.Round, seeds = r.Seeds, found = r.Found, total = r.Total }).ToArray(),
                fixed_points = pts.Select(p => new
                {
                    q = p.Q,
                    status = p.Status.ToString(),
                    stable = p.Stable,
                    saddle_index = p.SaddleIndex,
                    spectral_radius = p.SpectralRadius,
                    seed = p.Seed,
                    round = p.Round,
                    search_iterations = p.SearchIterations,
                    polish_iterations = p.PolishIterations,
                }).ToArray(),
            });
        }

        var summary = new Dictionary<string, object>(context)
        {
            ["search_seconds"] = result.SearchTime.TotalSeconds,
            ["polish_seconds"] = result.PolishTime.TotalSeconds,
            ["linearize_seconds"] = result.LinearizeTime.TotalSeconds,
            ["search_iterations"] = result.Search.TotalIterations,
            ["rounds_run"] = result.RoundsRun,
            ["censuses"] = Censuses(result.Networks),
            ["networks"] = networks,
        };
        JsonOutput.Write(Path.Combine(dir, "fixed_points.json"), summary);
        WriteCensus(dir, result.Networks);
    }

    /// <summary>How many healthy networks share each census ("8/12/6/1" → count), most common first.</summary>
    public static IReadOnlyDictionary<string, int> Censuses(IEnumerable<NetworkFixedPoints> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        var counts = networks.Where(r => r.Diverged is null).GroupBy(r => CompleteSearch.CensusText(r.Census))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal);
        var result = new Dictionary<string, int>();
        foreach (var g in counts)
        {
            result[g.Key] = g.Count();
        }

        return result;
    }

    /// <summary>
    /// census.csv (network, status, converged points, then index_0 … index_K: converged points by number of unstable
    /// directions) and rounds.csv (network, round, seeds, found: converged points new in that round, total after it).
    /// </summary>
    public static void WriteCensus(string dir, IReadOnlyList<NetworkFixedPoints> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        int width = networks.Select(r => r.Census.Length).DefaultIfEmpty(0).Max();
        var census = new System.Text.StringBuilder("network,status,converged_points");
        for (int k = 0; k < width; k++)
        {
            census.Append(CultureInfo.InvariantCulture, $",index_{k}");
        }

        census.Append('\n');
        var rounds = new System.Text.StringBuilder("network,round,seeds,found,total\n");
        foreach (var net in networks)
        {
            var c = net.Census;
            census.Append(CultureInfo.InvariantCulture, $"{net.Network},{(net.Diverged is null ? "ok" : Analysis.NetworkHealth.DivergedName)},{net.Points.Count(p => p.Status == FixedPointStatus.Converged)}");
            for (int k = 0; k < width; k++)
            {
                census.Append(CultureInfo.InvariantCulture, $",{(k < c.Length ? c[k] : 0)}");
            }

            census.Append('\n');
            foreach (var r in net.Rounds)
            {
                rounds.Append(CultureInfo.InvariantCulture, $"{net.Network},{r.Round},{r.Seeds},{r.Found},{r.Total}\n");
            }
        }

        File.WriteAllText(Path.Combine(dir, "census.csv"), census.ToString());
        File.WriteAllText(Path.Combine(dir, "rounds.csv"), rounds.ToString());
    }

    /// <summary>A point's eigenvectors as [N][cols][re, im], columns it does not hold NaN.</summary>
    private static IEnumerable<double> Columns(FixedPoint p, int n, int cols)
    {
        int have = p.EigenvectorCount;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                var v = j < have ? p.Eigenvectors[i * have + j] : new System.Numerics.Complex(double.NaN, double.NaN);
                yield return v.Real;
                yield return v.Imaginary;
            }
        }
    }

    private static IEnumerable<double> Pad(IEnumerable<double> values, int length)
    {
        int count = 0;
        foreach (double v in values)
        {
            count++;
            yield return v;
        }

        for (; count < length; count++)
        {
            yield return double.NaN;
        }
    }

    /// <summary>Trajectories [B][T][N] and the network's points on the top two principal components of the trajectories.</summary>
    public static void PcaFigure(string png, NetworkFixedPoints net, ReadOnlySpan<float> states, int trials, int steps, int n, string title)
    {
        ArgumentNullException.ThrowIfNull(net);
        int rows = trials * steps;
        var finiteRows = new bool[rows];
        int used = 0;
        for (int r = 0; r < rows; r++)
        {
            finiteRows[r] = Analysis.NetworkHealth.AllFinite(states.Slice(r * n, n));
            used += finiteRows[r] ? 1 : 0;
        }

        // Non-finite states (a diverged network) are left out of the PCA and the plot; with none left the figure says so.
        var mean = new double[n];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < n && finiteRows[r]; i++)
            {
                mean[i] += states[r * n + i] / (double)used;
            }
        }

        var cov = Matrix<double>.Build.Dense(n, n);
        var x = new double[n];
        for (int r = 0; r < rows; r++)
        {
            if (!finiteRows[r])
            {
                continue;
            }

            for (int i = 0; i < n; i++)
            {
                x[i] = states[r * n + i] - mean[i];
            }

            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    cov[i, j] += x[i] * x[j];
                }
            }
        }

        var (pc1, pc2) = TopTwo(cov, n, used);
        (double, double) Project(Func<int, double> v)
        {
            double a = 0, b = 0;
            for (int i = 0; i < n; i++)
            {
                a += (v(i) - mean[i]) * pc1[i];
                b += (v(i) - mean[i]) * pc2[i];
            }

            return (a, b);
        }

        var plot = Figures.NewPlot();
        for (int t = 0; t < Math.Min(trials, 24); t++)
        {
            var xs = new double[steps];
            var ys = new double[steps];
            for (int k = 0; k < steps; k++)
            {
                int row = t * steps + k;
                var copy = states.Slice(row * n, n).ToArray();
                (xs[k], ys[k]) = finiteRows[row] ? Project(i => copy[i]) : (double.NaN, double.NaN);
            }

            if (!xs.Any(double.IsFinite))
            {
                continue;
            }

            var line = plot.Add.ScatterLine(xs, ys);
            line.Color = Colors.Gray.WithAlpha(0.35);
            line.LineWidth = 1;
        }

        void Points(IEnumerable<FixedPoint> points, MarkerShape shape, Color color, string label, float size)
        {
            var list = points.Where(p => p.State.All(double.IsFinite)).ToList();
            if (list.Count == 0)
            {
                return;
            }

            var proj = list.Select(p => Project(i => p.State[i])).ToArray();
            var sc = plot.Add.ScatterPoints(proj.Select(p => p.Item1).ToArray(), proj.Select(p => p.Item2).ToArray());
            sc.MarkerShape = shape;
            sc.MarkerSize = size;
            sc.MarkerLineWidth = 2;
            sc.Color = color;
            sc.LegendText = $"{label} ({list.Count})";
        }

        var converged = net.Points.Where(p => p.Status == FixedPointStatus.Converged).ToList();

        // each unstable direction of a saddle: a segment h* ± ℓ Re(v)/‖Re(v)‖ (ℓ a fifth of the trajectories' largest radius on the
        // two PCs), projected; a direction that leaves the PC plane draws short
        double extent = 0;
        for (int r = 0; r < rows; r++)
        {
            if (finiteRows[r])
            {
                var copy = states.Slice(r * n, n).ToArray();
                var (a, b) = Project(i => copy[i]);
                extent = Math.Max(extent, Math.Sqrt(a * a + b * b));
            }
        }

        double reach = 0.2 * Math.Max(extent, 1e-12);
        bool labelled = false;
        foreach (var p in converged.Where(p => p.SaddleIndex > 0 && p.EigenvectorCount >= p.SaddleIndex && p.State.All(double.IsFinite)))
        {
            int cols = p.EigenvectorCount;
            for (int j = 0; j < cols && p.Eigenvalues[j].Magnitude > 1; j++)
            {
                if (p.Eigenvalues[j].Imaginary < 0)
                {
                    continue; // the conjugate of the previous one: the same real part
                }

                var v = new double[n];
                double norm = 0;
                for (int i = 0; i < n; i++)
                {
                    v[i] = p.Eigenvectors[i * cols + j].Real;
                    norm += v[i] * v[i];
                }

                norm = Math.Sqrt(norm);
                if (!(norm > 0) || !double.IsFinite(norm))
                {
                    continue;
                }

                var (x1, y1) = Project(i => p.State[i] - reach * v[i] / norm);
                var (x2, y2) = Project(i => p.State[i] + reach * v[i] / norm);
                var segment = plot.Add.Line(x1, y1, x2, y2);
                segment.Color = Colors.Red.WithAlpha(0.7);
                segment.LineWidth = 2;
                segment.MarkerSize = 0;
                if (!labelled)
                {
                    segment.LegendText = "unstable directions";
                    labelled = true;
                }
            }
        }

        Points(net.Points.Where(p => p.Status is FixedPointStatus.MaxIterations), MarkerShape.Cross, Colors.Orange, "slow points", 7);
        Points(net.Points.Where(p => p.Status is FixedPointStatus.LinearizationFailed), MarkerShape.OpenSquare, Colors.Purple, "linearisation failed", 9);
        Points(converged.Where(p => !p.Stable && p.SaddleIndex == 0), MarkerShape.OpenCircle, Colors.Gray, "marginal (max |λ| = 1)", 11);
        Points(converged.Where(p => p.SaddleIndex >= 4), MarkerShape.Asterisk, Colors.Black, "saddles, ≥ 4 unstable directions", 12);
        Points(converged.Where(p => p.SaddleIndex == 3), MarkerShape.OpenSquare, Colors.DarkGreen, "saddles, 3 unstable directions", 11);
        Points(converged.Where(p => p.SaddleIndex == 2), MarkerShape.OpenDiamond, Colors.Magenta, "saddles, 2 unstable directions", 12);
        Points(converged.Where(p => p.SaddleIndex == 1), MarkerShape.OpenTriangleUp, Colors.Red, "saddles, 1 unstable direction", 12);
        Points(converged.Where(p => p.Stable), MarkerShape.FilledCircle, Colors.Blue, "stable", 11);
        plot.ShowLegend();
        plot.Title(net.Diverged is not null ? $"{title} ({Analysis.NetworkHealth.DivergedName}: {net.Diverged})" : used == 0 ? $"{title} (no finite states)" : title);
        plot.XLabel("PC 1");
        plot.YLabel("PC 2");
        Figures.SavePng(plot, png, 800, 700);
    }

    /// <summary>The top two principal directions of a covariance [N×N] (unit vectors along the first axes when it cannot be decomposed).</summary>
    private static (double[] Pc1, double[] Pc2) TopTwo(Matrix<double> cov, int n, int samples)
    {
        var e1 = new double[n];
        var e2 = new double[n];
        e1[0] = 1;
        if (n > 1)
        {
            e2[1] = 1;
        }

        if (samples == 0 || !cov.Enumerate().All(double.IsFinite))
        {
            return (e1, e2);
        }

        try
        {
            var evd = cov.Evd(Symmetricity.Symmetric);
            var order = Enumerable.Range(0, n).OrderByDescending(i => evd.EigenValues[i].Real).ToArray();
            var pc1 = evd.EigenVectors.Column(order[0]).ToArray();
            var pc2 = n > 1 ? evd.EigenVectors.Column(order[1]).ToArray() : new double[n];
            return pc1.All(double.IsFinite) && pc2.All(double.IsFinite) ? (pc1, pc2) : (e1, e2);
        }
        catch (MathNet.Numerics.NonConvergenceException)
        {
            return (e1, e2);
        }
    }

    /// <summary>Eigenvalues of every converged point of every network against the unit circle.</summary>
    public static void SpectraFigure(string png, IReadOnlyList<NetworkFixedPoints> networks, string title)
    {
        ArgumentNullException.ThrowIfNull(networks);
        var plot = Figures.NewPlot();
        var circle = plot.Add.Circle(0, 0, 1);
        circle.LineColor = Colors.Black;
        circle.LinePattern = LinePattern.Dashed;
        var points = networks.SelectMany(r => r.Points).Where(p => p.Status == FixedPointStatus.Converged && p.Eigenvalues.Length > 0).ToList();
        foreach (var (stable, color, label) in new[] { (true, Colors.Blue, "stable points"), (false, Colors.Red, "unstable points") })
        {
            var eig = points.Where(p => p.Stable == stable).SelectMany(p => p.Eigenvalues).Where(l => double.IsFinite(l.Real) && double.IsFinite(l.Imaginary)).ToArray();
            if (eig.Length == 0)
            {
                continue;
            }

            var sc = plot.Add.ScatterPoints(eig.Select(l => l.Real).ToArray(), eig.Select(l => l.Imaginary).ToArray());
            sc.Color = color.WithAlpha(0.5);
            sc.MarkerSize = 4;
            sc.LegendText = $"eigenvalues of {label} ({points.Count(p => p.Stable == stable)})";
        }

        plot.ShowLegend();
        plot.Axes.SquareUnits();
        plot.Title(title);
        plot.XLabel("Re λ");
        plot.YLabel("Im λ");
        Figures.SavePng(plot, png, 800, 800);
    }
}
