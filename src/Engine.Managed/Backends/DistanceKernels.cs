namespace Engine.Backends;

/// <summary>How the fast CPU path forms ‖X_iᵀ X_j‖²_F.</summary>
public enum CkaMethod
{
    /// <summary>Whichever of the two needs fewer FLOP.</summary>
    Auto,

    /// <summary>Feature space: every cross product X_iᵀ X_j (2·S·N_i·N_j FLOP per pair).</summary>
    Features,

    /// <summary>Sample space: ⟨X_i X_iᵀ, X_j X_jᵀ⟩ by blocks of samples (≈ S² FLOP per pair plus S² N per network).</summary>
    Samples,
}

/// <summary>The work of the two ways to form every ‖X_iᵀ X_j‖²_F of E networks (S samples, width N), for choosing one and for GFLOP/s.</summary>
public static class CkaFlops
{
    /// <summary>Samples per block of the sample-space method.</summary>
    public const int SampleBlock = 64;

    /// <summary>Feature space: E(E+1)/2 cross products of 2·S·N² FLOP.</summary>
    public static double FeatureSpace(int e, int s, int n) => e * (e + 1) / 2.0 * 2.0 * s * n * n;

    /// <summary>Sample space: ≈ S²E²/2 + S²EN with S rounded up to whole blocks of <see cref="SampleBlock"/>.</summary>
    public static double SampleSpace(int e, int s, int n)
    {
        double sp = Math.Ceiling(s / (double)SampleBlock) * SampleBlock;
        return sp * sp / 2 * ((double)e * e + 2.0 * e * n);
    }
}

/// <summary>What a pair's cross product X_iᵀ X_j is reduced to.</summary>
public enum CrossReduction
{
    /// <summary>‖X_iᵀ X_j‖²_F: linear CKA's numerator (on centred states).</summary>
    SquaredFrobenius,

    /// <summary>‖X_iᵀ X_j‖_*, the sum of singular values: the shape metric's Procrustes inner product (on whitened states).</summary>
    Nuclear,
}

/// <summary>The heavy, batched parts of the distance matrices on one device (<see cref="IEnsembleBackend.Distances"/>).</summary>
/// <remarks>
/// Three implementations side by side: the float64 reference (plain loops, one thread: the oracle), the fast CPU path
/// (float32 SIMD cross products and DSA alignments, threads over pairs) and the ILGPU kernels (cross products and norms,
/// one DSA problem per thread, batched Frank–Wolfe gradients). The analyses (<c>Cka</c>, <c>ShapeMetric</c>, <c>Dsa</c>,
/// <c>WeightDistance</c>) prepare the inputs (centring, whitening, normalising, padding), call these and assemble the
/// matrices, so every path runs the same protocol. Progress callbacks receive (done, total).
/// </remarks>
public interface IDistanceKernels
{
    /// <summary>For each pair (i, j), the cross product C = X_iᵀ X_j of two state matrices reduced to one number.</summary>
    /// <param name="states">X_e per network, row-major float64 [samples][widths[e]] (already centred or whitened); an implementation reads each network once, so the list may compute them on demand.</param>
    /// <param name="samples">S, rows of every X_e.</param>
    /// <param name="widths">N_e per network.</param>
    /// <param name="pairs">(i, j) network indices; (i, i) gives the network's own norm.</param>
    /// <param name="reduction">‖C‖²_F or ‖C‖_*.</param>
    /// <param name="progress">Called with (pairs done, pairs).</param>
    /// <param name="method">The fast CPU path's way of forming ‖C‖²_F (other paths ignore it).</param>
    double[] CrossProducts(IReadOnlyList<double[]> states, int samples, IReadOnlyList<int> widths, IReadOnlyList<(int I, int J)> pairs,
        CrossReduction reduction, Action<int, int>? progress = null, CkaMethod method = CkaMethod.Auto);

    /// <summary>DSA's r × r linear operator of one network's states [trials][steps][width] (row-major float64; see <see cref="DsaOperator"/>).</summary>
    double[] FitDsaOperator(ReadOnlySpan<float> states, int trials, int steps, int width, DsaOptions options);

    /// <summary>
    /// Each alignment problem q: min over orthogonal C = Cayley(S) of ‖C B_q Cᵀ − A_q‖²_F by Adam from C = I (the published
    /// optimiser), for unit-norm r × r operators; returns C per problem (r × r row-major, orthogonal to the path's precision).
    /// The caller scores C in float64 (<c>DsaDescent.Score</c>), so every path reports a pair the same way.
    /// </summary>
    double[][] AlignDsa(IReadOnlyList<double[]> a, IReadOnlyList<double[]> b, int rank, int iterations, double learningRate,
        Action<int, int>? progress = null);

    /// <summary>FAQ (Frank–Wolfe over doubly-stochastic matrices, see <see cref="FaqSolver"/>) on each pair of zero-padded n × n weights.</summary>
    /// <param name="weights">W per network, row-major float64 n × n.</param>
    /// <param name="n">The common (padded) width.</param>
    /// <param name="pairs">(W₁, W₂) network indices.</param>
    /// <param name="maxIterations">Frank–Wolfe iterations at most.</param>
    /// <param name="tolerance">A pair stops when ‖ΔP‖_F/√n is below this.</param>
    /// <param name="progress">Called with (pairs done, pairs).</param>
    PifResult[] Faq(IReadOnlyList<double[]> weights, int n, IReadOnlyList<(int I, int J)> pairs, int maxIterations = 30, double tolerance = 0.03,
        Action<int, int>? progress = null);
}
