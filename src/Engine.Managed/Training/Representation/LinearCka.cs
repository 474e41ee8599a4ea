using System.Numerics.Tensors;

namespace Engine.Training.Representation;

/// <summary>
/// Linear CKA between two sets of rows and its gradient with respect to the first, in sample space (Gram matrices),
/// float64: the guidance term of Subramaniam et al. (SEEDS §3).
/// </summary>
/// <remarks>
/// With X_c, Y_c the column-centred matrices (n rows), K = X_c X_cᵀ, L = Y_c Y_cᵀ, s = ⟨K, L⟩, a = ‖K‖, b = ‖L‖:
/// CKA = s / (a b) and ∇_X CKA = 2 G X_c with G = (L − (s/a²) K) / (a b). The Grams are n × n, so the cost is
/// O(n² p) for p columns: cheap for the guidance form, whose rows are trials and whose columns are all steps × units.
/// A constant X (a = 0) has no defined CKA: <see cref="Gradient"/> then returns 0 with a zero gradient.
/// </remarks>
public static class LinearCka
{
    /// <summary>Centres the columns of <paramref name="x"/> [rows][cols] in place.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void CenterColumns(Span<double> x, int rows, int cols)
    {
        var rented = System.Buffers.ArrayPool<double>.Shared.Rent(cols);
        var mean = rented.AsSpan(0, cols);
        mean.Clear();
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(mean, x.Slice(r * cols, cols), mean);
        }

        TensorPrimitives.Multiply(mean, 1.0 / rows, mean);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            TensorPrimitives.Subtract(row, mean, row);
        }

        System.Buffers.ArrayPool<double>.Shared.Return(rented);
    }

    /// <summary>K = X Xᵀ [rows][rows] of <paramref name="x"/> [rows][cols] (centre it first for the centred Gram).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Gram(ReadOnlySpan<double> x, int rows, int cols, Span<double> gram)
    {
        // X Xᵀ = (Xᵀ)ᵀ·Xᵀ: with Xᵀ [cols][rows] as both operands, the transposed-A product of the GEMM helper.
        var rented = System.Buffers.ArrayPool<double>.Shared.Rent(cols * rows);
        var xt = rented.AsSpan(0, cols * rows);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                xt[j * rows + i] = x[i * cols + j];
            }
        }

        Engine.Numerics.SmallGemm.Multiply(xt, true, rows, cols, xt, rows, gram);
        System.Buffers.ArrayPool<double>.Shared.Return(rented);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < i; j++)
            {
                double v = 0.5 * (gram[i * rows + j] + gram[j * rows + i]);
                gram[i * rows + j] = v;
                gram[j * rows + i] = v;
            }
        }
    }

    /// <summary>Columns per cache block.</summary>
    private const int Block = 512;

    /// <summary>The centred Gram of <paramref name="x"/> [rows][cols] (x is copied, not changed).</summary>
    public static double[] CenteredGram(ReadOnlySpan<double> x, int rows, int cols)
    {
        var c = x.ToArray();
        CenterColumns(c, rows, cols);
        var k = new double[rows * rows];
        Gram(c, rows, cols, k);
        return k;
    }

    /// <summary>CKA of two centred Grams.</summary>
    public static double FromGrams(ReadOnlySpan<double> k, ReadOnlySpan<double> l)
    {
        double a = Norm(k), b = Norm(l);
        return a > 0 && b > 0 ? TensorPrimitives.Dot(k, l) / (a * b) : 0.0;
    }

    /// <summary>
    /// CKA(X, Y) and ∇_X CKA, given the centred <paramref name="xc"/> [rows][cols], its Gram <paramref name="k"/> and
    /// Y's centred Gram <paramref name="l"/>; writes the gradient [rows][cols] into <paramref name="gradient"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static double Gradient(ReadOnlySpan<double> xc, ReadOnlySpan<double> k, ReadOnlySpan<double> l, int rows, int cols, Span<double> gradient)
    {
        gradient.Clear();
        double a = Norm(k), b = Norm(l);
        if (!(a > 0) || !(b > 0) || !double.IsFinite(a))
        {
            return 0.0;
        }

        double s = TensorPrimitives.Dot(k, l), ab = a * b, ratio = s / (a * a);
        var rented = System.Buffers.ArrayPool<double>.Shared.Rent(rows * rows);
        var coefficient = rented.AsSpan(0, rows * rows);
        for (int i = 0; i < coefficient.Length; i++)
        {
            coefficient[i] = 2.0 * (l[i] - ratio * k[i]) / ab;
        }

        Engine.Numerics.SmallGemm.Multiply(coefficient, false, rows, rows, xc, cols, gradient);
        System.Buffers.ArrayPool<double>.Shared.Return(rented);
        return s / ab;
    }

    private static double Norm(ReadOnlySpan<double> m) => Math.Sqrt(TensorPrimitives.Dot(m, m));
}
