using System.Numerics.Tensors;
using Engine.Backends;
using Engine.Util;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Distances;

/// <summary>Exact distances near 0: the pairs a fast path puts close together, recomputed in float64.</summary>
/// <remarks>
/// The fast paths form cross products in float32: ‖X_iᵀ X_j‖ then carries a relative error of about 1e-7, and
/// arccos(1 − δ) ≈ √(2δ) turns that into 1e-4 rad between a network and its own rotated, scaled copy. Far from 0 the same
/// error moves an angle by about 1e-7 rad. So every pair whose fast angle is below <see cref="Threshold"/> gets its
/// products again in float64 (<see cref="Products"/>: column dot products with SIMD, nuclear norms from a float64 SVD of
/// the cross product), which reads 1e-8 rad or less for such copies; the rest keep the fast path's numbers and speed.
/// </remarks>
public static class NearZero
{
    /// <summary>Fast-path angles below this (rad) are recomputed in float64.</summary>
    public const double Threshold = 1e-2;

    /// <summary>The float64 reduction of X_iᵀ X_j for each pair: ‖·‖²_F or ‖·‖_*.</summary>
    /// <param name="states">X_e per network, row-major float64 [samples][widths[e]]; only the networks the pairs name are read.</param>
    /// <param name="samples">S.</param>
    /// <param name="widths">N_e per network.</param>
    /// <param name="pairs">(i, j) network indices.</param>
    /// <param name="reduction">What the cross product is reduced to.</param>
    /// <param name="threads">Host threads (0: all cores).</param>
    public static double[] Products(IReadOnlyList<double[]> states, int samples, IReadOnlyList<int> widths, IReadOnlyList<(int I, int J)> pairs,
        CrossReduction reduction, int threads)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(pairs);
        var nets = pairs.SelectMany(p => new[] { p.I, p.J }).Distinct().ToArray();
        var columns = new Dictionary<int, double[]>();
        var cols = new double[nets.Length][];
        Parallelism.For(nets.Length, threads, k =>
        {
            // column-major [N][S]: each entry of the cross product is one contiguous dot product
            int n = widths[nets[k]];
            var x = states[nets[k]];
            var c = new double[(long)n * samples];
            for (int s = 0; s < samples; s++)
            {
                for (int a = 0; a < n; a++)
                {
                    c[(long)a * samples + s] = x[(long)s * n + a];
                }
            }

            cols[k] = c;
        });
        for (int k = 0; k < nets.Length; k++)
        {
            columns[nets[k]] = cols[k];
        }

        var result = new double[pairs.Count];
        Parallelism.For(pairs.Count, threads, p =>
        {
            var (i, j) = pairs[p];
            int ni = widths[i], nj = widths[j];
            var xi = columns[i];
            var xj = columns[j];
            var c = new double[ni * nj];
            for (int a = 0; a < ni; a++)
            {
                var ca = xi.AsSpan(a * samples, samples);
                for (int b = 0; b < nj; b++)
                {
                    c[a * nj + b] = TensorPrimitives.Dot<double>(ca, xj.AsSpan(b * samples, samples));
                }
            }

            result[p] = reduction == CrossReduction.Nuclear
                ? Matrix<double>.Build.Dense(ni, nj, (a, b) => c[a * nj + b]).Svd(false).S.Sum()
                : TensorPrimitives.Dot<double>(c, c);
        });
        return result;
    }
}
