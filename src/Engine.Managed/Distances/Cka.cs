using System.Globalization;
using Engine.Numerics;

namespace Engine.Distances;

/// <summary>How the fast CKA path forms ‖X_iᵀ X_j‖²_F.</summary>
public enum CkaMethod
{
    /// <summary>Whichever of the two needs fewer FLOP.</summary>
    Auto,

    /// <summary>Feature space: every cross product X_iᵀ X_j (2·S·N_i·N_j FLOP per pair).</summary>
    Features,

    /// <summary>Sample space: ⟨X_i X_iᵀ, X_j X_jᵀ⟩ by blocks of samples (≈ S² FLOP per pair plus S² N per network).</summary>
    Samples,
}

/// <summary>Linear CKA (Kornblith et al. 2019) as the angular distance arccos(CKA), for whole ensembles.</summary>
/// <remarks>
/// Each network's states X_e (S × N_e) are centred per unit. CKA(i, j) = ‖X_jᵀ X_i‖²_F / (‖X_iᵀ X_i‖_F ‖X_jᵀ X_j‖_F) ∈ [0, 1];
/// the distance is arccos(CKA) ∈ [0, π/2], a metric (netrep's angular CKA). Invariant to orthogonal transforms and
/// isotropic scaling of either network's states; widths may differ. <see cref="Reference"/> is the float64 loop oracle;
/// <see cref="Compute"/> packs centred states as float32 and either runs every X_iᵀ X_j (i ≤ j) through the SIMD
/// cross-product kernel, threads over pairs (2·S·N_i·N_j FLOP per pair, E(E+1)/2 pairs), or, when S is small against
/// N², uses ‖X_iᵀ X_j‖²_F = ⟨X_i X_iᵀ, X_j X_jᵀ⟩ by blocks of samples (<see cref="CkaSampleSpace"/>).
/// </remarks>
public static class Cka
{
    /// <summary>The E × E arccos(CKA) matrix, fast path.</summary>
    /// <param name="states">Recorded states.</param>
    /// <param name="threads">Worker threads (0: all cores).</param>
    /// <param name="progress">Called with the number of finished pair products (out of E(E+1)/2): per pair in the feature-space method, once when done in the sample-space method.</param>
    /// <param name="method">Feature-space or sample-space products (default: the one with fewer FLOP).</param>
    public static PairwiseMatrix Compute(StateSet states, int threads = 0, Action<int, int>? progress = null, CkaMethod method = CkaMethod.Auto)
    {
        ArgumentNullException.ThrowIfNull(states);
        int e = states.Networks, s = states.Samples;
        using var packed = new PackedStates(s, states.Widths, (n, dst, pad) =>
            Centering.Pack(Centering.Centered(states.States[n], s, states.Widths[n]), s, states.Widths[n], dst, pad));
        if (method == CkaMethod.Samples || (method == CkaMethod.Auto && CkaSampleSpace.Flops(e, s, packed.Padded.Max()) < FeatureFlops(e, s, packed.Padded.Max())))
        {
            var h = CkaSampleSpace.Hsic(packed, threads);
            var diag = Enumerable.Range(0, e).Select(i => h[i * e + i]).ToArray();
            CheckVariance(states, diag);
            var result = new PairwiseMatrix(states.Ids, "cka");
            foreach (var (i, j) in PairwiseMatrix.Pairs(e))
            {
                result.Set(i, j, Angle(h[i * e + j] / Math.Sqrt(diag[i] * diag[j])));
            }

            progress?.Invoke(e * (e + 1) / 2, e * (e + 1) / 2);
            return result;
        }

        var pairs = new List<(int, int)>(e * (e + 1) / 2);
        for (int i = 0; i < e; i++)
        {
            for (int j = i; j < e; j++)
            {
                pairs.Add((i, j));
            }
        }

        var hsic = new double[pairs.Count];
        CrossGram.Run(packed, pairs, threads, (p, _, c, rows, cols, ldc) =>
        {
            double sum = 0;
            for (int r = 0; r < rows; r++)
            {
                var row = c.Slice(r * ldc, cols);
                for (int k = 0; k < row.Length; k++)
                {
                    sum += (double)row[k] * row[k];
                }
            }

            hsic[p] = sum;
        }, done => progress?.Invoke(done, pairs.Count));

        var self = new double[e];
        for (int p = 0; p < pairs.Count; p++)
        {
            if (pairs[p].Item1 == pairs[p].Item2)
            {
                self[pairs[p].Item1] = hsic[p];
            }
        }

        CheckVariance(states, self);
        var m = new PairwiseMatrix(states.Ids, "cka");
        for (int p = 0; p < pairs.Count; p++)
        {
            var (i, j) = pairs[p];
            if (i != j)
            {
                m.Set(i, j, Angle(hsic[p] / Math.Sqrt(self[i] * self[j])));
            }
        }

        return m;
    }

    /// <summary>FLOP of the feature-space method: E(E+1)/2 products of 2·S·N² FLOP.</summary>
    public static double FeatureFlops(int e, int s, int n) => e * (e + 1) / 2.0 * 2.0 * s * n * n;

    /// <summary>The E × E arccos(CKA) matrix by plain float64 loops (the oracle).</summary>
    public static PairwiseMatrix Reference(StateSet states)
    {
        ArgumentNullException.ThrowIfNull(states);
        int e = states.Networks, s = states.Samples;
        var x = Enumerable.Range(0, e).Select(n => Centering.Centered(states.States[n], s, states.Widths[n])).ToArray();
        var self = Enumerable.Range(0, e).Select(n => Hsic(x[n], x[n], s, states.Widths[n], states.Widths[n])).ToArray();
        CheckVariance(states, self);
        var m = new PairwiseMatrix(states.Ids, "cka");
        foreach (var (i, j) in PairwiseMatrix.Pairs(e))
        {
            m.Set(i, j, Angle(Hsic(x[i], x[j], s, states.Widths[i], states.Widths[j]) / Math.Sqrt(self[i] * self[j])));
        }

        return m;
    }

    /// <summary>‖Xᵀ Y‖²_F of two centred float64 matrices [S][nx], [S][ny].</summary>
    internal static double Hsic(double[] x, double[] y, int samples, int nx, int ny)
    {
        double sum = 0;
        for (int a = 0; a < nx; a++)
        {
            for (int b = 0; b < ny; b++)
            {
                double c = 0;
                for (int s = 0; s < samples; s++)
                {
                    c += x[s * nx + a] * y[s * ny + b];
                }

                sum += c * c;
            }
        }

        return sum;
    }

    /// <summary>arccos of a similarity clamped to [−1, 1].</summary>
    internal static double Angle(double similarity) => Math.Acos(Math.Clamp(similarity, -1.0, 1.0));

    private static void CheckVariance(StateSet states, double[] self)
    {
        for (int n = 0; n < self.Length; n++)
        {
            if (!(self[n] > 0))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Network {states.Ids[n]} has constant states (zero variance over the {states.Samples} samples): its CKA is undefined."), nameof(states));
            }
        }
    }
}
