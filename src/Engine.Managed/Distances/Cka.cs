using System.Globalization;
using Engine.Backends;
using Engine.Numerics;
using Engine.Util;

namespace Engine.Distances;

/// <summary>Linear CKA (Kornblith et al. 2019) as the angular distance arccos(CKA), for whole ensembles.</summary>
/// <remarks>
/// Each network's states X_e (S × N_e) are centred per unit. CKA(i, j) = ‖X_jᵀ X_i‖²_F / (‖X_iᵀ X_i‖_F ‖X_jᵀ X_j‖_F) ∈ [0, 1];
/// the distance is arccos(CKA) ∈ [0, π/2], a metric (netrep's angular CKA). Invariant to orthogonal transforms and
/// isotropic scaling of either network's states; widths may differ. The squared norms ‖X_iᵀ X_j‖²_F of every pair i ≤ j
/// come from the backend's distance kernels (<see cref="IDistanceKernels.CrossProducts"/>): float64 loops on the
/// reference, float32 SIMD feature-space or sample-space products on the CPU, the cross-product kernels on an ILGPU device;
/// pairs closer than <see cref="NearZero.Threshold"/> are recomputed in float64 (<see cref="NearZero"/>), so a network
/// and its rotated, scaled copy read 0 to about 1e-8 rad on every path.
/// </remarks>
public static class Cka
{
    /// <summary>The E × E arccos(CKA) matrix.</summary>
    /// <param name="backend">The device whose distance kernels form the cross products.</param>
    /// <param name="states">Recorded states.</param>
    /// <param name="progress">Called with the number of finished pair products (out of E(E+1)/2): per pair in the feature-space method, once when done in the sample-space method.</param>
    /// <param name="method">The CPU path's feature-space or sample-space products (default: the one with fewer FLOP).</param>
    public static PairwiseMatrix Compute(IEnsembleBackend backend, StateSet states, Action<int, int>? progress = null, CkaMethod method = CkaMethod.Auto)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(states);
        int e = states.Networks, s = states.Samples;
        // centred on demand, one network at a time: all of them at once would be E·S·N doubles (262 MB at E = 256, S = 2000, N = 64)
        var x = new ComputedList<double[]>(e, n => Centering.Centered(states.States[n], s, states.Widths[n]));
        var pairs = new List<(int, int)>(e * (e + 1) / 2);
        for (int i = 0; i < e; i++)
        {
            for (int j = i; j < e; j++)
            {
                pairs.Add((i, j));
            }
        }

        var hsic = backend.Distances.CrossProducts(x, s, states.Widths, pairs, CrossReduction.SquaredFrobenius, progress, method);
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
        var near = new List<(int, int)>();
        for (int p = 0; p < pairs.Count; p++)
        {
            var (i, j) = pairs[p];
            if (i != j)
            {
                double angle = Angle(hsic[p] / Math.Sqrt(self[i] * self[j]));
                m.Set(i, j, angle);
                if (angle < NearZero.Threshold)
                {
                    near.Add((i, j));
                }
            }
        }

        if (near.Count > 0)
        {
            // Close pairs again in float64, their own norms with them (see NearZero).
            var own = near.SelectMany(p => new[] { p.Item1, p.Item2 }).Distinct().Select(n => (n, n)).ToList();
            var exact = NearZero.Products(x, s, states.Widths, [.. near, .. own], CrossReduction.SquaredFrobenius, backend.Threads);
            var exactSelf = new Dictionary<int, double>();
            for (int k = 0; k < own.Count; k++)
            {
                exactSelf[own[k].Item1] = exact[near.Count + k];
            }

            for (int k = 0; k < near.Count; k++)
            {
                var (i, j) = near[k];
                m.Set(i, j, Angle(exact[k] / Math.Sqrt(exactSelf[i] * exactSelf[j])));
            }
        }

        return m;
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
