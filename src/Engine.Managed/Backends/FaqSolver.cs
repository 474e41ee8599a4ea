using System.Numerics.Tensors;
using Engine.Numerics;

namespace Engine.Backends;

/// <summary>d_PIF between two recurrent weight matrices and the unit permutation that realises it.</summary>
/// <param name="Distance">‖W₁ − Pᵀ W₂ P‖_F divided by the number of entries n².</param>
/// <param name="Permutation">π with (Pᵀ W₂ P)[i, j] = W₂[π(i), π(j)]: unit i of network 1 is matched to unit π(i) of network 2.</param>
/// <param name="Iterations">Frank–Wolfe iterations used (0 for the exact search).</param>
public sealed record PifResult(double Distance, int[] Permutation, int Iterations);

/// <summary>The state of one FAQ run: P, the iteration count and the CPU parts of a Frank–Wolfe step.</summary>
/// <remarks>
/// One iteration is <see cref="Gradient"/> (or the same products from the accelerator) then <see cref="Step"/>: the
/// assignment Q maximising ⟨∇f, Q⟩ and the exact line search on P + t(Q − P), where with D = Q − P,
/// f(P + tD) = f(P) + t (⟨D W₁, W₂ P⟩ + ⟨P W₁, W₂ D⟩) + t² ⟨D W₁, W₂ D⟩.
/// </remarks>
public sealed class FaqSolver
{
    private readonly double[] _a, _b, _bt, _t1, _t2, _d, _bd, _da, _pa;
    private readonly int _n;
    private readonly double _tolerance;

    /// <summary>Starts at the barycentre P = J/n for W₁ = <paramref name="w1"/>, W₂ = <paramref name="w2"/> (row-major n × n).</summary>
    public FaqSolver(double[] w1, double[] w2, int n, double tolerance)
    {
        (_a, _b, _n, _tolerance) = (w1, w2, n, tolerance);
        _bt = Transpose(w2, n);
        P = new double[n * n];
        Array.Fill(P, 1.0 / n);
        _t1 = new double[n * n];
        _t2 = new double[n * n];
        _d = new double[n * n];
        _bd = new double[n * n];
        _da = new double[n * n];
        _pa = new double[n * n];
    }

    /// <summary>The current doubly-stochastic P (row-major n × n).</summary>
    public double[] P { get; }

    /// <summary>Steps taken.</summary>
    public int Iterations { get; private set; }

    /// <summary>Whether the last step moved P by less than the tolerance.</summary>
    public bool Done { get; private set; }

    /// <summary>∇f = (W₂ P) W₁ᵀ + (W₂ᵀ P) W₁ into <paramref name="grad"/>, W₂ P into <paramref name="bp"/>.</summary>
    public void Gradient(double[] grad, double[] bp)
    {
        Gemm(_b, P, bp, _n);
        GemmBt(bp, _a, grad, _n);
        Gemm(_bt, P, _t1, _n);
        Gemm(_t1, _a, _t2, _n);
        TensorPrimitives.Add(grad, _t2, grad);
    }

    /// <summary>One Frank–Wolfe step from the gradient and W₂ P of the current P.</summary>
    public void Step(double[] grad, double[] bp)
    {
        int n = _n;
        Iterations++;
        var q = LinearAssignment.Maximize(grad, n);
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                _d[r * n + c] = (q[r] == c ? 1.0 : 0.0) - P[r * n + c];
            }
        }

        Gemm(_b, _d, _bd, n);
        Gemm(_d, _a, _da, n);
        Gemm(P, _a, _pa, n);
        double quad = TensorPrimitives.Dot<double>(_da, _bd);
        double lin = TensorPrimitives.Dot<double>(_da, bp) + TensorPrimitives.Dot<double>(_pa, _bd);
        double step = quad < 0 ? Math.Clamp(-lin / (2 * quad), 0, 1) : (quad + lin > 0 ? 1 : 0);
        TensorPrimitives.MultiplyAdd(_d, step, P, P);
        Done = step * TensorPrimitives.Norm<double>(_d) / Math.Sqrt(n) < _tolerance;
    }

    /// <summary>FAQ on one pair on the CPU: gradient and step until <see cref="Done"/> or <paramref name="maxIterations"/>, then the projection.</summary>
    public static PifResult Solve(double[] w1, double[] w2, int n, int maxIterations, double tolerance)
    {
        var s = new FaqSolver(w1, w2, n, tolerance);
        var grad = new double[n * n];
        var bp = new double[n * n];
        while (!s.Done && s.Iterations < maxIterations)
        {
            s.Gradient(grad, bp);
            s.Step(grad, bp);
        }

        return s.Result();
    }

    /// <summary>Projects P onto the nearest permutation and returns the better of it and the identity.</summary>
    public PifResult Result()
    {
        int n = _n;
        // Row r of P is a unit of network 2; the permutation maps unit i of network 1 to the row matched to column i.
        var rowToCol = LinearAssignment.Maximize(P, n);
        var perm = new int[n];
        for (int r = 0; r < n; r++)
        {
            perm[rowToCol[r]] = r;
        }

        var identity = Enumerable.Range(0, n).ToArray();
        double dPerm = Residual(_a, _b, n, perm), dId = Residual(_a, _b, n, identity);
        return dPerm <= dId ? new PifResult(dPerm / ((double)n * n), perm, Iterations) : new PifResult(dId / ((double)n * n), identity, Iterations);
    }

    /// <summary>‖W₁ − W₂[π, π]‖_F.</summary>
    public static double Residual(ReadOnlySpan<double> w1, ReadOnlySpan<double> w2, int n, ReadOnlySpan<int> perm)
    {
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double diff = w1[i * n + j] - w2[perm[i] * n + perm[j]];
                sum += diff * diff;
            }
        }

        return Math.Sqrt(sum);
    }

    internal static double[] Transpose(double[] x, int n)
    {
        var t = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                t[j * n + i] = x[i * n + j];
            }
        }

        return t;
    }

    /// <summary>c = x·y (n × n, row-major): rows of c accumulate scaled rows of y.</summary>
    internal static void Gemm(double[] x, double[] y, double[] c, int n)
    {
        Array.Clear(c);
        for (int i = 0; i < n; i++)
        {
            var ci = c.AsSpan(i * n, n);
            for (int k = 0; k < n; k++)
            {
                double s = x[i * n + k];
                if (s != 0)
                {
                    TensorPrimitives.MultiplyAdd(y.AsSpan(k * n, n), s, ci, ci);
                }
            }
        }
    }

    /// <summary>c = x·yᵀ (n × n, row-major): dot products of rows.</summary>
    internal static void GemmBt(double[] x, double[] y, double[] c, int n)
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                c[i * n + j] = TensorPrimitives.Dot<double>(x.AsSpan(i * n, n), y.AsSpan(j * n, n));
            }
        }
    }
}
