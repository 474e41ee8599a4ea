using System.Globalization;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>Path integration in 2D or 3D: heading and speed in, position out, in a bounded arena.</summary>
/// <remarks>
/// Heading performs a random walk (θ_t = θ_{t−1} + 𝒩(0, 0.3²); in 3D the elevation too, kept in [−π/2, π/2]); speed
/// v_t ~ U(0, 0.2) per step. Inputs encode the heading as a unit direction and the speed: 2D (cos θ, sin θ, v);
/// 3D (cos e cos a, cos e sin a, sin e, v). The target is the position integrated from the origin and clipped to the
/// arena at every step: p_t = clip(p_{t−1} + v_t d_t, −5, 5). Every step scored.
/// Shapes: inputs [B][T][dims + 1], targets [B][T][dims]. OOD: trials twice as long.
/// </remarks>
public sealed class PathIntegrationTask : TrialTask
{
    /// <summary>Half-width of the arena.</summary>
    public const double Bound = 5.0;

    /// <summary>Creates the task.</summary>
    public PathIntegrationTask(int dimensions = 2, double maxSpeed = 0.2, double headingNoise = 0.3)
    {
        if (dimensions is not (2 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, $"path integration dimensions must be 2 or 3, got {dimensions}.");
        }

        Guard.InRange(maxSpeed, 1e-6, Bound, nameof(maxSpeed));
        Guard.InRange(headingNoise, 0, 10, nameof(headingNoise));
        Dimensions = dimensions;
        MaxSpeed = maxSpeed;
        HeadingNoise = headingNoise;
    }

    /// <summary>2 or 3.</summary>
    public int Dimensions { get; }

    /// <summary>Speeds are drawn from U(0, MaxSpeed).</summary>
    public double MaxSpeed { get; }

    /// <summary>Standard deviation of the heading's per-step change (radians).</summary>
    public double HeadingNoise { get; }

    /// <inheritdoc />
    public override string Name => "pathint";

    /// <inheritdoc />
    public override int Inputs => Dimensions + 1;

    /// <inheritdoc />
    public override int Outputs => Dimensions;

    /// <inheritdoc />
    public override double DefaultThreshold => 5e-2;

    /// <inheritdoc />
    public override int DefaultSteps => 100;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["dimensions"] = Dimensions.ToString(CultureInfo.InvariantCulture),
        ["max_speed"] = F(MaxSpeed),
        ["heading_noise"] = F(HeadingNoise),
    };

    /// <inheritdoc />
    protected override void GenerateTrial(Rng rng, int steps, Span<float> inputs, Span<float> targets, Span<float> mask)
    {
        int d = Dimensions, ni = Inputs;
        mask.Fill(1f);
        double az = rng.Uniform(-Math.PI, Math.PI);
        double el = d == 3 ? rng.Uniform(-Math.PI / 4, Math.PI / 4) : 0;
        Span<double> pos = stackalloc double[3];
        pos.Clear();
        Span<double> dir = stackalloc double[3];
        for (int t = 0; t < steps; t++)
        {
            az += HeadingNoise * rng.NextGaussian();
            if (d == 3)
            {
                el = Math.Clamp(el + HeadingNoise * rng.NextGaussian(), -Math.PI / 2, Math.PI / 2);
            }

            double v = rng.Uniform(0, MaxSpeed);
            dir[0] = Math.Cos(el) * Math.Cos(az);
            dir[1] = Math.Cos(el) * Math.Sin(az);
            dir[2] = Math.Sin(el);
            for (int k = 0; k < d; k++)
            {
                inputs[t * ni + k] = (float)dir[k];
                pos[k] = Math.Clamp(pos[k] + v * dir[k], -Bound, Bound);
                targets[t * d + k] = (float)pos[k];
            }

            inputs[t * ni + d] = (float)v;
        }
    }
}
