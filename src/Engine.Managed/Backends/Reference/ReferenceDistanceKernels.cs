using Engine.Kernels;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Backends.Reference;

/// <summary>The distance kernels as plain float64 loops on one thread: the oracle the fast CPU and ILGPU paths are checked against.</summary>
/// <remarks>
/// Cross products X_iᵀ X_j summed sample by sample, reduced to ‖C‖²_F or to ‖C‖_* (the singular values of a full SVD);
/// DSA operators by a full SVD of the delay embedding (<see cref="DsaOperator.FitReference"/>) and alignments by scalar
/// Adam per problem (<see cref="Align"/>); FAQ with the Frank–Wolfe gradient written as triple loops (<see cref="FaqGradient"/>).
/// </remarks>
public sealed class ReferenceDistanceKernels : IDistanceKernels
{
    /// <inheritdoc />
    public double[] CrossProducts(IReadOnlyList<double[]> states, int samples, IReadOnlyList<int> widths, IReadOnlyList<(int I, int J)> pairs,
        CrossReduction reduction, Action<int, int>? progress = null, CkaMethod method = CkaMethod.Auto)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(pairs);
        var x = states.ToArray(); // read every network's states once (the caller may compute them on demand)
        var result = new double[pairs.Count];
        for (int p = 0; p < pairs.Count; p++)
        {
            var (i, j) = pairs[p];
            var c = Cross(x[i], x[j], samples, widths[i], widths[j]);
            result[p] = reduction == CrossReduction.Nuclear
                ? Matrix<double>.Build.Dense(widths[i], widths[j], (a, b) => c[a * widths[j] + b]).Svd(false).S.Sum()
                : c.Sum(x => x * x);
            progress?.Invoke(p + 1, pairs.Count);
        }

        return result;
    }

    /// <inheritdoc />
    public double[] FitDsaOperator(ReadOnlySpan<float> states, int trials, int steps, int width, DsaOptions options)
        => DsaOperator.FitReference(states, trials, steps, width, options);

    /// <inheritdoc />
    public double[][] AlignDsa(IReadOnlyList<double[]> a, IReadOnlyList<double[]> b, int rank, int iterations, double learningRate,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var rotations = new double[a.Count][];
        for (int q = 0; q < a.Count; q++)
        {
            rotations[q] = Align(a[q], b[q], rank, iterations, learningRate);
            progress?.Invoke(q + 1, a.Count);
        }

        return rotations;
    }

    /// <inheritdoc />
    public PifResult[] Faq(IReadOnlyList<double[]> weights, int n, IReadOnlyList<(int I, int J)> pairs, int maxIterations = 30, double tolerance = 0.03,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(pairs);
        var results = new PifResult[pairs.Count];
        var grad = new double[n * n];
        var bp = new double[n * n];
        for (int p = 0; p < pairs.Count; p++)
        {
            var (i, j) = pairs[p];
            var solver = new FaqSolver(weights[i], weights[j], n, tolerance);
            while (!solver.Done && solver.Iterations < maxIterations)
            {
                FaqGradient(weights[i], weights[j], solver.P, n, grad, bp);
                solver.Step(grad, bp);
            }

            results[p] = solver.Result();
            progress?.Invoke(p + 1, pairs.Count);
        }

        return results;
    }

    /// <summary>∇f = (W₂ P) W₁ᵀ + (W₂ᵀ P) W₁ into <paramref name="grad"/> and W₂ P into <paramref name="bp"/>, by triple loops (row-major n × n).</summary>
    public static void FaqGradient(double[] w1, double[] w2, double[] p, int n, double[] grad, double[] bp)
    {
        var tp = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0, t = 0;
                for (int k = 0; k < n; k++)
                {
                    s += w2[i * n + k] * p[k * n + j];
                    t += w2[k * n + i] * p[k * n + j];
                }

                bp[i * n + j] = s;
                tp[i * n + j] = t;
            }
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++)
                {
                    s += bp[i * n + k] * w1[j * n + k] + tp[i * n + k] * w1[k * n + j];
                }

                grad[i * n + j] = s;
            }
        }
    }

    /// <summary>C = X_iᵀ X_j ([N_i][N_j]) of two row-major [S][N] matrices, summed over samples in order.</summary>
    private static double[] Cross(double[] x, double[] y, int samples, int nx, int ny)
    {
        var c = new double[nx * ny];
        for (int a = 0; a < nx; a++)
        {
            for (int b = 0; b < ny; b++)
            {
                double sum = 0;
                for (int s = 0; s < samples; s++)
                {
                    sum += x[s * nx + a] * y[s * ny + b];
                }

                c[a * ny + b] = sum;
            }
        }

        return c;
    }

    /// <summary>One alignment problem in float64 scalar code: Adam on the Cayley parameter (see <c>DsaAlignment</c> for the formulas); returns the final C.</summary>
    public static double[] Align(double[] a, double[] b, int r, int iterations, double lr)
    {
        int rr = r * r;
        var x = new double[rr];
        var m = new double[rr];
        var v = new double[rr];
        var c = new double[rr];
        var inv = new double[rr];
        var cb = new double[rr];
        var res = new double[rr];
        var g = new double[rr];
        for (int it = 1; it <= iterations; it++)
        {
            Cayley(x, r, c, inv);
            Residual(a, b, c, r, cb, res);
            // G = 2 (R C Bᵀ + Rᵀ C B)
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < r; k++)
                    {
                        double rc = 0;
                        for (int l = 0; l < r; l++)
                        {
                            rc += res[i * r + l] * c[l * r + k];
                        }

                        sum += rc * b[j * r + k] + res[k * r + i] * cb[k * r + j];
                    }

                    g[i * r + j] = 2 * sum;
                }
            }

            // ∂f/∂S = −Mᵀ G (C + I)ᵀ, then ∂f/∂X = (∂f/∂S − ∂f/∂Sᵀ)/2
            var gs = new double[rr];
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < r; k++)
                    {
                        double mg = 0;
                        for (int l = 0; l < r; l++)
                        {
                            mg += inv[l * r + i] * g[l * r + k];
                        }

                        sum += mg * (c[j * r + k] + (j == k ? 1 : 0));
                    }

                    gs[i * r + j] = -sum;
                }
            }

            var coefficients = AdamMath.Coefficients64(lr, it);
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    double gx = 0.5 * (gs[i * r + j] - gs[j * r + i]);
                    int k = i * r + j;
                    AdamMath.Update(ref x[k], ref m[k], ref v[k], gx, coefficients);
                }
            }
        }

        Cayley(x, r, c, inv);
        return c;
    }

    /// <summary>C = (I + S)⁻¹(I − S) and M = (I + S)⁻¹ for S = (X − Xᵀ)/2 (Gauss–Jordan; I + S never needs pivoting).</summary>
    private static void Cayley(double[] x, int r, double[] c, double[] inv)
    {
        var p = new double[r * r];
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                double s = 0.5 * (x[i * r + j] - x[j * r + i]);
                p[i * r + j] = (i == j ? 1 : 0) + s;
                inv[i * r + j] = i == j ? 1 : 0;
            }
        }

        for (int k = 0; k < r; k++)
        {
            double piv = 1 / p[k * r + k];
            for (int j = 0; j < r; j++)
            {
                p[k * r + j] *= piv;
                inv[k * r + j] *= piv;
            }

            for (int i = 0; i < r; i++)
            {
                if (i == k)
                {
                    continue;
                }

                double f = p[i * r + k];
                for (int j = 0; j < r; j++)
                {
                    p[i * r + j] -= f * p[k * r + j];
                    inv[i * r + j] -= f * inv[k * r + j];
                }
            }
        }

        // C = M (I − S) = 2M − I·… : (I − S) = 2I − (I + S), so C = 2M − I.
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                c[i * r + j] = 2 * inv[i * r + j] - (i == j ? 1 : 0);
            }
        }
    }

    /// <summary>cb = C B and res = C B Cᵀ − A.</summary>
    private static void Residual(double[] a, double[] b, double[] c, int r, double[] cb, double[] res)
    {
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                double sum = 0;
                for (int k = 0; k < r; k++)
                {
                    sum += c[i * r + k] * b[k * r + j];
                }

                cb[i * r + j] = sum;
            }
        }

        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                double sum = 0;
                for (int k = 0; k < r; k++)
                {
                    sum += cb[i * r + k] * c[j * r + k];
                }

                res[i * r + j] = sum - a[i * r + j];
            }
        }
    }
}
