using System.Globalization;
using Engine.Backends;
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
/// isotropic scaling; α = 0 to any invertible linear map. The nuclear norms ‖X̃_iᵀ X̃_j‖_* come from the backend's
/// distance kernels (<see cref="IDistanceKernels.CrossProducts"/>): a full float64 SVD on the reference, the eigenvalues of
/// the smaller Gram of the float32 SIMD cross product on the CPU, the device's cross products on an ILGPU backend; pairs
/// closer than <see cref="NearZero.Threshold"/> are recomputed in float64 (<see cref="NearZero"/>).
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

    /// <summary>The E × E shape-metric matrix.</summary>
    /// <param name="backend">The device whose distance kernels form the cross products and their nuclear norms; whitening runs on its host threads.</param>
    /// <param name="states">Recorded states.</param>
    /// <param name="alpha">Partial whitening α ∈ [0, 1].</param>
    /// <param name="progress">Called with (pairs done, pairs).</param>
    public static PairwiseMatrix Compute(IEnsembleBackend backend, StateSet states, double alpha, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(states);
        int e = states.Networks, s = states.Samples;
        var x = new double[e][];
        Parallelism.For(e, backend.Threads, n => x[n] = Whiten(states.States[n], s, states.Widths[n], alpha));
        var norms = x.Select(v => Math.Sqrt(v.Sum(t => t * t))).ToArray();
        CheckNorms(states, norms);
        var pairs = PairwiseMatrix.Pairs(e);
        var nuclear = backend.Distances.CrossProducts(x, s, states.Widths, pairs, CrossReduction.Nuclear, progress);
        var m = new PairwiseMatrix(states.Ids, Name(alpha));
        var near = new List<int>();
        for (int p = 0; p < pairs.Length; p++)
        {
            var (i, j) = pairs[p];
            double angle = Cka.Angle(nuclear[p] / (norms[i] * norms[j]));
            m.Set(i, j, angle);
            if (angle < NearZero.Threshold)
            {
                near.Add(p);
            }
        }

        if (near.Count > 0)
        {
            // Close pairs again in float64 (see NearZero); the norms already are.
            var exact = NearZero.Products(x, s, states.Widths, near.Select(p => pairs[p]).ToArray(), CrossReduction.Nuclear, backend.Threads);
            for (int k = 0; k < near.Count; k++)
            {
                var (i, j) = pairs[near[k]];
                m.Set(i, j, Cka.Angle(exact[k] / (norms[i] * norms[j])));
            }
        }

        return m;
    }

    /// <summary>The metric's name in files: <c>shape_a0.5</c>.</summary>
    public static string Name(double alpha) => string.Create(CultureInfo.InvariantCulture, $"shape_a{alpha:0.###}");

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
