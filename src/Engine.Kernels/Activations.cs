namespace Engine.Kernels;

/// <summary>
/// An elementwise nonlinearity φ shared by the reference, the fast CPU path and the ILGPU kernels,
/// so the three implementations cannot drift apart.
/// </summary>
/// <remarks>
/// The derivative is expressed through the output <c>y = φ(z)</c> alone (tanh: 1 − y², relu: [y &gt; 0],
/// identity: 1), so a backward pass only needs the activations it stored in the forward pass.
/// </remarks>
public interface IActivation
{
    /// <summary>φ(z) in float32.</summary>
    static abstract float Apply(float z);

    /// <summary>φ′ expressed through y = φ(z), float32.</summary>
    static abstract float DerivativeFromOutput(float y);

    /// <summary>φ(z) in float64 (the reference).</summary>
    static abstract double Apply(double z);

    /// <summary>φ′ expressed through y = φ(z), float64.</summary>
    static abstract double DerivativeFromOutput(double y);
}

/// <summary>φ = tanh.</summary>
public readonly struct TanhActivation : IActivation
{
    /// <inheritdoc />
    public static float Apply(float z) => MathF.Tanh(z);

    /// <inheritdoc />
    public static float DerivativeFromOutput(float y) => 1f - y * y;

    /// <inheritdoc />
    public static double Apply(double z) => Math.Tanh(z);

    /// <inheritdoc />
    public static double DerivativeFromOutput(double y) => 1.0 - y * y;
}

/// <summary>φ = max(0, z).</summary>
public readonly struct ReluActivation : IActivation
{
    /// <inheritdoc />
    public static float Apply(float z) => z > 0f ? z : 0f;

    /// <inheritdoc />
    public static float DerivativeFromOutput(float y) => y > 0f ? 1f : 0f;

    /// <inheritdoc />
    public static double Apply(double z) => z > 0.0 ? z : 0.0;

    /// <inheritdoc />
    public static double DerivativeFromOutput(double y) => y > 0.0 ? 1.0 : 0.0;
}

/// <summary>φ = identity (a linear RNN).</summary>
public readonly struct IdentityActivation : IActivation
{
    /// <inheritdoc />
    public static float Apply(float z) => z;

    /// <inheritdoc />
    public static float DerivativeFromOutput(float y) => 1f;

    /// <inheritdoc />
    public static double Apply(double z) => z;

    /// <inheritdoc />
    public static double DerivativeFromOutput(double y) => 1.0;
}

/// <summary>Activation codes as they cross into kernels (an <c>int</c> field of a kernel argument struct).</summary>
public static class ActivationCode
{
    /// <summary>tanh.</summary>
    public const int Tanh = 0;

    /// <summary>relu.</summary>
    public const int Relu = 1;

    /// <summary>identity.</summary>
    public const int Identity = 2;

    /// <summary>φ(z) for a runtime code.</summary>
    public static float Apply(int code, float z) => code switch
    {
        Tanh => TanhActivation.Apply(z),
        Relu => ReluActivation.Apply(z),
        _ => IdentityActivation.Apply(z),
    };

    /// <summary>φ′ through y = φ(z) for a runtime code.</summary>
    public static float DerivativeFromOutput(int code, float y) => code switch
    {
        Tanh => TanhActivation.DerivativeFromOutput(y),
        Relu => ReluActivation.DerivativeFromOutput(y),
        _ => IdentityActivation.DerivativeFromOutput(y),
    };

    /// <summary>φ(z) for a runtime code, float64.</summary>
    public static double Apply(int code, double z) => code switch
    {
        Tanh => TanhActivation.Apply(z),
        Relu => ReluActivation.Apply(z),
        _ => IdentityActivation.Apply(z),
    };

    /// <summary>
    /// φ(z) for a runtime code in float64 inside a kernel: tanh through <see cref="DeviceMath.Tanh"/> (PTX has no float64
    /// tanh, and ILGPU's software one is slow and NaN above |z| ≈ 354), the others as <see cref="Apply(int, double)"/>.
    /// </summary>
    public static double ApplyOnDevice(int code, double z) => code switch
    {
        Tanh => DeviceMath.Tanh(z),
        Relu => ReluActivation.Apply(z),
        _ => IdentityActivation.Apply(z),
    };

    /// <summary>φ′ through y = φ(z) for a runtime code, float64.</summary>
    public static double DerivativeFromOutput(int code, double y) => code switch
    {
        Tanh => TanhActivation.DerivativeFromOutput(y),
        Relu => ReluActivation.DerivativeFromOutput(y),
        _ => IdentityActivation.DerivativeFromOutput(y),
    };
}
