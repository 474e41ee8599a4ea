using Engine.Distances;
using Engine.Util;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Tests.Distances;

/// <summary>Random states, maps and operators for the distance tests.</summary>
internal static class DistanceTestData
{
    /// <summary>Samples × width states with unequal variances per direction (so whitening matters) plus an offset.</summary>
    public static float[] States(int samples, int width, ulong seed)
    {
        var rng = new Rng(seed);
        var mix = RandomMatrix(width, width, seed + 1000);
        var x = new float[samples * width];
        var z = new double[width];
        for (int s = 0; s < samples; s++)
        {
            for (int k = 0; k < width; k++)
            {
                z[k] = rng.NextGaussian() * (1.0 + 2.0 / (k + 1));
            }

            for (int k = 0; k < width; k++)
            {
                double v = 0.3 * k;
                for (int l = 0; l < width; l++)
                {
                    v += mix[k, l] * z[l];
                }

                x[s * width + k] = (float)v;
            }
        }

        return x;
    }

    public static Matrix<double> RandomMatrix(int rows, int cols, ulong seed)
    {
        var rng = new Rng(seed);
        return Matrix<double>.Build.Dense(rows, cols, (_, _) => rng.NextGaussian());
    }

    /// <summary>A random orthogonal n × n matrix with the requested determinant sign.</summary>
    public static Matrix<double> Orthogonal(int n, ulong seed, int det = 1)
    {
        var q = RandomMatrix(n, n, seed).QR().Q;
        if (Math.Sign(q.Determinant()) != det)
        {
            q.SetColumn(0, q.Column(0) * -1);
        }

        return q;
    }

    /// <summary>x·m for states x (samples × rows of m).</summary>
    public static float[] Map(float[] x, int samples, Matrix<double> m)
    {
        int n = m.RowCount, k = m.ColumnCount;
        var y = new float[samples * k];
        for (int s = 0; s < samples; s++)
        {
            for (int j = 0; j < k; j++)
            {
                double v = 0;
                for (int i = 0; i < n; i++)
                {
                    v += x[s * n + i] * m[i, j];
                }

                y[s * k + j] = (float)v;
            }
        }

        return y;
    }

    public static StateSet Set(int trials, int steps, params (float[] X, int Width)[] nets)
        => new(nets.Select(n => n.X).ToArray(), trials, steps, nets.Select(n => n.Width).ToArray());

    /// <summary>(euclidean, angular) DSA scores of one pair of operators by the published optimiser on the float64 reference backend (both det variants, the better kept).</summary>
    public static (double Euclidean, double Angular) ReferencePair(double[] a, double[] b, int r, int iterations, double learningRate)
    {
        var result = Dsa.FromOperators(Engine.Tests.Support.TestBackends.Reference, [a, b], [0, 1], new Engine.Backends.DsaOptions { Rank = r, Iterations = iterations, LearningRate = learningRate, Optimizer = Engine.Backends.DsaOptimizer.Published });
        return (result.Euclidean[0, 1], result.Angular[0, 1]);
    }

    public static double[] Flat(Matrix<double> m)
    {
        var a = new double[m.RowCount * m.ColumnCount];
        for (int i = 0; i < m.RowCount; i++)
        {
            for (int j = 0; j < m.ColumnCount; j++)
            {
                a[i * m.ColumnCount + j] = m[i, j];
            }
        }

        return a;
    }

    /// <summary>X − 1 μᵀ (μ the column means) of samples × width states, as a float64 matrix.</summary>
    public static Matrix<double> CenteredMatrix(float[] x, int samples, int width)
    {
        var m = Matrix<double>.Build.Dense(samples, width, (s, k) => x[s * width + k]);
        var means = m.ColumnSums() / samples;
        return m - Matrix<double>.Build.Dense(samples, width, (_, k) => means[k]);
    }

    /// <summary>Partial whitening of centred X (Williams et al. 2021): Σ = XᵀX / S = V diag(λ) Vᵀ, X V diag(α + (1 − α) / √max(λ, 1e-10 max λ)) Vᵀ.</summary>
    public static Matrix<double> PartialWhiten(Matrix<double> x, double alpha)
    {
        var evd = (x.TransposeThisAndMultiply(x) / x.RowCount).Evd(Symmetricity.Symmetric);
        var lam = evd.EigenValues.Select(z => z.Real).ToArray();
        double floor = 1e-10 * lam.Max();
        var d = Matrix<double>.Build.DenseOfDiagonalArray(lam.Select(l => alpha + (1 - alpha) / Math.Sqrt(Math.Max(l, floor))).ToArray());
        return x * evd.EigenVectors * d * evd.EigenVectors.Transpose();
    }

    /// <summary>The shape distance of X, Y (netrep): arccos(‖XᵀY‖_* / (‖X‖_F ‖Y‖_F)), the narrower one zero-padded.</summary>
    public static double ShapeAngle(Matrix<double> x, Matrix<double> y)
    {
        int n = Math.Max(x.ColumnCount, y.ColumnCount);
        var xp = Matrix<double>.Build.Dense(x.RowCount, n);
        var yp = Matrix<double>.Build.Dense(y.RowCount, n);
        xp.SetSubMatrix(0, 0, x);
        yp.SetSubMatrix(0, 0, y);
        double nuclear = xp.TransposeThisAndMultiply(yp).Svd(computeVectors: false).S.Sum();
        return Math.Acos(Math.Clamp(nuclear / (xp.FrobeniusNorm() * yp.FrobeniusNorm()), -1, 1));
    }

    /// <summary>Trajectories of x_{t+1} = M x_t + σ ξ from random starts: [trials·steps][n].</summary>
    public static float[] LinearTrajectories(Matrix<double> m, int trials, int steps, double noise, ulong seed)
    {
        int n = m.RowCount;
        var rng = new Rng(seed);
        var x = new float[trials * steps * n];
        for (int b = 0; b < trials; b++)
        {
            var h = Vector<double>.Build.Dense(n, _ => rng.NextGaussian());
            for (int t = 0; t < steps; t++)
            {
                for (int i = 0; i < n; i++)
                {
                    x[(b * steps + t) * n + i] = (float)h[i];
                }

                h = m * h + Vector<double>.Build.Dense(n, _ => noise * rng.NextGaussian());
            }
        }

        return x;
    }

    /// <summary>A random n × n matrix scaled to spectral radius ρ.</summary>
    public static Matrix<double> Stable(int n, ulong seed, double rho = 0.9)
    {
        var m = RandomMatrix(n, n, seed);
        double r = m.Evd().EigenValues.Max(z => z.Magnitude);
        return m * (rho / r);
    }
}
