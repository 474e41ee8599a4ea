using System.Numerics;
using Engine.Util;

namespace Engine.Numerics;

/// <summary>Eigenvalues and right eigenvectors of real non-symmetric matrices in float64, row-major.</summary>
/// <remarks>
/// The EISPACK path (orthes, ortran, hqr2; Martin &amp; Wilkinson, Handbook for Automatic Computation II): Householder
/// reduction A = Q H Qᵀ to upper Hessenberg form (10/3 N³ FLOP), then Francis double-shift implicit QR with deflation
/// on single or two consecutive small sub-diagonal elements and exceptional shifts after 10 and 30 iterations without
/// deflation, down to the quasi-triangular real Schur form T = Zᵀ H Z (1×1 blocks: real eigenvalues; 2×2 blocks:
/// complex-conjugate pairs). <see cref="Values(ReadOnlySpan{double}, int, Span{Complex})"/> updates only the active
/// window and never forms Q or Z (about 10 N³ FLOP in all); <see cref="Decompose(ReadOnlySpan{double}, int, Span{Complex}, Span{Complex})"/>
/// also accumulates Q Z, solves (T − λ I) y = 0 by back-substitution and maps x = Q Z y (about 25 N³ FLOP in all).
/// The arithmetic on the active window is the same in both, so the two return bitwise-identical eigenvalues.
/// Eigenvalues come in Schur order (the diagonal of T), a complex pair adjacent with the positive imaginary part
/// first; eigenvector j [N] is column j of an N×N row-major block with unit 2-norm. No balancing, as MathNet's Evd.
/// Matrices of one size can share one <see cref="EigenWorkspace"/> (one per thread), so the hot path allocates nothing.
/// </remarks>
public static partial class Eigen
{
    /// <summary>Eigenvalues of a real N×N row-major matrix, in Schur order (see the class remarks); the calling thread's cached workspace.</summary>
    /// <exception cref="ArgumentException">Wrong lengths, or a NaN/±Inf entry.</exception>
    /// <exception cref="EigenNonConvergenceException">The QR iteration did not converge in 30·max(10, N) iterations.</exception>
    public static void Values(ReadOnlySpan<double> a, int n, Span<Complex> values) => Values(a, n, values, EigenWorkspace.Shared(n));

    /// <summary><see cref="Values(ReadOnlySpan{double}, int, Span{Complex})"/> with a reusable workspace of size N.</summary>
    public static void Values(ReadOnlySpan<double> a, int n, Span<Complex> values, EigenWorkspace workspace)
    {
        if (!TryValues(a, n, values, workspace))
        {
            throw new EigenNonConvergenceException(n);
        }
    }

    /// <summary>Eigenvalues as <see cref="Values(ReadOnlySpan{double}, int, Span{Complex}, EigenWorkspace)"/>; false (values NaN) when the QR iteration does not converge.</summary>
    /// <exception cref="ArgumentException">Wrong lengths, or a NaN/±Inf entry.</exception>
    public static bool TryValues(ReadOnlySpan<double> a, int n, Span<Complex> values, EigenWorkspace workspace)
    {
        Validate(a, n, values.Length, workspace);
        workspace.Load(a);
        workspace.ClearBelowSubdiagonal();
        bool ok = Hqr(workspace, vectors: false);
        workspace.CopyValues(values, ok);
        return ok;
    }

    /// <summary>Eigenvalues and unit right eigenvectors of a real N×N row-major matrix; the calling thread's cached workspace.</summary>
    /// <param name="a">A [N×N], row-major.</param>
    /// <param name="n">N.</param>
    /// <param name="values">λ [N] in Schur order (see the class remarks).</param>
    /// <param name="vectors">V [N×N] row-major: column j (unit 2-norm) satisfies A v_j = λ_j v_j.</param>
    /// <exception cref="ArgumentException">Wrong lengths, or a NaN/±Inf entry.</exception>
    /// <exception cref="EigenNonConvergenceException">The QR iteration did not converge in 30·max(10, N) iterations.</exception>
    public static void Decompose(ReadOnlySpan<double> a, int n, Span<Complex> values, Span<Complex> vectors)
        => Decompose(a, n, values, vectors, EigenWorkspace.Shared(n));

    /// <summary><see cref="Decompose(ReadOnlySpan{double}, int, Span{Complex}, Span{Complex})"/> with a reusable workspace of size N.</summary>
    public static void Decompose(ReadOnlySpan<double> a, int n, Span<Complex> values, Span<Complex> vectors, EigenWorkspace workspace)
    {
        Validate(a, n, values.Length, workspace);
        Guard.Length(vectors.Length, (long)n * n, nameof(vectors), $"[{n}×{n}]");
        workspace.Load(a);
        workspace.AccumulateQ();
        if (!Hqr(workspace, vectors: true))
        {
            throw new EigenNonConvergenceException(n);
        }

        workspace.CopyValues(values, true);
        BackSubstitute(workspace);
        workspace.CopyVectors(vectors);
    }

    /// <summary>
    /// Eigenvalues of <c>count</c> matrices [count][N][N] into [count][N], on up to <paramref name="threads"/> threads
    /// (0: all cores), one workspace per thread; false for a matrix whose QR iteration did not converge (its values NaN).
    /// </summary>
    /// <returns>Per matrix: converged.</returns>
    /// <exception cref="ArgumentException">Lengths that are not a whole number of N×N matrices, or a NaN/±Inf entry.</exception>
    public static bool[] ValuesBatch(ReadOnlyMemory<double> matrices, int n, Memory<Complex> values, int threads = 0)
    {
        int count = BatchCount(matrices.Length, n, values.Length, 1);
        var converged = new bool[count];
        Batch(count, n, threads, (k, ws) =>
            converged[k] = TryValues(matrices.Span.Slice(k * n * n, n * n), n, values.Span.Slice(k * n, n), ws));
        return converged;
    }

    /// <summary>
    /// Eigenvalues [count][N] and eigenvectors [count][N×N] (as <see cref="Decompose(ReadOnlySpan{double}, int, Span{Complex}, Span{Complex})"/>)
    /// of <c>count</c> matrices [count][N][N], on up to <paramref name="threads"/> threads (0: all cores).
    /// </summary>
    /// <exception cref="EigenNonConvergenceException">A matrix's QR iteration did not converge.</exception>
    public static void DecomposeBatch(ReadOnlyMemory<double> matrices, int n, Memory<Complex> values, Memory<Complex> vectors, int threads = 0)
    {
        int count = BatchCount(matrices.Length, n, values.Length, 1);
        Guard.Length(vectors.Length, (long)count * n * n, nameof(vectors), $"[{count}][{n}×{n}]");
        Batch(count, n, threads, (k, ws) => Decompose(matrices.Span.Slice(k * n * n, n * n), n, values.Span.Slice(k * n, n),
            vectors.Span.Slice(k * n * n, n * n), ws));
    }

    /// <summary>Sorts eigenvalues by decreasing |λ|, ties by decreasing real then imaginary part, and permutes the columns of <paramref name="vectors"/> [N×N] (empty: none) alike.</summary>
    public static void SortByDecreasingModulus(Span<Complex> values, Span<Complex> vectors)
    {
        int n = values.Length;
        if (!vectors.IsEmpty)
        {
            Guard.Length(vectors.Length, (long)n * n, nameof(vectors), $"[{n}×{n}]");
        }

        Span<int> order = n <= 1024 ? stackalloc int[n] : new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        // insertion sort: stable, allocation-free, and N is small (≤ a few hundred)
        var keys = values.ToArray();
        for (int i = 1; i < n; i++)
        {
            int o = order[i];
            int j = i - 1;
            while (j >= 0 && Before(keys[o], keys[order[j]]))
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = o;
        }

        for (int i = 0; i < n; i++)
        {
            values[i] = keys[order[i]];
        }

        if (!vectors.IsEmpty)
        {
            var copy = vectors.ToArray();
            for (int i = 0; i < n; i++)
            {
                for (int c = 0; c < n; c++)
                {
                    vectors[i * n + c] = copy[i * n + order[c]];
                }
            }
        }
    }

    private static bool Before(Complex x, Complex y)
    {
        double mx = x.Magnitude, my = y.Magnitude;
        return mx != my ? mx > my : x.Real != y.Real ? x.Real > y.Real : x.Imaginary > y.Imaginary;
    }

    private static void Validate(ReadOnlySpan<double> a, int n, int values, EigenWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        Guard.AtLeast(n, 0, nameof(n));
        Guard.Length(a.Length, (long)n * n, nameof(a), $"[{n}×{n}]");
        Guard.Length(values, n, nameof(values), $"[{n}]");
        if (workspace.Size != n)
        {
            throw new ArgumentException($"workspace is for N = {workspace.Size}, the matrix is {n}×{n}.", nameof(workspace));
        }

        for (int k = 0; k < a.Length; k++)
        {
            if (!double.IsFinite(a[k]))
            {
                throw new ArgumentException($"a[{k / n}, {k % n}] is {a[k]}; an eigen-decomposition needs finite entries.", nameof(a));
            }
        }
    }

    private static int BatchCount(int matrices, int n, int values, int perValue)
    {
        Guard.AtLeast(n, 1, nameof(n));
        long nn = (long)n * n;
        if (matrices % nn != 0)
        {
            throw new ArgumentException($"matrices has {matrices} elements, not a whole number of {n}×{n} matrices.", nameof(matrices));
        }

        int count = (int)(matrices / nn);
        Guard.Length(values, (long)count * n * perValue, nameof(values), $"[{count}][{n}]");
        return count;
    }

    private static void Batch(int count, int n, int threads, Action<int, EigenWorkspace> body)
    {
        Guard.AtLeast(threads, 0, nameof(threads));
        int workers = Math.Max(1, Math.Min(count, threads == 0 ? Environment.ProcessorCount : threads));
        int next = -1;
        Parallelism.For(workers, workers, _ =>
        {
            var ws = new EigenWorkspace(n);
            for (int k = Interlocked.Increment(ref next); k < count; k = Interlocked.Increment(ref next))
            {
                body(k, ws);
            }
        });
    }
}

/// <summary>The QR iteration of <see cref="Eigen"/> did not converge (30·max(10, N) iterations without deflating every eigenvalue).</summary>
public sealed class EigenNonConvergenceException : ArithmeticException
{
    /// <summary>For an N×N matrix.</summary>
    public EigenNonConvergenceException(int n)
        : base($"the Hessenberg QR iteration did not converge for a {n}×{n} matrix in {30 * Math.Max(10, n)} iterations.")
    {
    }

    /// <summary>Without a message.</summary>
    public EigenNonConvergenceException()
    {
    }

    /// <summary>With a message and an inner exception.</summary>
    public EigenNonConvergenceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>With a message.</summary>
    public EigenNonConvergenceException(string message)
        : base(message)
    {
    }
}
