namespace Engine.Training;

/// <summary>The engine's one rule for a training step's gradient: when it means divergence, and how global-norm clipping scales it.</summary>
/// <remarks>
/// Used by the ensemble trainer (float32 networks) and the closed-loop agents (float64, which can grow far before they
/// overflow, so they pass a finite limit). A diverged model stops and keeps its last finite parameters; the others go on.
/// </remarks>
public static class GradientRule
{
    /// <summary>Whether a step diverged: the loss or the gradient norm is NaN/±∞, or its magnitude exceeds <paramref name="limit"/>.</summary>
    public static bool Diverged(double loss, double gradientNorm, double limit = double.MaxValue)
        => !double.IsFinite(loss) || !double.IsFinite(gradientNorm) || Math.Abs(loss) > limit || gradientNorm > limit;

    /// <summary>The global-norm clipping factor: <paramref name="clip"/> / ‖g‖ when clipping is on (<paramref name="clip"/> &gt; 0) and ‖g‖ exceeds it, else 1.</summary>
    public static double ClipScale(double norm, double clip) => clip > 0 && norm > clip ? clip / norm : 1.0;
}
