using System.Globalization;
using Engine.Numerics;
using Engine.Util;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Distances;

/// <summary>The shape metric family of Williams et al. (2021, netrep) with partial whitening α ∈ [0, 1].</summary>
/// <remarks>
/// Per network: centre X (S × N), Σ = XᵀX / S = V diag(λ) Vᵀ, partial whitening X̃ = X V diag(α + (1 − α) λ^(−1/2)) Vᵀ
/// (λ clamped below at 1e-10·max λ; α = 1 leaves X unchanged, α = 0 whitens fully, the CCA-like end). Networks of
/// different widths are zero-padded to the wider one. Per pair, the orthogonal Procrustes rotation Q = U Vᵀ from the
/// SVD X̃_iᵀ X̃_j = U Σ Vᵀ aligns them, and d = arccos(⟨X̃_i Q, X̃_j⟩ / (‖X̃_i‖_F ‖X̃_j‖_F)) ∈ [0, π/2]; since
/// ⟨X̃_i Q, X̃_j⟩ = tr Σ this is arccos(‖X̃_iᵀ X̃_j‖_* / (‖X̃_i‖ ‖X̃_j‖)). α = 1 is invariant to orthogonal maps and
/// isotropic scaling; α = 0 to any invertible linear map. <see cref="Reference"/> forms Q explicitly from a full SVD;
/// <see cref="Compute"/> takes the nuclear norm from the eigenvalues of the smaller Gram of the float32 cross product
/// computed by the SIMD kernel.
/// </remarks>
public static class ShapeMetric
{
    /// <summary>The whitened, centred states X̃ (float64 [S][N]).</summary>
    public static double[] Whiten(ReadOnlySpan<float> states, int samples, int width, double alpha)
    {
        if (!(alpha >= 0 && alpha <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"alpha must be in [0, 1], got {alpha}.");
        }

        var x = Centering.Centered(states, samples, width);
        if (alpha == 1)
        {
            return x;
        }

        var cov = Matrix<double>.Build.Dense(width, width);
        for (int a = 0; a < width; a++)
        {
            for (int b = a; b < width; b++)
            {
                double c = 0;
                for (int s = 0; s < samples; s++)
                {
                    c += x[s * width + a] * x[s * width + b];
                }

                cov[a, b] = cov[b, a] = c / samples;
            }
        }

        var evd = cov.Evd(Symmetricity.Symmetric);
        var lam = evd.EigenValues.Select(z => z.Real).ToArray();
        double floor = Math.Max(lam.Max(), double.Epsilon) * 1e-10;
        var v = evd.EigenVectors;
        var d = lam.Select(l => alpha + (1 - alpha) / Math.Sqrt(Math.Max(l, floor))).ToArray();
        var z = Matrix<double>.Build.Dense(width, width, (a, b) =>
        {
            double sum = 0;
            for (int k = 0; k < width; k++)
            {
                sum += v[a, k] * d[k] * v[b, k];
            }

            return sum;
        });
        var y = new double[samples * width];
        for (int s = 0; s < samples; s++)
        {
            for (int b = 0; b < width; b++)
            {
                double sum = 0;
                for (int a = 0; a < width; a++)
                {
                    sum += x[s * width + a] * z[a, b];
                }

                y[s * width + b] = sum;
            }
        }

        return y;
    }

    /// <summary>The E × E shape-metric matrix, fast path.</summary>
    public static PairwiseMatrix Compute(StateSet states, double alpha, int threads = 0, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(states);
        int e = states.Networks, s = states.Samples;
        var x = new double[e][];
        Parallelism.For(e, threads, n => x[n] = Whiten(states.States[n], s, states.Widths[n], alpha));
        var norms = x.Select(v => Math.Sqrt(v.Sum(t => t * t))).ToArray();
        CheckNorms(states, norms);
        using var packed = new PackedStates(s, states.Widths, (n, dst, pad) => Centering.Pack(x[n], s, states.Widths[n], dst, pad));
        var pairs = PairwiseMatrix.Pairs(e);
        var nuclear = new double[pairs.Length];
        CrossGram.Run(packed, pairs, threads, (p, _, c, rows, cols, ldc) => nuclear[p] = NuclearNorm(c, rows, cols, ldc),
            done => progress?.Invoke(done, pairs.Length));
        var m = new PairwiseMatrix(states.Ids, Name(alpha));
        for (int p = 0; p < pairs.Length; p++)
        {
            var (i, j) = pairs[p];
            m.Set(i, j, Cka.Angle(nuclear[p] / (norms[i] * norms[j])));
        }

        return m;
    }

    /// <summary>The E × E shape-metric matrix by plain float64 loops and an explicit Procrustes rotation (the oracle).</summary>
    public static PairwiseMatrix Reference(StateSet states, double alpha)
    {
        ArgumentNullException.ThrowIfNull(states);
        int e = states.Networks, s = states.Samples, n = states.MaxWidth;
        var x = Enumerable.Range(0, e).Select(k => Pad(Whiten(states.States[k], s, states.Widths[k], alpha), s, states.Widths[k], n)).ToArray();
        var norms = x.Select(v => Math.Sqrt(v.Sum(t => t * t))).ToArray();
        CheckNorms(states, norms);
        var m = new PairwiseMatrix(states.Ids, Name(alpha));
        foreach (var (i, j) in PairwiseMatrix.Pairs(e))
        {
            var cross = Matrix<double>.Build.Dense(n, n);
            for (int a = 0; a < n; a++)
            {
                for (int b = 0; b < n; b++)
                {
                    double c = 0;
                    for (int t = 0; t < s; t++)
                    {
                        c += x[i][t * n + a] * x[j][t * n + b];
                    }

                    cross[a, b] = c;
                }
            }

            var svd = cross.Svd(true);
            var q = svd.U * svd.VT;
            double inner = 0;
            for (int t = 0; t < s; t++)
            {
                for (int b = 0; b < n; b++)
                {
                    double rotated = 0;
                    for (int a = 0; a < n; a++)
                    {
                        rotated += x[i][t * n + a] * q[a, b];
                    }

                    inner += rotated * x[j][t * n + b];
                }
            }

            m.Set(i, j, Cka.Angle(inner / (norms[i] * norms[j])));
        }

        return m;
    }

    /// <summary>The metric's name in files: <c>shape_a0.5</c>.</summary>
    public static string Name(double alpha) => string.Create(CultureInfo.InvariantCulture, $"shape_a{alpha:0.###}");

    /// <summary>Σ σ_k of the rows × cols block of c, from the eigenvalues of its smaller Gram (float64).</summary>
    internal static double NuclearNorm(ReadOnlySpan<float> c, int rows, int cols, int ldc)
    {
        bool byRows = rows <= cols;
        int k = byRows ? rows : cols, inner = byRows ? cols : rows;
        var g = Matrix<double>.Build.Dense(k, k);
        for (int a = 0; a < k; a++)
        {
            for (int b = a; b < k; b++)
            {
                double sum = 0;
                for (int t = 0; t < inner; t++)
                {
                    sum += byRows ? (double)c[a * ldc + t] * c[b * ldc + t] : (double)c[t * ldc + a] * c[t * ldc + b];
                }

                g[a, b] = g[b, a] = sum;
            }
        }

        return g.Evd(Symmetricity.Symmetric).EigenValues.Sum(z => Math.Sqrt(Math.Max(z.Real, 0)));
    }

    private static double[] Pad(double[] x, int samples, int width, int padded)
    {
        if (width == padded)
        {
            return x;
        }

        var y = new double[samples * padded];
        for (int s = 0; s < samples; s++)
        {
            Array.Copy(x, s * width, y, s * padded, width);
        }

        return y;
    }

    private static void CheckNorms(StateSet states, double[] norms)
    {
        for (int n = 0; n < norms.Length; n++)
        {
            if (!(norms[n] > 0))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Network {states.Ids[n]} has constant states (zero variance over the {states.Samples} samples): its shape distance is undefined."), nameof(states));
            }
        }
    }
}
