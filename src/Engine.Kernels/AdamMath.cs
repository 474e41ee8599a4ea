namespace Engine.Kernels;

/// <summary>Adam coefficients of one parameter block of one network for one optimizer step, precomputed on the host.</summary>
/// <remarks>
/// With step count t ≥ 1: <c>StepSize = lr / (1 − β₁ᵗ)</c> and <c>InvSqrtBias2 = 1 / √(1 − β₂ᵗ)</c>, so that
/// p ← p − StepSize · m / (√v · InvSqrtBias2 + ε) equals p − lr · m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
/// <c>GradScale</c> multiplies the gradient first (global-norm clipping); a frozen network has StepSize 0 and
/// is skipped entirely. <c>Epsilon</c> is ε (1e-8 by default); a block trained through a fixed scale s (µP's effective
/// weights W = J/N) uses lr·s and ε·s, which makes Adam on the effective weight exactly Adam on the raw one.
/// </remarks>
public readonly struct AdamCoefficients
{
    /// <summary>lr / (1 − β₁ᵗ); 0 marks a frozen network.</summary>
    public readonly float StepSize;

    /// <summary>1 / √(1 − β₂ᵗ).</summary>
    public readonly float InvSqrtBias2;

    /// <summary>Gradient multiplier (clipping), 1 when unclipped.</summary>
    public readonly float GradScale;

    /// <summary>ε added to √v̂.</summary>
    public readonly float Epsilon;

    /// <summary>Creates the coefficients.</summary>
    public AdamCoefficients(float stepSize, float invSqrtBias2, float gradScale, float epsilon = AdamMath.Epsilon)
    {
        StepSize = stepSize;
        InvSqrtBias2 = invSqrtBias2;
        GradScale = gradScale;
        Epsilon = epsilon;
    }
}

/// <summary>The float64 form of <see cref="AdamCoefficients"/> (closed-loop agents, the float64 DSA alignment and fixed-point search).</summary>
/// <param name="StepSize">lr / (1 − β₁ᵗ); 0 leaves the parameter untouched.</param>
/// <param name="InvSqrtBias2">1 / √(1 − β₂ᵗ).</param>
/// <param name="GradScale">Gradient multiplier (clipping).</param>
/// <param name="Epsilon">ε added to √v̂.</param>
public readonly record struct AdamCoefficients64(double StepSize, double InvSqrtBias2, double GradScale, double Epsilon);

/// <summary>The arithmetic Adam needs of a number type: + − × ÷, √ and its constants.</summary>
/// <remarks>
/// <see cref="ScalarArithmetic"/> serves float and double; the fast CPU path's SIMD operator structs implement it for
/// whole vectors, each lane one parameter, so every Adam in the engine is <see cref="AdamMath.Update{T, TA}"/>.
/// </remarks>
/// <typeparam name="T">The number type: float, double or a SIMD vector of either.</typeparam>
public interface IAdamArithmetic<T>
{
    /// <summary>A constant rounded to T's precision (every lane of a vector).</summary>
    static abstract T FromDouble(double value);

    /// <summary>a + b.</summary>
    static abstract T Add(T a, T b);

    /// <summary>a − b.</summary>
    static abstract T Sub(T a, T b);

    /// <summary>a · b.</summary>
    static abstract T Mul(T a, T b);

    /// <summary>a / b.</summary>
    static abstract T Div(T a, T b);

    /// <summary>√x, correctly rounded.</summary>
    static abstract T Sqrt(T x);
}

/// <summary>Scalar float and double arithmetic for <see cref="AdamMath.Update{T, TA}"/>.</summary>
public readonly struct ScalarArithmetic : IAdamArithmetic<float>, IAdamArithmetic<double>
{
    /// <inheritdoc />
    static float IAdamArithmetic<float>.FromDouble(double value) => (float)value;

    /// <inheritdoc />
    static float IAdamArithmetic<float>.Add(float a, float b) => a + b;

    /// <inheritdoc />
    static float IAdamArithmetic<float>.Sub(float a, float b) => a - b;

    /// <inheritdoc />
    static float IAdamArithmetic<float>.Mul(float a, float b) => a * b;

    /// <inheritdoc />
    static float IAdamArithmetic<float>.Div(float a, float b) => a / b;

    /// <inheritdoc />
    static float IAdamArithmetic<float>.Sqrt(float x) => MathF.Sqrt(x);

    /// <inheritdoc />
    static double IAdamArithmetic<double>.FromDouble(double value) => value;

    /// <inheritdoc />
    static double IAdamArithmetic<double>.Add(double a, double b) => a + b;

    /// <inheritdoc />
    static double IAdamArithmetic<double>.Sub(double a, double b) => a - b;

    /// <inheritdoc />
    static double IAdamArithmetic<double>.Mul(double a, double b) => a * b;

    /// <inheritdoc />
    static double IAdamArithmetic<double>.Div(double a, double b) => a / b;

    /// <inheritdoc />
    static double IAdamArithmetic<double>.Sqrt(double x) => Math.Sqrt(x);
}

/// <summary>The one Adam of the engine: every optimiser (training on every backend, the fixed-point searches, DSA's alignment, closed-loop agents) calls it.</summary>
/// <remarks>
/// g ← s·g; m ← β₁ m + (1 − β₁) g; v ← β₂ v + (1 − β₂) g²; p ← p − lr · m̂ / (√v̂ + ε), with β₁ 0.9, β₂ 0.999 and the
/// bias corrections folded into the coefficients (<see cref="AdamCoefficients"/>). Written once, generic over the number
/// type (<see cref="Update{T, TA}"/>): separate multiplies and adds in a fixed order, so the scalar and the vector forms
/// agree to the last bit, and the same method compiles inside ILGPU kernels.
/// </remarks>
public static class AdamMath
{
    /// <summary>β₁ = 0.9 (float32; the float64 path uses 0.9 itself).</summary>
    public const float Beta1 = 0.9f;

    /// <summary>β₂ = 0.999 (float32; the float64 path uses 0.999 itself).</summary>
    public const float Beta2 = 0.999f;

    /// <summary>ε = 1e-8.</summary>
    public const float Epsilon = 1e-8f;

    /// <summary>One Adam update of a parameter (or of every lane of a vector) in place.</summary>
    /// <param name="p">The parameter.</param>
    /// <param name="m">Its first moment.</param>
    /// <param name="v">Its second moment.</param>
    /// <param name="g">Its gradient.</param>
    /// <param name="gradScale">s, the clipping factor.</param>
    /// <param name="stepSize">lr / (1 − β₁ᵗ).</param>
    /// <param name="invSqrtBias2">1 / √(1 − β₂ᵗ).</param>
    /// <param name="epsilon">ε.</param>
    public static void Update<T, TA>(ref T p, ref T m, ref T v, T g, T gradScale, T stepSize, T invSqrtBias2, T epsilon)
        where TA : struct, IAdamArithmetic<T>
    {
        T one = TA.FromDouble(1.0), b1 = TA.FromDouble(0.9), b2 = TA.FromDouble(0.999);
        T gs = TA.Mul(g, gradScale);
        T mn = TA.Add(TA.Mul(b1, m), TA.Mul(TA.Sub(one, b1), gs));
        T vn = TA.Add(TA.Mul(b2, v), TA.Mul(TA.Mul(TA.Sub(one, b2), gs), gs));
        m = mn;
        v = vn;
        p = TA.Sub(p, TA.Div(TA.Mul(stepSize, mn), TA.Add(TA.Mul(TA.Sqrt(vn), invSqrtBias2), epsilon)));
    }

    /// <summary>Applies one Adam update to a single float32 parameter in place.</summary>
    public static void Update(ref float p, ref float m, ref float v, float g, AdamCoefficients c)
        => Update<float, ScalarArithmetic>(ref p, ref m, ref v, g, c.GradScale, c.StepSize, c.InvSqrtBias2, c.Epsilon);

    /// <summary>Applies one Adam update to a single float64 parameter in place.</summary>
    public static void Update(ref double p, ref double m, ref double v, double g, AdamCoefficients64 c)
        => Update<double, ScalarArithmetic>(ref p, ref m, ref v, g, c.GradScale, c.StepSize, c.InvSqrtBias2, c.Epsilon);

    /// <summary>Host-side coefficients for a block at step count <paramref name="step"/> (≥ 1).</summary>
    public static AdamCoefficients Coefficients(float learningRate, int step, float gradScale, float epsilon = Epsilon)
    {
        if (learningRate == 0f || step <= 0)
        {
            return new AdamCoefficients(0f, 1f, gradScale, epsilon);
        }

        double bias1 = 1.0 - Math.Pow(Beta1, step);
        double bias2 = 1.0 - Math.Pow(Beta2, step);
        return new AdamCoefficients((float)(learningRate / bias1), (float)(1.0 / Math.Sqrt(bias2)), gradScale, epsilon);
    }

    /// <summary>Float64 coefficients at step count <paramref name="step"/> (≥ 1), with β₁ 0.9 and β₂ 0.999 in float64.</summary>
    public static AdamCoefficients64 Coefficients64(double learningRate, int step, double gradScale = 1.0, double epsilon = 1e-8)
    {
        if (learningRate == 0 || step <= 0)
        {
            return new AdamCoefficients64(0, 1, gradScale, epsilon);
        }

        double bias1 = 1.0 - Math.Pow(0.9, step);
        double bias2 = 1.0 - Math.Pow(0.999, step);
        return new AdamCoefficients64(learningRate / bias1, 1.0 / Math.Sqrt(bias2), gradScale, epsilon);
    }
}
