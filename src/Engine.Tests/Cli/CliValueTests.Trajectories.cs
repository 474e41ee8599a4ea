using System.Text.Json;
using Engine.Analysis;
using Engine.Backends;
using Engine.IO;
using Engine.Model;
using Engine.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using Complex = System.Numerics.Complex;

namespace Engine.Tests.Cli;

/// <summary><c>run</c> and <c>fixed-points</c>: the written trajectories equal the library's, and the written points solve the cell's equation.</summary>
public sealed partial class CliValueTests
{
    [Test]
    public void Run_WritesTheLibrarysOutputsAndStates_OnTheSameTrials()
    {
        string outDir = OutFolder("run-out");
        var (code, _, err) = CliHarness.Run("run", Run, "--out", outDir, "--trials", "5", "--backend", "cpu");
        Assert.That(code, Is.EqualTo(0), err);
        var (state, task) = Load();
        var spec = state.Ensemble.Spec;
        int steps = state.Options.StepsFor(task);
        var batch = Evaluation.SharedTrials(state.Ensemble, task, 5, steps, ProbeSeed);
        using var backend = BackendFactory.Create("cpu");
        var (outputs, states) = state.Ensemble.Run(backend, batch);

        // float32 in and out, the same backend and the same batch: the arrays are the same bits.
        AssertFloat32(Path.Combine(outDir, "inputs.npy"), batch.Inputs, 5, steps, spec.Inputs);
        AssertFloat32(Path.Combine(outDir, "targets.npy"), batch.Targets, 5, steps, spec.Outputs);
        AssertFloat32(Path.Combine(outDir, "mask.npy"), batch.Mask, 5, steps, spec.Outputs);
        AssertFloat32(Path.Combine(outDir, "outputs.npy"), outputs, spec.Networks, 5, steps, spec.Outputs);
        AssertFloat32(Path.Combine(outDir, "states.npy"), states, spec.Networks, 5, steps, spec.Hidden);
        Assert.That(batch.Inputs, Has.Some.Not.EqualTo(0f), "trials with pulses");
        Assert.That(states, Has.Some.Not.EqualTo(0f), "states that moved");

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "run.json")));
        var mse = json.RootElement.GetProperty("mse").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.That(mse, Is.EqualTo(Enumerable.Range(0, spec.Networks).Select(e => Evaluation.MaskedMse(outputs, batch, e))).Within(1e-7).Percent);
        Assert.That(json.RootElement.GetProperty("seed").GetInt64(), Is.EqualTo(ProbeSeed));
    }

    [Test]
    public void FixedPoints_Network0_PointsSolveTheCellAndEigenvaluesAreTheJacobiansSpectrum()
    {
        string outDir = OutFolder("fixed-points");
        var (code, _, err) = CliHarness.Run("fixed-points", Run, "--out", outDir, "--backend", "cpu", "--seeds", "32", "--trials", "4");
        Assert.That(code, Is.EqualTo(0), err);
        var (state, _) = Load();
        var spec = state.Ensemble.Spec;
        Assert.That(spec.Cell, Is.Not.EqualTo(CellType.Rate), "the formula below is the discrete/leaky cell's");
        Assert.That(spec.Activation, Is.EqualTo(ActivationKind.Tanh));
        double alpha = spec.Cell == CellType.Discrete ? 1 : spec.Alpha;
        int n = spec.Hidden, inputs = spec.Inputs;

        // Network 0's slice starts the block: W (N×N, row i = unit i's incoming weights), then U (N×I), then b (N).
        // The CLI's default constant input is u = 0, so F(h) = (1 − α) h + α tanh(W h + b).
        var p = state.Ensemble.Parameters;
        var w = Matrix<double>.Build.Dense(n, n, (i, j) => p[i * n + j]);
        var b = Vector<double>.Build.Dense(n, i => p[n * n + n * inputs + i]);

        string net = Path.Combine(outDir, "network_000");
        var (points, pShape) = Npy.ReadFloat64(Path.Combine(net, "points.npy"));
        var (eig, eShape) = Npy.ReadFloat64(Path.Combine(net, "eigenvalues.npy"));
        var (jac, jShape) = Npy.ReadFloat64(Path.Combine(net, "jacobians.npy"));
        var (stable, _) = Npy.ReadFloat64(Path.Combine(net, "stable.npy"));
        int k = pShape[0];
        Assert.That(pShape, Is.EqualTo(new[] { k, n }));
        Assert.That(eShape, Is.EqualTo(new[] { k, n, 2 }));
        Assert.That(jShape, Is.EqualTo(new[] { k, n, n }));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "fixed_points.json")));
        var status = json.RootElement.GetProperty("networks")[0].GetProperty("fixed_points").EnumerateArray()
            .Select(x => x.GetProperty("status").GetString()).ToArray();
        Assert.That(status, Has.Length.EqualTo(k));
        Assert.That(status, Has.Some.EqualTo("Converged"), "at least one fixed point to check");
        Assert.That(stable.Sum(), Is.GreaterThanOrEqualTo(2), "a trained 1-bit flip-flop holds its two states in two stable points");

        for (int at = 0; at < k; at++)
        {
            if (status[at] != "Converged")
            {
                continue; // a slow point: not a solution, so nothing to check against the equation
            }

            var h = Vector<double>.Build.Dense(n, i => points[at * n + i]);
            var z = w * h + b;
            var f = ((1 - alpha) * h) + (alpha * z.Map(Math.Tanh));
            double q = 0.5 * (f - h).DotProduct(f - h);
            Assert.That(q, Is.LessThan(1e-12), $"point {at}: q = ½‖F(h) − h‖² (the search's default tolerance)");

            // J = ∂F/∂h = (1 − α) I + α diag(1 − tanh²(z)) W.
            var jacobian = Matrix<double>.Build.Dense(n, n, (i, j) => ((i == j ? 1 - alpha : 0) + (alpha * (1 - (Math.Tanh(z[i]) * Math.Tanh(z[i]))) * w[i, j])));
            var written = Enumerable.Range(0, n * n).Select(x => jac[(at * n * n) + x]).ToArray();
            Assert.That(written, Is.EqualTo(jacobian.ToRowMajorArray()).Within(1e-12), $"point {at}: jacobians.npy");

            var expected = jacobian.Evd().EigenValues.ToArray();
            var actual = Enumerable.Range(0, n).Select(x => new Complex(eig[(at * n + x) * 2], eig[((at * n + x) * 2) + 1])).ToArray();
            AssertSameMultiset(actual, expected, $"point {at}: eigenvalues.npy");
            double radius = expected.Max(l => l.Magnitude);
            if (Math.Abs(radius - 1) > 1e-9)
            {
                Assert.That(stable[at], Is.EqualTo(radius < 1 ? 1.0 : 0.0), $"point {at}: stable iff max|λ| < 1 (max|λ| = {radius})");
            }
        }
    }

    /// <summary>Every expected eigenvalue has its own written one within 1e-9 (relative to the spectral radius, at least 1e-9 absolute).</summary>
    private static void AssertSameMultiset(Complex[] actual, Complex[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        double tol = 1e-9 * Math.Max(1, expected.Max(l => l.Magnitude));
        var left = actual.ToList();
        foreach (var l in expected)
        {
            var nearest = left.MinBy(a => (a - l).Magnitude);
            Assert.That((nearest - l).Magnitude, Is.LessThanOrEqualTo(tol), $"{what}: no written eigenvalue near {l} (nearest {nearest}; written {string.Join(", ", actual)})");
            left.Remove(nearest);
        }
    }

    private static void AssertFloat32(string path, float[] expected, params int[] shape)
    {
        var (data, s) = Npy.ReadFloat32(path);
        Assert.That(s, Is.EqualTo(shape), path);
        Assert.That(data, Is.EqualTo(expected), path);
    }
}
