using System.Runtime.CompilerServices;
using Engine.Kernels;

namespace Engine.Numerics;

/// <summary>
/// The vector forms of the nonlinearities of <see cref="ActivationCode"/>, for the fast CPU path: same
/// functions, same derivative-through-output convention (tanh′ = 1 − y², relu′ = [y &gt; 0], identity′ = 1).
/// </summary>
/// <remarks>Checked element by element against the scalar structs of Engine.Kernels in the tests.</remarks>
internal interface IVectorActivation
{
    static abstract TV Apply<TS, TV>(TV z)
        where TS : struct, ISimd<TV, float>
        where TV : struct;

    static abstract TV Derivative<TS, TV>(TV y)
        where TS : struct, ISimd<TV, float>
        where TV : struct;
}

/// <summary>tanh, vectorised.</summary>
/// <remarks>
/// |z| &lt; 0.125: the odd Taylor polynomial z − z³/3 + 2z⁵/15 − 17z⁷/315 (truncation below 1e-9 relative).
/// Otherwise sign(z)·(1 − 2/(e^{2|z|} + 1)) with |z| clamped at 15 (tanh is 1 in float32 beyond 9), and
/// e^{2|z|} = 2^y, y = 2|z| log₂e, split as 2^k · 2^f (k = round(y), |f| ≤ ½) with 2^f = Σ_{j≤7} (f ln 2)^j / j!
/// (truncation error about 5e-9): all in float32, no division by a variable exponent table.
/// </remarks>
internal readonly struct TanhVector : IVectorActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TS, TV>(TV z)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        TV one = TS.Splat(1f);
        TV az = TS.Abs(z);
        TV e = TanhVector.Exp2x<TS, TV>(TS.Min(TS.Splat(15f), az)); // NaN stays NaN (min returns its second operand)
        TV big = TS.Sub(one, TS.Div(TS.Splat(2f), TS.Add(e, one)));
        big = TS.Select(TS.Splat(-0f), z, big);
        TV z2 = TS.Mul(z, z);
        TV poly = TS.Fma(z2, TS.Splat(-17f / 315f), TS.Splat(2f / 15f));
        poly = TS.Fma(z2, poly, TS.Splat(-1f / 3f));
        poly = TS.Fma(TS.Mul(z2, z), poly, z);
        return TS.Select(TS.LessThan(az, TS.Splat(0.125f)), poly, big);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Derivative<TS, TV>(TV y)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        => TS.Sub(TS.Splat(1f), TS.Mul(y, y));

    /// <summary>e^{2x} for 0 ≤ x ≤ 15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Exp2x<TS, TV>(TV x)
        where TS : struct, ISimd<TV, float>
        where TV : struct
    {
        TV y = TS.Mul(x, TS.Splat(2.8853900817779268f));
        TV k = TS.Round(y);
        TV f = TS.Sub(y, k);
        TV p = TS.Splat(1.5252733804059838e-05f);
        p = TS.Fma(p, f, TS.Splat(0.00015403530393381606f));
        p = TS.Fma(p, f, TS.Splat(0.0013333558146428441f));
        p = TS.Fma(p, f, TS.Splat(0.009618129107628477f));
        p = TS.Fma(p, f, TS.Splat(0.05550410866482158f));
        p = TS.Fma(p, f, TS.Splat(0.2402265069591007f));
        p = TS.Fma(p, f, TS.Splat(0.6931471805599453f));
        p = TS.Fma(p, f, TS.Splat(1f));
        return TS.ScaleByPowerOfTwo(p, k);
    }
}

/// <summary>max(0, z), vectorised.</summary>
internal readonly struct ReluVector : IVectorActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TS, TV>(TV z)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        => TS.Max(z, TS.Splat(0f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Derivative<TS, TV>(TV y)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        => TS.Select(TS.GreaterThan(y, TS.Splat(0f)), TS.Splat(1f), TS.Splat(0f));
}

/// <summary>The identity (linear RNN).</summary>
internal readonly struct IdentityVector : IVectorActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TS, TV>(TV z)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        => z;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Derivative<TS, TV>(TV y)
        where TS : struct, ISimd<TV, float>
        where TV : struct
        => TS.Splat(1f);
}

/// <summary>Applies a vector activation over whole vectors of a span (for tests and checks; lengths a multiple of 16).</summary>
internal static unsafe class VectorActivationProbe
{
    public static void Apply(int code, ReadOnlySpan<float> z, Span<float> y, Span<float> derivative)
    {
        switch (code)
        {
            case ActivationCode.Tanh: Apply<TanhVector>(z, y, derivative); break;
            case ActivationCode.Relu: Apply<ReluVector>(z, y, derivative); break;
            default: Apply<IdentityVector>(z, y, derivative); break;
        }
    }

    private static void Apply<TA>(ReadOnlySpan<float> z, Span<float> y, Span<float> derivative)
        where TA : struct, IVectorActivation
    {
        fixed (float* pz = z, py = y, pd = derivative)
        {
            for (int k = 0; k + 16 <= z.Length; k += 16)
            {
                var a = TA.Apply<Simd512, System.Runtime.Intrinsics.Vector512<float>>(Simd512.Load(pz + k));
                Simd512.Store(a, py + k);
                Simd512.Store(TA.Derivative<Simd512, System.Runtime.Intrinsics.Vector512<float>>(a), pd + k);
            }
        }
    }
}
