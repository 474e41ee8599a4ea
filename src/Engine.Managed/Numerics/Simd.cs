using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Engine.Kernels;

namespace Engine.Numerics;

/// <summary>
/// The vector operations the fast CPU paths need, as static members of an operator struct, so that every kernel is
/// written once and instantiated for <see cref="Vector512{T}"/> and <see cref="Vector256{T}"/> of float or double.
/// </summary>
/// <remarks>
/// The JIT specialises generic methods over struct type arguments, so <c>TS.Fma(a, b, c)</c> compiles to a single
/// instruction. float32: the ensemble runner, the fixed-point search, CKA and DSA alignment (<see cref="Simd512"/>,
/// <see cref="Simd256"/>); float64: the closed-loop agents (<see cref="Simd512D"/>, <see cref="Simd256D"/>). Rows of every
/// float32 workspace are padded to 16 floats, a whole number of vectors of either width.
/// </remarks>
/// <typeparam name="TV">The vector type.</typeparam>
/// <typeparam name="T">Its element: float or double.</typeparam>
internal unsafe interface ISimd<TV, T> : IAdamArithmetic<TV>
    where TV : struct
    where T : unmanaged
{
    /// <summary>Elements per vector.</summary>
    static abstract int Lanes { get; }

    static abstract TV Load(T* p);

    static abstract void Store(TV v, T* p);

    static abstract TV Splat(T x);

    /// <summary>a·b + c with one rounding.</summary>
    static abstract TV Fma(TV a, TV b, TV c);

    /// <summary>The instruction's max (no NaN fix-up: a NaN in a gives b).</summary>
    static abstract TV Max(TV a, TV b);

    /// <summary>The instruction's min (no NaN fix-up: a NaN in a gives b).</summary>
    static abstract TV Min(TV a, TV b);

    static abstract TV Abs(TV a);

    static abstract TV Exp(TV a);

    /// <summary>Rounds to the nearest integer (ties to even).</summary>
    static abstract TV Round(TV a);

    /// <summary>p · 2^k for integral k within the exponent range, by adding k to the exponent bits.</summary>
    static abstract TV ScaleByPowerOfTwo(TV p, TV k);

    /// <summary>All-ones lanes where a &lt; b.</summary>
    static abstract TV LessThan(TV a, TV b);

    /// <summary>All-ones lanes where a &gt; b.</summary>
    static abstract TV GreaterThan(TV a, TV b);

    /// <summary>Bitwise (a &amp; mask) | (b &amp; ~mask).</summary>
    static abstract TV Select(TV mask, TV a, TV b);

    /// <summary>Horizontal sum in a fixed order.</summary>
    static abstract T Sum(TV a);
}

/// <summary>512-bit vectors (16 floats): the fast path on AVX-512 machines.</summary>
internal readonly unsafe struct Simd512 : ISimd<Vector512<float>, float>
{
    /// <inheritdoc />
    public static Vector512<float> FromDouble(double value) => Vector512.Create((float)value);

    public static int Lanes => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> v, float* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Splat(float x) => Vector512.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Div(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Abs(Vector512<float> a) => Vector512.Abs(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> a) => Vector512.Exp(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Round(Vector512<float> a) => Vector512.Round(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ScaleByPowerOfTwo(Vector512<float> p, Vector512<float> k)
        => (p.AsInt32() + Vector512.ShiftLeft(Vector512.ConvertToInt32Native(k), 23)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LessThan(Vector512<float> a, Vector512<float> b) => Vector512.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThan(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Select(Vector512<float> mask, Vector512<float> a, Vector512<float> b) => Vector512.ConditionalSelect(mask, a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> a) => Simd256.Sum(a.GetLower() + a.GetUpper());
}

/// <summary>256-bit vectors (8 floats): the fallback where 512-bit vectors are not hardware accelerated.</summary>
internal readonly unsafe struct Simd256 : ISimd<Vector256<float>, float>
{
    /// <inheritdoc />
    public static Vector256<float> FromDouble(double value) => Vector256.Create((float)value);

    public static int Lanes => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> v, float* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Splat(float x) => Vector256.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Div(Vector256<float> a, Vector256<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Abs(Vector256<float> a) => Vector256.Abs(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> a) => Vector256.Exp(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Round(Vector256<float> a) => Vector256.Round(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ScaleByPowerOfTwo(Vector256<float> p, Vector256<float> k)
        => (p.AsInt32() + Vector256.ShiftLeft(Vector256.ConvertToInt32Native(k), 23)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LessThan(Vector256<float> a, Vector256<float> b) => Vector256.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterThan(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Select(Vector256<float> mask, Vector256<float> a, Vector256<float> b) => Vector256.ConditionalSelect(mask, a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> a)
    {
        var q = a.GetLower() + a.GetUpper();
        return (q[0] + q[2]) + (q[1] + q[3]);
    }
}

/// <summary>512-bit vectors of 8 doubles: the float64 fast path (closed-loop agents) on AVX-512 machines.</summary>
internal readonly unsafe struct Simd512D : ISimd<Vector512<double>, double>
{
    /// <inheritdoc />
    public static Vector512<double> FromDouble(double value) => Vector512.Create(value);

    public static int Lanes => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Load(double* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<double> v, double* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Splat(double x) => Vector512.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Sub(Vector512<double> a, Vector512<double> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Mul(Vector512<double> a, Vector512<double> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Div(Vector512<double> a, Vector512<double> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Fma(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Max(Vector512<double> a, Vector512<double> b) => Vector512.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Min(Vector512<double> a, Vector512<double> b) => Vector512.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Abs(Vector512<double> a) => Vector512.Abs(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Sqrt(Vector512<double> a) => Vector512.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Exp(Vector512<double> a) => Vector512.Exp(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Round(Vector512<double> a) => Vector512.Round(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> ScaleByPowerOfTwo(Vector512<double> p, Vector512<double> k)
        => (p.AsInt64() + Vector512.ShiftLeft(Vector512.ConvertToInt64Native(k), 52)).AsDouble();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> LessThan(Vector512<double> a, Vector512<double> b) => Vector512.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> GreaterThan(Vector512<double> a, Vector512<double> b) => Vector512.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Select(Vector512<double> mask, Vector512<double> a, Vector512<double> b) => Vector512.ConditionalSelect(mask, a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(Vector512<double> a) => Vector512.Sum(a);
}

/// <summary>256-bit vectors of 4 doubles: the float64 fallback where 512-bit vectors are not hardware accelerated.</summary>
internal readonly unsafe struct Simd256D : ISimd<Vector256<double>, double>
{
    /// <inheritdoc />
    public static Vector256<double> FromDouble(double value) => Vector256.Create(value);

    public static int Lanes => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Load(double* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<double> v, double* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Splat(double x) => Vector256.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Add(Vector256<double> a, Vector256<double> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Sub(Vector256<double> a, Vector256<double> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Mul(Vector256<double> a, Vector256<double> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Div(Vector256<double> a, Vector256<double> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Fma(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Max(Vector256<double> a, Vector256<double> b) => Vector256.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Min(Vector256<double> a, Vector256<double> b) => Vector256.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Abs(Vector256<double> a) => Vector256.Abs(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Sqrt(Vector256<double> a) => Vector256.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Exp(Vector256<double> a) => Vector256.Exp(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Round(Vector256<double> a) => Vector256.Round(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ScaleByPowerOfTwo(Vector256<double> p, Vector256<double> k)
        => (p.AsInt64() + Vector256.ShiftLeft(Vector256.ConvertToInt64Native(k), 52)).AsDouble();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LessThan(Vector256<double> a, Vector256<double> b) => Vector256.LessThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> GreaterThan(Vector256<double> a, Vector256<double> b) => Vector256.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Select(Vector256<double> mask, Vector256<double> a, Vector256<double> b) => Vector256.ConditionalSelect(mask, a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(Vector256<double> a) => Vector256.Sum(a);
}
