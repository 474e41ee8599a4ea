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

/// <summary>The Adam update of one parameter, shared by every backend.</summary>
/// <remarks>
/// g ← s·g; m ← β₁ m + (1 − β₁) g; v ← β₂ v + (1 − β₂) g²; p ← p − lr · m̂ / (√v̂ + ε).
/// </remarks>
public static class AdamMath
{
    /// <summary>β₁ = 0.9.</summary>
    public const float Beta1 = 0.9f;

    /// <summary>β₂ = 0.999.</summary>
    public const float Beta2 = 0.999f;

    /// <summary>ε = 1e-8.</summary>
    public const float Epsilon = 1e-8f;

    /// <summary>Applies one Adam update to a single parameter in place.</summary>
    public static void Update(ref float p, ref float m, ref float v, float g, AdamCoefficients c)
    {
        float gs = g * c.GradScale;
        float mn = Beta1 * m + (1f - Beta1) * gs;
        float vn = Beta2 * v + (1f - Beta2) * gs * gs;
        m = mn;
        v = vn;
        p -= c.StepSize * mn / (MathF.Sqrt(vn) * c.InvSqrtBias2 + c.Epsilon);
    }

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
}
