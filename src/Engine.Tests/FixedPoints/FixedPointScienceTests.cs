using Engine.Backends;
using Engine.Backends.Cpu;
using Engine.Backends.Reference;
using Engine.FixedPoints;
using Engine.Model;
using Engine.Tasks;
using Engine.Tests.Support;
using Engine.Training;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Engine.Tests.FixedPoints;

/// <summary>Known answers: a linear RNN's single fixed point, Jacobians against finite differences, random tanh networks, the 3-bit flip-flop.</summary>
public sealed class FixedPointScienceTests
{
    private static FixedPointProblem Problem(EnsembleSpec spec, float[] p, float[] input, int seeds, int seed, float scale = 1f)
    {
        var h = new float[spec.Networks * seeds * spec.Hidden];
        TestData.Fill(h, new Random(seed), scale);
        return new FixedPointProblem(spec, p, FixedPointProblem.SharedInput(spec, input), seeds, h);
    }

    [Test]
    public void LinearRnn_FindsTheSingleFixedPoint_AndEigenvaluesOfW()
    {
        var spec = new EnsembleSpec { Networks = 2, Hidden = 6, Inputs = 2, Outputs = 1, Activation = ActivationKind.Identity };
        var p = TestData.Parameters(spec, 3, 0.3f);
        float[] u = [0.5f, -0.3f];
        using var search = new CpuFixedPointSearch(2);
        var result = FixedPointAnalysis.Run(Problem(spec, p, u, 8, 4), search);
        for (int e = 0; e < 2; e++)
        {
            var w = Matrix<double>.Build.Dense(6, 6, (i, j) => spec.Layout.WRec(p, e)[i * 6 + j]);
            var uu = Matrix<double>.Build.Dense(6, 2, (i, j) => spec.Layout.WIn(p, e)[i * 2 + j]);
            var b = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(6, i => spec.Layout.Bias(p, e)[i]);
            var expected = (Matrix<double>.Build.DenseIdentity(6) - w).Solve(uu * MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray([0.5f, -0.3f]) + b);
            var points = result.Networks[e].Points;
            Assert.That(points, Has.Count.EqualTo(1), $"network {e}: one fixed point");
            Assert.That(points[0].Status, Is.EqualTo(FixedPointStatus.Converged));
            Assert.That(points[0].Q, Is.LessThan(1e-12));
            for (int i = 0; i < 6; i++)
            {
                Assert.That(points[0].State[i], Is.EqualTo(expected[i]).Within(1e-9), $"h*[{i}]");
            }

            var eig = FixedPointAnalysis.Eigenvalues(w.ToRowMajorArray(), 6);
            Assert.That(points[0].Eigenvalues, Has.Length.EqualTo(6));
            for (int i = 0; i < 6; i++)
            {
                Assert.That((points[0].Eigenvalues[i] - eig[i]).Magnitude, Is.LessThan(1e-9), $"λ[{i}]");
            }

            for (int i = 1; i < 6; i++)
            {
                Assert.That(points[0].Eigenvalues[i].Magnitude, Is.LessThanOrEqualTo(points[0].Eigenvalues[i - 1].Magnitude), "sorted by modulus");
            }

            Assert.That(points[0].InputJacobian, Has.Length.EqualTo(12));
            Assert.That(points[0].InputJacobian[1], Is.EqualTo(spec.Layout.WIn(p, e)[1]).Within(1e-7), "∂F/∂u = U for a linear discrete RNN");
        }
    }

    [Test]
    public void LinearRateRnn_FindsTheSingleFixedPoint_AndShiftedEigenvaluesOfW()
    {
        // F(h) = (1 − α) h + α (W h + U u + b): h* = (I − W)⁻¹ (U u + b), ∂F/∂h = (1 − α) I + α W, ∂F/∂u = α U.
        const float alpha = 0.25f;
        var spec = new EnsembleSpec { Networks = 2, Hidden = 6, Inputs = 2, Outputs = 1, Activation = ActivationKind.Identity, Cell = CellType.Rate, Alpha = alpha };
        var p = TestData.Parameters(spec, 13, 0.3f);
        float[] u = [0.5f, -0.3f];
        foreach (var search in new IFixedPointSearch[] { new CpuFixedPointSearch(2), new ReferenceFixedPointSearch() })
        {
            using var _ = search;
            var result = FixedPointAnalysis.Run(Problem(spec, p, u, 8, 4), search);
            for (int e = 0; e < 2; e++)
            {
                var w = Matrix<double>.Build.Dense(6, 6, (i, j) => spec.Layout.WRec(p, e)[i * 6 + j]);
                var uu = Matrix<double>.Build.Dense(6, 2, (i, j) => spec.Layout.WIn(p, e)[i * 2 + j]);
                var b = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(6, i => spec.Layout.Bias(p, e)[i]);
                var expected = (Matrix<double>.Build.DenseIdentity(6) - w).Solve(uu * MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray([0.5f, -0.3f]) + b);
                var points = result.Networks[e].Points;
                Assert.That(points, Has.Count.EqualTo(1), $"{search.Name}, network {e}: one fixed point");
                Assert.That(points[0].Q, Is.LessThan(1e-12));
                for (int i = 0; i < 6; i++)
                {
                    Assert.That(points[0].State[i], Is.EqualTo(expected[i]).Within(1e-9), $"h*[{i}]");
                }

                var shifted = (Matrix<double>.Build.DenseIdentity(6) * (1 - alpha) + w * alpha).ToRowMajorArray();
                var eig = FixedPointAnalysis.Eigenvalues(shifted, 6);
                for (int i = 0; i < 6; i++)
                {
                    Assert.That((points[0].Eigenvalues[i] - eig[i]).Magnitude, Is.LessThan(1e-9), $"λ[{i}]");
                }

                Assert.That(points[0].InputJacobian[3], Is.EqualTo(alpha * spec.Layout.WIn(p, e)[3]).Within(1e-7), "∂F/∂u = α U");
            }
        }
    }

    [Test]
    public void EigenDecomposition_VectorsSatisfyAvEqualsLambdaV_WithComplexPairs()
    {
        const int n = 9;
        var rng = new Random(3);
        var a = Enumerable.Range(0, n * n).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var (values, vectors) = FixedPointAnalysis.EigenDecomposition(a, n);
        Assert.That(values, Is.EqualTo(FixedPointAnalysis.Eigenvalues(a, n)), "same values and order as Eigenvalues");
        Assert.That(values.Count(l => l.Imaginary != 0), Is.GreaterThan(0), "the test matrix has complex pairs");
        for (int j = 0; j < n; j++)
        {
            double norm = 0, residual = 0;
            for (int i = 0; i < n; i++)
            {
                var s = -values[j] * vectors[i * n + j];
                for (int k = 0; k < n; k++)
                {
                    s += a[i * n + k] * vectors[k * n + j];
                }

                residual = Math.Max(residual, s.Magnitude);
                norm += vectors[i * n + j].Magnitude * vectors[i * n + j].Magnitude;
            }

            Assert.That(residual, Is.LessThan(1e-12), $"‖A v − λ v‖∞ for λ[{j}] = {values[j]}");
            Assert.That(norm, Is.EqualTo(1).Within(1e-12), "unit norm");
        }
    }

    public static IEnumerable<TestCaseData> Cells()
    {
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 7, Inputs = 3, Outputs = 1 }).SetArgDisplayNames("discrete_tanh");
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 7, Inputs = 3, Outputs = 1, Cell = CellType.Leaky, Alpha = 0.3f }).SetArgDisplayNames("leaky_tanh");
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 7, Inputs = 3, Outputs = 1, Cell = CellType.Leaky, Alpha = 0.6f, Activation = ActivationKind.Relu }).SetArgDisplayNames("leaky_relu");
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 7, Inputs = 3, Outputs = 1, Activation = ActivationKind.Identity }).SetArgDisplayNames("discrete_identity");
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 7, Inputs = 3, Outputs = 1, Cell = CellType.Rate, Alpha = 0.1f }).SetArgDisplayNames("rate_tanh");
        yield return new TestCaseData(new EnsembleSpec { Networks = 1, Hidden = 7, Inputs = 3, Outputs = 1, Cell = CellType.Rate, Alpha = 0.7f, Activation = ActivationKind.Relu }).SetArgDisplayNames("rate_relu");
    }

    [TestCaseSource(nameof(Cells))]
    public void Jacobians_MatchCentralFiniteDifferences(EnsembleSpec spec)
    {
        var p = TestData.Parameters(spec, 9, 0.6f);
        var rng = new Random(10);
        float[] u = [0.3f, -0.7f, 0.2f];
        var h = Enumerable.Range(0, 7).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var net = new FrozenNetwork(spec, p, 0, u);
        var j = new double[49];
        net.Jacobian(h, j);
        var ju = new double[21];
        net.InputJacobian(h, ju);
        const double eps = 1e-6;
        var (fp, fm) = (new double[7], new double[7]);
        for (int k = 0; k < 7; k++)
        {
            var hp = (double[])h.Clone();
            var hm = (double[])h.Clone();
            hp[k] += eps;
            hm[k] -= eps;
            net.Map(hp, fp, Span<double>.Empty);
            net.Map(hm, fm, Span<double>.Empty);
            for (int i = 0; i < 7; i++)
            {
                Assert.That(j[i * 7 + k], Is.EqualTo((fp[i] - fm[i]) / (2 * eps)).Within(1e-7), $"∂F_{i}/∂h_{k}");
            }
        }

        for (int k = 0; k < 3; k++)
        {
            var up = (float[])u.Clone();
            var um = (float[])u.Clone();
            const float du = 1e-3f;
            up[k] += du;
            um[k] -= du;
            new FrozenNetwork(spec, p, 0, up).Map(h, fp, Span<double>.Empty);
            new FrozenNetwork(spec, p, 0, um).Map(h, fm, Span<double>.Empty);
            double step = (double)up[k] - um[k];
            for (int i = 0; i < 7; i++)
            {
                Assert.That(ju[i * 3 + k], Is.EqualTo((fp[i] - fm[i]) / step).Within(2e-6), $"∂F_{i}/∂u_{k}");
            }
        }
    }

    [Test]
    public void RandomTanhNetworks_EveryConvergedPointSatisfiesTolerance()
    {
        var spec = new EnsembleSpec { Networks = 3, Hidden = 24, Inputs = 2, Outputs = 1 };
        var p = TestData.Parameters(spec, 17, 1.5f / MathF.Sqrt(24) * 1.7f);
        using var search = new CpuFixedPointSearch(2);
        var options = new FixedPointOptions { Search = new AdamSearchOptions { MaxIterations = 1500 } };
        var problem = Problem(spec, p, [0f, 0f], 64, 18);
        var result = FixedPointAnalysis.Run(problem, search, options);
        for (int e = 0; e < 3; e++)
        {
            var net = new FrozenNetwork(spec, p, e, [0f, 0f]);
            var converged = result.Networks[e].Points.Where(x => x.Status == FixedPointStatus.Converged).ToList();
            TestContext.Out.WriteLine($"network {e}: {result.Networks[e].Points.Count} points, {converged.Count} converged, stable {converged.Count(x => x.Stable)}");
            Assert.That(converged, Is.Not.Empty);
            foreach (var fp in result.Networks[e].Points)
            {
                double q = net.Residual(fp.State, new double[24]);
                Assert.That(fp.Q, Is.EqualTo(q).Within(1e-20 + 1e-9 * q));
                if (fp.Status == FixedPointStatus.Converged)
                {
                    Assert.That(Math.Sqrt(2 * q), Is.LessThan(Math.Sqrt(2e-12)), "‖F(h) − h‖ below its tolerance");
                }

                Assert.That(fp.SaddleIndex, Is.EqualTo(fp.Eigenvalues.Count(l => l.Magnitude > 1)));
                Assert.That(fp.Stable, Is.EqualTo(fp.SpectralRadius < 1));
                AssertEigenpairs(fp, 24);
            }

            var states = result.Networks[e].Points.Select(x => x.State).ToList();
            for (int a = 0; a < states.Count; a++)
            {
                for (int b = a + 1; b < states.Count; b++)
                {
                    Assert.That(states[a].Zip(states[b], (x, y) => Math.Abs(x - y)).Max(), Is.GreaterThanOrEqualTo(1e-3), "de-duplicated");
                }
            }
        }
    }

    /// <summary>Every analysed point's eigenpairs: J v_j = λ_j v_j for each right eigenvector held (unit norm; by default those of the unstable directions, which come first), eigenvalues by decreasing |λ|.</summary>
    private static void AssertEigenpairs(FixedPoint fp, int n)
    {
        Assert.That(fp.Jacobian, Has.Length.EqualTo(n * n));
        Assert.That(fp.Eigenvalues, Has.Length.EqualTo(n));
        Assert.That(fp.Eigenvalues.Select(l => l.Magnitude), Is.Ordered.Descending);
        int cols = fp.EigenvectorCount;
        Assert.That(cols, Is.EqualTo(fp.SaddleIndex), "the default keeps the unstable directions");
        for (int j = 0; j < cols; j++)
        {
            var lambda = fp.Eigenvalues[j];
            double norm = 0, residual = 0;
            for (int i = 0; i < n; i++)
            {
                var jv = System.Numerics.Complex.Zero;
                for (int k = 0; k < n; k++)
                {
                    jv += fp.Jacobian[i * n + k] * fp.Eigenvectors[k * cols + j];
                }

                residual += (jv - lambda * fp.Eigenvectors[i * cols + j]).Magnitude * (jv - lambda * fp.Eigenvectors[i * cols + j]).Magnitude;
                norm += fp.Eigenvectors[i * cols + j].Magnitude * fp.Eigenvectors[i * cols + j].Magnitude;
            }

            Assert.That(Math.Sqrt(norm), Is.EqualTo(1).Within(1e-9), $"eigenvector {j} has unit norm");
            Assert.That(Math.Sqrt(residual), Is.LessThan(1e-9 * Math.Max(1, lambda.Magnitude)), $"J v = λ v for eigenpair {j} (λ = {lambda})");
        }
    }

    [Test]
    public void TrainedFlipFlop_HasEightStablePointsNearTheCubeCorners()
    {
        var task = new FlipFlopTask(3);
        var spec = new EnsembleSpec { Networks = 1, Hidden = 32, Inputs = 3, Outputs = 3 };
        using var backend = BackendFactory.Create("cpu");
        var state = Trainer.Train(backend, task, spec, [1], new TrainingOptions
        {
            Trials = 32, Steps = 30, LearningRate = 5e-3, ClipNorm = 1, MaxEpochs = 10000, Threshold = 5e-4,
        });
        Assert.That(state.Networks[0].Status, Is.EqualTo(NetworkStatus.Converged), "training");
        var ensemble = state.Ensemble;
        var (seeds, _) = FixedPointSeeds.FromTrajectories(ensemble, backend, task, 64, 60, 512, 0.05, 7);
        var problem = new FixedPointProblem(ensemble.Spec, ensemble.Parameters, new float[3], 512, seeds);
        using var search = new CpuFixedPointSearch(2);
        var result = FixedPointAnalysis.Run(problem, search, new FixedPointOptions { Search = new AdamSearchOptions { MaxIterations = 2000 } });
        var points = result.Networks[0].Points.Where(p => p.Status == FixedPointStatus.Converged).ToList();
        var stable = points.Where(p => p.Stable).ToList();
        TestContext.Out.WriteLine($"{result.Networks[0].Points.Count} points, {points.Count} converged, {stable.Count} stable; saddle indices {string.Join(",", points.Where(p => !p.Stable).Select(p => p.SaddleIndex))}");
        Assert.That(stable, Has.Count.EqualTo(8));
        var c = ensemble.Layout.WOut(ensemble.Parameters, 0).ToArray();
        var d = ensemble.Layout.BOut(ensemble.Parameters, 0).ToArray();
        var corners = new HashSet<int>();
        foreach (var p in stable)
        {
            int code = 0;
            for (int o = 0; o < 3; o++)
            {
                double y = d[o];
                for (int i = 0; i < 32; i++)
                {
                    y += c[o * 32 + i] * p.State[i];
                }

                Assert.That(Math.Abs(y), Is.GreaterThan(0.8).And.LessThan(1.2), $"output {o} of a stable point is near ±1");
                code |= (y > 0 ? 1 : 0) << o;
            }

            corners.Add(code);
        }

        Assert.That(corners, Has.Count.EqualTo(8), "one stable point per corner of the output cube");
        Assert.That(points.Count(p => !p.Stable), Is.GreaterThan(0), "plus saddles");
    }
}
