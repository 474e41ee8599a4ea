using System.Globalization;
using System.Numerics.Tensors;
using Engine.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Backends;

/// <summary>Per-network linear operators of DSA: delay embedding, rank-r SVD coordinates, ridge regression (HAVOK/DMD).</summary>
/// <remarks>
/// For trial b the delay embedding stacks, for t = (d − 1)τ … T − 1, the row h_t = [x_t, x_{t−τ}, …, x_{t−(d−1)τ}] (d·N
/// values); rows of all trials form H (R × dN, R = B(T − (d − 1)τ)). With H = U Σ Vᵀ the reduced coordinates are the
/// first r left singular vectors Z = H V_r Σ_r⁻¹ = U_r (R × r, DSA's "V" coordinates). The operator A (r × r) maps
/// z_t to z_{t+1} within each trial: A = (Z₊ᵀ Z₋)(Z₋ᵀ Z₋ + λ I)⁻¹. <see cref="FitReference"/> takes a full SVD of H;
/// <see cref="Fit"/> forms the Gram HᵀH with the float32 SIMD cross-product kernel (2·R·(dN)² FLOP), finds its top r eigenvectors by subspace iteration
/// (block of r + 8, Rayleigh–Ritz), takes σ²_k = ‖H v_k‖² in float64 for the rank test and Σ, and applies the same regression. The two agree up to signs of the coordinates,
/// a similarity that DSA is invariant to; both fix each coordinate's sign so that its largest-magnitude sample is
/// positive. That matters: a sign flip is an orthogonal map with eigenvalue −1, which the Cayley parameterisation of
/// the alignment cannot reach, so without the convention two identical dynamics could score far apart.
/// </remarks>
public static class DsaOperator
{
    /// <summary>The r × r operator of one network (row-major float64), fast path.</summary>
    public static double[] Fit(ReadOnlySpan<float> states, int trials, int steps, int width, DsaOptions options)
    {
        var (h, rows, cols) = Embed(states, trials, steps, width, options);
        int r = options.Rank;
        var g = Gram(h, rows, cols);
        var (_, vectors) = TopEigen(g, cols, r);
        // Z = H V_r Σ_r⁻¹ with σ²_k = ‖H v_k‖² in float64, not the float32 Gram's eigenvalue: that one is off by about
        // 1e-7 σ²_1, so on states of rank below r it came out anywhere in ±1e-8 σ²_1 and the rank test passed or failed by chance.
        var z = new double[rows * r];
        var squares = new double[r];
        for (int k = 0; k < r; k++)
        {
            var vk = vectors.AsSpan(k * cols, cols);
            for (int s = 0; s < rows; s++)
            {
                double v = TensorPrimitives.Dot<double>(h.AsSpan(s * cols, cols), vk);
                z[s * r + k] = v;
                squares[k] += v * v;
            }
        }

        CheckRank(squares, r);
        for (int k = 0; k < r; k++)
        {
            double inv = 1 / Math.Sqrt(squares[k]);
            for (int s = 0; s < rows; s++)
            {
                z[s * r + k] *= inv;
            }
        }

        CanonicalSigns(z, rows, r);
        return Regress(z, trials, rows / trials, r, options.Ridge);
    }

    /// <summary>HᵀH (cols × cols, float64) through the float32 SIMD cross-product kernel (one worker: callers parallelise over networks).</summary>
    internal static double[] Gram(double[] h, int rows, int cols)
    {
        using var packed = new PackedStates(rows, [cols], (_, dst, pad) => Centering.Pack(h, rows, cols, dst, pad));
        var g = new double[cols * cols];
        CrossGram.Run(packed, [(0, 0)], 1, (_, _, c, n, m, ldc) =>
        {
            for (int a = 0; a < n; a++)
            {
                for (int b = 0; b < m; b++)
                {
                    g[a * cols + b] = 0.5 * ((double)c[a * ldc + b] + c[b * ldc + a]);
                }
            }
        });
        return g;
    }

    /// <summary>The r × r operator of one network by a full float64 SVD (the oracle).</summary>
    public static double[] FitReference(ReadOnlySpan<float> states, int trials, int steps, int width, DsaOptions options)
    {
        var (h, rows, cols) = Embed(states, trials, steps, width, options);
        int r = options.Rank;
        var svd = Matrix<double>.Build.Dense(rows, cols, (i, j) => h[i * cols + j]).Svd(true);
        CheckRank(svd.S.Select(x => x * x).ToArray(), r);
        var z = new double[rows * r];
        for (int s = 0; s < rows; s++)
        {
            for (int k = 0; k < r; k++)
            {
                z[s * r + k] = svd.U[s, k];
            }
        }

        CanonicalSigns(z, rows, r);
        return Regress(z, trials, rows / trials, r, options.Ridge);
    }

    /// <summary>The delay embedding H (R × dN, row-major) after checking the sizes.</summary>
    internal static (double[] H, int Rows, int Cols) Embed(ReadOnlySpan<float> states, int trials, int steps, int width, DsaOptions options)
    {
        options.Validate();
        int span = (options.Delays - 1) * options.DelayInterval;
        int perTrial = steps - span, cols = options.Delays * width;
        if (perTrial < 2)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Trials of {steps} steps are too short for {options.Delays} delays {options.DelayInterval} apart: need at least {span + 2} steps."), nameof(steps));
        }

        if (options.Rank > cols)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"rank {options.Rank} exceeds the delay-embedding width {cols} ({options.Delays} delays × {width} units)."), nameof(options));
        }

        int pairs = trials * (perTrial - 1);
        if (pairs < options.Rank)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Fewer samples than the rank: {pairs} consecutive embedded samples ({trials} trials × {perTrial - 1}) for rank {options.Rank}; record more or longer trials."), nameof(states));
        }

        int rows = trials * perTrial;
        var h = new double[rows * cols];
        for (int b = 0; b < trials; b++)
        {
            for (int t = 0; t < perTrial; t++)
            {
                int row = b * perTrial + t, now = b * steps + span + t;
                for (int d = 0; d < options.Delays; d++)
                {
                    var src = states.Slice((now - d * options.DelayInterval) * width, width);
                    for (int k = 0; k < width; k++)
                    {
                        h[row * cols + d * width + k] = src[k];
                    }
                }
            }
        }

        return (h, rows, cols);
    }

    /// <summary>A = (Z₊ᵀ Z₋)(Z₋ᵀ Z₋ + λ I)⁻¹ over consecutive rows of each trial.</summary>
    internal static double[] Regress(double[] z, int trials, int perTrial, int r, double ridge)
    {
        var xx = Matrix<double>.Build.Dense(r, r);
        var yx = Matrix<double>.Build.Dense(r, r);
        for (int b = 0; b < trials; b++)
        {
            for (int t = 0; t + 1 < perTrial; t++)
            {
                int s0 = (b * perTrial + t) * r, s1 = s0 + r;
                for (int i = 0; i < r; i++)
                {
                    for (int j = 0; j < r; j++)
                    {
                        xx[i, j] += z[s0 + i] * z[s0 + j];
                        yx[i, j] += z[s1 + i] * z[s0 + j];
                    }
                }
            }
        }

        for (int i = 0; i < r; i++)
        {
            xx[i, i] += ridge;
        }

        // A xx = yx  ⇔  xx Aᵀ = yxᵀ (xx symmetric).
        var at = xx.Solve(yx.Transpose());
        var a = new double[r * r];
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                a[i * r + j] = at[j, i];
                if (!double.IsFinite(a[i * r + j]))
                {
                    throw new ArgumentException("The DSA regression is singular: the reduced states do not span the rank; lower --rank or add --ridge.", nameof(r));
                }
            }
        }

        return a;
    }

    /// <summary>Flips each coordinate so that its largest-magnitude sample (the first of equal magnitudes) is positive (singular vectors are defined up to sign).</summary>
    internal static void CanonicalSigns(double[] z, int rows, int r)
    {
        for (int k = 0; k < r; k++)
        {
            double peak = 0;
            for (int s = 0; s < rows; s++)
            {
                if (Math.Abs(z[s * r + k]) > Math.Abs(peak))
                {
                    peak = z[s * r + k];
                }
            }

            if (peak < 0)
            {
                for (int s = 0; s < rows; s++)
                {
                    z[s * r + k] = -z[s * r + k];
                }
            }
        }
    }

    private static void CheckRank(double[] eigenvalues, int r)
    {
        if (!(eigenvalues[r - 1] > 1e-12 * eigenvalues[0]))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The delay-embedded states have numerical rank below {r} (σ²_{r} / σ²_1 = {eigenvalues[r - 1] / eigenvalues[0]:E2}); lower --rank."), nameof(r));
        }
    }

    /// <summary>Top-r eigenpairs of a symmetric positive semi-definite n × n matrix by subspace iteration; vectors [r][n].</summary>
    internal static (double[] Values, double[] Vectors) TopEigen(double[] g, int n, int r)
    {
        int k = Math.Min(n, r + 8);
        var rng = new Util.Rng(0x5eed);
        var q = new double[k * n];
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = rng.NextGaussian();
        }

        Orthonormalize(q, k, n);
        var y = new double[k * n];
        var prev = new double[r];
        double[] ritz = new double[k];
        Matrix<double>? vecs = null;
        for (int it = 0; it < 500; it++)
        {
            Multiply(g, q, y, n, k);
            if (it % 4 == 3 || it == 499)
            {
                // Rayleigh–Ritz: T = Qᵀ G Q, rotate Q onto T's eigenvectors.
                var t = Matrix<double>.Build.Dense(k, k, (a, b) => TensorPrimitives.Dot<double>(q.AsSpan(a * n, n), y.AsSpan(b * n, n)));
                t = (t + t.Transpose()) * 0.5;
                var evd = t.Evd(Symmetricity.Symmetric);
                var order = Enumerable.Range(0, k).OrderByDescending(i => evd.EigenValues[i].Real).ToArray();
                ritz = order.Select(i => evd.EigenValues[i].Real).ToArray();
                vecs = evd.EigenVectors;
                var rotated = new double[k * n];
                for (int a = 0; a < k; a++)
                {
                    var dst = rotated.AsSpan(a * n, n);
                    for (int b = 0; b < k; b++)
                    {
                        TensorPrimitives.MultiplyAdd(q.AsSpan(b * n, n), vecs[b, order[a]], dst, dst);
                    }
                }

                q = rotated;
                bool done = true;
                for (int a = 0; a < r; a++)
                {
                    done &= Math.Abs(ritz[a] - prev[a]) <= 1e-13 * ritz[0];
                    prev[a] = ritz[a];
                }

                if (done || it == 499)
                {
                    break;
                }

                Multiply(g, q, y, n, k);
            }

            (q, y) = (y, q);
            Orthonormalize(q, k, n);
        }

        return (ritz.Take(r).ToArray(), q.AsSpan(0, r * n).ToArray());
    }

    private static void Multiply(double[] g, double[] q, double[] y, int n, int k)
    {
        for (int a = 0; a < k; a++)
        {
            var qa = q.AsSpan(a * n, n);
            for (int i = 0; i < n; i++)
            {
                y[a * n + i] = TensorPrimitives.Dot<double>(g.AsSpan(i * n, n), qa);
            }
        }
    }

    /// <summary>Modified Gram–Schmidt (twice) on the k rows of q.</summary>
    private static void Orthonormalize(double[] q, int k, int n)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            for (int a = 0; a < k; a++)
            {
                var qa = q.AsSpan(a * n, n);
                for (int b = 0; b < a; b++)
                {
                    var qb = q.AsSpan(b * n, n);
                    TensorPrimitives.MultiplyAdd(qb, -TensorPrimitives.Dot<double>(qa, qb), qa, qa);
                }

                double norm = TensorPrimitives.Norm<double>(qa);
                TensorPrimitives.Multiply(qa, norm > 0 ? 1 / norm : 0, qa);
            }
        }
    }
}
