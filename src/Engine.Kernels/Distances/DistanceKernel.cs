using ILGPU;

namespace Engine.Kernels.Distances;

/// <summary>Arguments of the cross-product kernels: centred states of E networks and a list of pairs.</summary>
/// <remarks>
/// States [E][S][N] (row-major, one width N for all), pairs as two index lists [P], products [P][N][N] and one scalar per
/// pair [P] (‖X_iᵀ X_j‖²_F after <see cref="DistanceKernel.SquaredNorms"/>).
/// </remarks>
public readonly struct CrossProductArgs
{
    /// <summary>Creates the pack.</summary>
    public CrossProductArgs(int pairs, int samples, int width, ArrayView<float> states, ArrayView<int> first, ArrayView<int> second, ArrayView<float> products, ArrayView<float> norms)
    {
        Pairs = pairs;
        Samples = samples;
        Width = width;
        States = states;
        First = first;
        Second = second;
        Products = products;
        Norms = norms;
    }

    /// <summary>P.</summary>
    public int Pairs { get; }

    /// <summary>S.</summary>
    public int Samples { get; }

    /// <summary>N.</summary>
    public int Width { get; }

    /// <summary>[E][S][N].</summary>
    public ArrayView<float> States { get; }

    /// <summary>i of each pair [P].</summary>
    public ArrayView<int> First { get; }

    /// <summary>j of each pair [P].</summary>
    public ArrayView<int> Second { get; }

    /// <summary>X_iᵀ X_j [P][N][N].</summary>
    public ArrayView<float> Products { get; }

    /// <summary>‖X_iᵀ X_j‖²_F [P].</summary>
    public ArrayView<float> Norms { get; }
}

/// <summary>Arguments of the batched DSA alignment kernel: one Procrustes problem per thread.</summary>
/// <remarks>
/// A and B [Q][r][r] (unit Frobenius norm; B already swapped for the det −1 variant), workspace [Q][10][r][r], results
/// loss ‖C B Cᵀ − A‖²_F and ⟨A, C B Cᵀ⟩ [Q]. Adam's coefficients per iteration [iterations] come from the host
/// (<see cref="AdamMath.Coefficients"/>), the same on every path.
/// </remarks>
public readonly struct DsaAlignArgs
{
    /// <summary>Creates the pack.</summary>
    public DsaAlignArgs(int problems, int rank, int iterations, ArrayView<AdamCoefficients> coefficients, ArrayView<float> a, ArrayView<float> b, ArrayView<float> work, ArrayView<float> loss, ArrayView<float> inner)
    {
        Problems = problems;
        Rank = rank;
        Iterations = iterations;
        Coefficients = coefficients;
        A = a;
        B = b;
        Work = work;
        Loss = loss;
        Inner = inner;
    }

    /// <summary>Q.</summary>
    public int Problems { get; }

    /// <summary>r.</summary>
    public int Rank { get; }

    /// <summary>Adam iterations.</summary>
    public int Iterations { get; }

    /// <summary>Adam's coefficients of iteration 1, 2, … [iterations].</summary>
    public ArrayView<AdamCoefficients> Coefficients { get; }

    /// <summary>[Q][r][r].</summary>
    public ArrayView<float> A { get; }

    /// <summary>[Q][r][r].</summary>
    public ArrayView<float> B { get; }

    /// <summary>[Q][10][r][r] scratch.</summary>
    public ArrayView<float> Work { get; }

    /// <summary>[Q].</summary>
    public ArrayView<float> Loss { get; }

    /// <summary>[Q].</summary>
    public ArrayView<float> Inner { get; }
}

/// <summary>Arguments of the batched Frank–Wolfe (FAQ) gradient kernel of d_PIF, in float64 like <c>WeightDistance.Faq</c>.</summary>
/// <remarks>
/// Zero-padded weights [E][N][N] (row-major), pairs as two index lists [P] (W₁ = Weights[First[p]], W₂ = Weights[Second[p]]),
/// the current doubly-stochastic plans [P][N][N], scratch [P][2][N][N] (after stage 0: W₂ P, then W₂ᵀ P) and the gradients
/// [P][N][N]. <see cref="Stage"/> selects the half of <see cref="DistanceKernel.FaqGradients"/> to run.
/// </remarks>
public readonly struct FaqGradientArgs
{
    /// <summary>Creates the pack.</summary>
    public FaqGradientArgs(int pairs, int width, int stage, ArrayView<double> weights, ArrayView<int> first, ArrayView<int> second, ArrayView<double> plans, ArrayView<double> work, ArrayView<double> gradients)
    {
        Pairs = pairs;
        Width = width;
        Stage = stage;
        Weights = weights;
        First = first;
        Second = second;
        Plans = plans;
        Work = work;
        Gradients = gradients;
    }

    /// <summary>P.</summary>
    public int Pairs { get; }

    /// <summary>N.</summary>
    public int Width { get; }

    /// <summary>0: the products W₂ P and W₂ᵀ P into <see cref="Work"/>; 1: the gradients from them.</summary>
    public int Stage { get; }

    /// <summary>[E][N][N].</summary>
    public ArrayView<double> Weights { get; }

    /// <summary>Network of W₁ for each pair [P].</summary>
    public ArrayView<int> First { get; }

    /// <summary>Network of W₂ for each pair [P].</summary>
    public ArrayView<int> Second { get; }

    /// <summary>P of each pair [P][N][N].</summary>
    public ArrayView<double> Plans { get; }

    /// <summary>[P][2][N][N]: W₂ P, W₂ᵀ P.</summary>
    public ArrayView<double> Work { get; }

    /// <summary>∇f [P][N][N].</summary>
    public ArrayView<double> Gradients { get; }
}

/// <summary>
/// Distance kernels: batched cross products X_iᵀ X_j for CKA and the shape metric, their squared norms, the DSA
/// Cayley/Adam alignment with one problem per thread, and the Frank–Wolfe gradients of d_PIF.
/// </summary>
/// <remarks>
/// <see cref="CrossProducts"/>: thread per (pair, a, b), C[p, a, b] = Σ_s X_i[s, a] X_j[s, b] (2·S FLOP).
/// <see cref="SquaredNorms"/>: thread per pair, Σ C². <see cref="DsaAlign"/>: thread per problem, the iteration of
/// <c>DsaAlignment</c> (C = 2 (I + S)⁻¹ − I, S = (X − Xᵀ)/2, Adam on X) in float32, ≈ 9 r³ FMA per iteration.
/// <see cref="FaqGradients"/>: thread per (pair, i, j), float64, ∇f = (W₂ P) W₁ᵀ + (W₂ᵀ P) W₁ in two launches (4·N FLOP each).
/// The class name avoids the <c>*Kernels</c> suffix so the RNN kernel catalogue test keeps its own count; these
/// kernels have their own PTX compile test.
/// </remarks>
public static class DistanceKernel
{
    /// <summary>One element of one pair's cross product.</summary>
    public static void CrossProducts(CrossProductArgs a)
    {
        int idx = Grid.GlobalIndex.X;
        int n = a.Width, nn = n * n;
        if (idx >= a.Pairs * nn)
        {
            return;
        }

        int p = idx / nn, rem = idx - p * nn, row = rem / n, col = rem - row * n;
        long xi = (long)a.First[p] * a.Samples * n, xj = (long)a.Second[p] * a.Samples * n;
        float sum = 0f;
        for (int s = 0; s < a.Samples; s++)
        {
            sum += a.States[xi + (long)s * n + row] * a.States[xj + (long)s * n + col];
        }

        a.Products[idx] = sum;
    }

    /// <summary>‖C_p‖²_F for one pair.</summary>
    public static void SquaredNorms(CrossProductArgs a)
    {
        int p = Grid.GlobalIndex.X;
        if (p >= a.Pairs)
        {
            return;
        }

        int nn = a.Width * a.Width;
        float sum = 0f;
        for (int k = 0; k < nn; k++)
        {
            float c = a.Products[p * nn + k];
            sum += c * c;
        }

        a.Norms[p] = sum;
    }

    /// <summary>One whole DSA alignment problem: Adam on the Cayley parameter, then the loss and inner product.</summary>
    public static void DsaAlign(DsaAlignArgs a)
    {
        int q = Grid.GlobalIndex.X;
        if (q >= a.Problems)
        {
            return;
        }

        int r = a.Rank, rr = r * r;
        int ao = q * rr, w = q * 10 * rr;
        int x = w, m = w + rr, v = w + 2 * rr, p = w + 3 * rr, inv = w + 4 * rr, c = w + 5 * rr, cb = w + 6 * rr, res = w + 7 * rr, t = w + 8 * rr, g = w + 9 * rr;
        for (int k = 0; k < 3 * rr; k++)
        {
            a.Work[w + k] = 0f;
        }

        for (int it = 1; it <= a.Iterations; it++)
        {
            Cayley(a.Work, x, p, inv, c, r);
            Residual(a.A, a.B, ao, a.Work, c, cb, res, r);
            // t = R C; g = t Bᵀ + Rᵀ (C B)
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    float s = 0f;
                    for (int k = 0; k < r; k++)
                    {
                        s += a.Work[res + i * r + k] * a.Work[c + k * r + j];
                    }

                    a.Work[t + i * r + j] = s;
                }
            }

            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    float s = 0f;
                    for (int k = 0; k < r; k++)
                    {
                        s += a.Work[t + i * r + k] * a.B[ao + j * r + k] + a.Work[res + k * r + i] * a.Work[cb + k * r + j];
                    }

                    a.Work[g + i * r + j] = s;
                }
            }

            // t = Mᵀ g; p = t (C + I)ᵀ  (p is free until the next Cayley)
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    float s = 0f;
                    for (int k = 0; k < r; k++)
                    {
                        s += a.Work[inv + k * r + i] * a.Work[g + k * r + j];
                    }

                    a.Work[t + i * r + j] = s;
                }
            }

            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    float s = a.Work[t + i * r + j];
                    for (int k = 0; k < r; k++)
                    {
                        s += a.Work[t + i * r + k] * a.Work[c + j * r + k];
                    }

                    a.Work[p + i * r + j] = s;
                }
            }

            var coefficients = a.Coefficients[it - 1];
            for (int i = 0; i < r; i++)
            {
                for (int j = 0; j < r; j++)
                {
                    int k = i * r + j;
                    float gx = a.Work[p + j * r + i] - a.Work[p + k];
                    AdamMath.Update(ref a.Work[x + k], ref a.Work[m + k], ref a.Work[v + k], gx, coefficients);
                }
            }
        }

        Cayley(a.Work, x, p, inv, c, r);
        Residual(a.A, a.B, ao, a.Work, c, cb, res, r);
        float loss = 0f, inner = 0f;
        for (int k = 0; k < rr; k++)
        {
            float e = a.Work[res + k];
            loss += e * e;
            inner += a.A[ao + k] * (e + a.A[ao + k]);
        }

        a.Loss[q] = loss;
        a.Inner[q] = inner;
    }

    /// <summary>One element of one pair's FAQ gradient, in two stages (launch stage 0, then stage 1, over P·N² threads).</summary>
    /// <remarks>
    /// f(P) = tr(W₁ᵀ Pᵀ W₂ P), ∇f = W₂ P W₁ᵀ + W₂ᵀ P W₁. Stage 0: U = W₂ P, V = W₂ᵀ P, U[i, j] = Σ_k W₂[i, k] P[k, j],
    /// V[i, j] = Σ_k W₂[k, i] P[k, j]. Stage 1: ∇f[i, j] = Σ_l U[i, l] W₁[j, l] + V[i, l] W₁[l, j]. Sums run in the
    /// order of the CPU products, so the results agree with <c>WeightDistance.FaqGradient</c> to rounding.
    /// </remarks>
    public static void FaqGradients(FaqGradientArgs a)
    {
        int idx = Grid.GlobalIndex.X;
        int n = a.Width, nn = n * n;
        if (idx >= a.Pairs * nn)
        {
            return;
        }

        int p = idx / nn, rem = idx - p * nn, row = rem / n, col = rem - row * n;
        long w1 = (long)a.First[p] * nn, w2 = (long)a.Second[p] * nn, u = 2L * p * nn, v = u + nn, pl = (long)p * nn;
        if (a.Stage == 0)
        {
            double su = 0, sv = 0;
            for (int k = 0; k < n; k++)
            {
                double x = a.Plans[pl + (long)k * n + col];
                su += a.Weights[w2 + (long)row * n + k] * x;
                sv += a.Weights[w2 + (long)k * n + row] * x;
            }

            a.Work[u + rem] = su;
            a.Work[v + rem] = sv;
        }
        else
        {
            double s1 = 0, s2 = 0;
            for (int l = 0; l < n; l++)
            {
                s1 += a.Work[u + (long)row * n + l] * a.Weights[w1 + (long)col * n + l];
                s2 += a.Work[v + (long)row * n + l] * a.Weights[w1 + (long)l * n + col];
            }

            a.Gradients[pl + rem] = s1 + s2;
        }
    }

    private static void Cayley(ArrayView<float> work, int x, int p, int inv, int c, int r)
    {
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                float s = 0.5f * (work[x + i * r + j] - work[x + j * r + i]);
                work[p + i * r + j] = (i == j ? 1f : 0f) + s;
                work[inv + i * r + j] = i == j ? 1f : 0f;
            }
        }

        for (int k = 0; k < r; k++)
        {
            float piv = 1f / work[p + k * r + k];
            for (int j = 0; j < r; j++)
            {
                work[p + k * r + j] *= piv;
                work[inv + k * r + j] *= piv;
            }

            for (int i = 0; i < r; i++)
            {
                if (i != k)
                {
                    float f = work[p + i * r + k];
                    for (int j = 0; j < r; j++)
                    {
                        work[p + i * r + j] -= f * work[p + k * r + j];
                        work[inv + i * r + j] -= f * work[inv + k * r + j];
                    }
                }
            }
        }

        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                work[c + i * r + j] = 2f * work[inv + i * r + j] - (i == j ? 1f : 0f);
            }
        }
    }

    private static void Residual(ArrayView<float> av, ArrayView<float> bv, int ao, ArrayView<float> work, int c, int cb, int res, int r)
    {
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                float s = 0f;
                for (int k = 0; k < r; k++)
                {
                    s += work[c + i * r + k] * bv[ao + k * r + j];
                }

                work[cb + i * r + j] = s;
            }
        }

        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < r; j++)
            {
                float s = 0f;
                for (int k = 0; k < r; k++)
                {
                    s += work[cb + i * r + k] * work[c + j * r + k];
                }

                work[res + i * r + j] = s - av[ao + i * r + j];
            }
        }
    }
}
