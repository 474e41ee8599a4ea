using System.Globalization;
using Engine.Util;

namespace Engine.Tasks;

/// <summary>Path integration in 2D or 3D: heading and speed in, position out (or, in 2D, a place-cell population code of it), in a bounded arena.</summary>
/// <remarks>
/// Heading performs a random walk (θ_t = θ_{t−1} + 𝒩(0, 0.3²); in 3D the elevation too, kept in [−π/2, π/2]); speed
/// v_t ~ U(0, 0.2) per step. Inputs encode the heading as a unit direction and the speed: 2D (cos θ, sin θ, v);
/// 3D (cos e cos a, cos e sin a, sin e, v). The position is integrated from the origin and clipped to the
/// arena at every step: p_t = clip(p_{t−1} + v_t d_t, −5, 5). Every step scored.
/// Outputs: the position itself (targets [B][T][dims]), or with <see cref="PlaceCells"/> = Np &gt; 0 (2D only) the place
/// code of Chu et al. / Sorscher et al. (SEEDS §1): centres c_k uniform in the arena (fixed, seeded), a difference of
/// softmaxes y_k = softmax_k(−|p − c_k|²/2σ²) − softmax_k(−|p − c_k|²/4σ²), shifted to min 0 and normalised to sum 1,
/// then scaled by Np so a cell's mean target is 1 (the engine trains by MSE; the paper by cross-entropy on the sum-1
/// code). σ = <see cref="PlaceWidth"/>; by default the paper's ratio of field width to centre spacing (0.12 m against
/// 2.2 m / √512), σ = 12.4 / √Np in this 10-wide arena (0.55 at Np = 512, 1.55 at 64): with fewer cells per field the
/// code has one cell above its pedestal and the 3 largest outputs no longer sit around the position.
/// <see cref="Decode"/> turns outputs back into a position: the output itself, or the mean centre of the 3 largest outputs.
/// OOD: trials twice as long.
/// </remarks>
public sealed class PathIntegrationTask : TrialTask
{
    /// <summary>Half-width of the arena.</summary>
    public const double Bound = 5.0;

    /// <summary>Seed of the place-cell centres (the same for every run, so a network's outputs keep their meaning).</summary>
    public const ulong PlaceCentreSeed = 0x91ACE;

    private readonly double[] _centres;

    /// <summary>Creates the task.</summary>
    public PathIntegrationTask(int dimensions = 2, double maxSpeed = 0.2, double headingNoise = 0.3, int placeCells = 0, double placeWidth = 0)
    {
        if (dimensions is not (2 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, $"path integration dimensions must be 2 or 3, got {dimensions}.");
        }

        Guard.InRange(maxSpeed, 1e-6, Bound, nameof(maxSpeed));
        Guard.InRange(headingNoise, 0, 10, nameof(headingNoise));
        if (placeCells != 0 && (placeCells < 3 || placeCells > 4096))
        {
            throw new ArgumentOutOfRangeException(nameof(placeCells), placeCells, $"place_cells must be 0 (position output) or 3–4096, got {placeCells}.");
        }

        if (placeCells > 0 && dimensions != 2)
        {
            throw new ArgumentException($"place_cells needs dimensions 2, got {dimensions}.", nameof(placeCells));
        }

        if (placeWidth == 0 && placeCells > 0)
        {
            placeWidth = PaperWidthRatio * 2 * Bound / Math.Sqrt(placeCells);
        }

        if (placeCells > 0)
        {
            Guard.InRange(placeWidth, 1e-3, 2 * Bound, nameof(placeWidth));
        }

        Dimensions = dimensions;
        MaxSpeed = maxSpeed;
        HeadingNoise = headingNoise;
        PlaceCells = placeCells;
        PlaceWidth = placeWidth;
        _centres = new double[2 * placeCells];
        var rng = new Rng(PlaceCentreSeed);
        for (int k = 0; k < _centres.Length; k++)
        {
            _centres[k] = rng.Uniform(-Bound, Bound);
        }
    }

    /// <summary>2 or 3.</summary>
    public int Dimensions { get; }

    /// <summary>Speeds are drawn from U(0, MaxSpeed).</summary>
    public double MaxSpeed { get; }

    /// <summary>Standard deviation of the heading's per-step change (radians).</summary>
    public double HeadingNoise { get; }

    /// <summary>Np, place cells of the population output; 0 for the direct position output.</summary>
    public int PlaceCells { get; }

    /// <summary>σ over the centre spacing in Chu et al.'s setup: 0.12 m against 2.2 m / √512.</summary>
    public const double PaperWidthRatio = 0.12 / (2.2 / 22.627416997969522);

    /// <summary>σ of the place fields (arena units; 0 for the position output).</summary>
    public double PlaceWidth { get; }

    /// <summary>Place-cell centres [Np][2] (x, y).</summary>
    public ReadOnlySpan<double> PlaceCentres => _centres;

    /// <inheritdoc />
    public override string Name => "pathint";

    /// <inheritdoc />
    public override int Inputs => Dimensions + 1;

    /// <inheritdoc />
    public override int Outputs => PlaceCells > 0 ? PlaceCells : Dimensions;

    /// <inheritdoc />
    public override double DefaultThreshold => PlaceCells > 0 ? PlaceThreshold : 5e-2;

    /// <summary>The place-cell variant's stop MSE (0.1). The code's MSE with zero outputs is about 4 at 64 cells; 4 networks of N = 128 reach 0.09–0.2 in 2000 epochs, decoding to 7% of the arena side (the position output: 2.5%).</summary>
    public const double PlaceThreshold = 0.1;

    /// <inheritdoc />
    public override int DefaultSteps => 100;

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["dimensions"] = Dimensions.ToString(CultureInfo.InvariantCulture),
        ["max_speed"] = F(MaxSpeed),
        ["heading_noise"] = F(HeadingNoise),
        ["place_cells"] = PlaceCells.ToString(CultureInfo.InvariantCulture),
        ["place_width"] = F(PlaceWidth),
    };

    /// <summary>Like <see cref="TrialTask.Generate"/>, and also writes the true positions [B][T][dims] (the targets of the place-cell variant are its code).</summary>
    public void GenerateWithPositions(Rng rng, int trials, int steps, Span<float> inputs, Span<float> targets, Span<float> mask, Span<float> positions)
    {
        Guard.Length(positions.Length, (long)trials * steps * Dimensions, nameof(positions), $"[B={trials}][T={steps}][{Dimensions}]");
        Generate(rng, trials, steps, inputs, targets, mask);
        if (PlaceCells == 0)
        {
            targets.CopyTo(positions);
            return;
        }

        // The walk depends only on the inputs: integrate them again, as GenerateTrial does for this variant.
        int d = Dimensions, ni = Inputs;
        Span<double> pos = stackalloc double[3];
        for (int b = 0; b < trials; b++)
        {
            pos.Clear();
            for (int t = 0; t < steps; t++)
            {
                int row = b * steps + t;
                double v = inputs[row * ni + d];
                for (int k = 0; k < d; k++)
                {
                    pos[k] = Math.Clamp(pos[k] + v * inputs[row * ni + k], -Bound, Bound);
                    positions[row * d + k] = (float)pos[k];
                }
            }
        }
    }

    /// <summary>Positions [S][dims] from outputs [S][Outputs]: the outputs themselves, or the mean centre of the 3 largest place-cell outputs.</summary>
    public void Decode(ReadOnlySpan<float> outputs, Span<float> positions)
    {
        int samples = outputs.Length / Outputs;
        Guard.Length(positions.Length, (long)samples * Dimensions, nameof(positions), $"[S={samples}][{Dimensions}]");
        if (PlaceCells == 0)
        {
            outputs.CopyTo(positions);
            return;
        }

        for (int s = 0; s < samples; s++)
        {
            var y = outputs.Slice(s * PlaceCells, PlaceCells);
            int a = -1, b = -1, c = -1;
            for (int k = 0; k < PlaceCells; k++)
            {
                if (a < 0 || y[k] > y[a])
                {
                    (c, b, a) = (b, a, k);
                }
                else if (b < 0 || y[k] > y[b])
                {
                    (c, b) = (b, k);
                }
                else if (c < 0 || y[k] > y[c])
                {
                    c = k;
                }
            }

            positions[2 * s] = (float)((_centres[2 * a] + _centres[2 * b] + _centres[2 * c]) / 3);
            positions[2 * s + 1] = (float)((_centres[2 * a + 1] + _centres[2 * b + 1] + _centres[2 * c + 1]) / 3);
        }
    }

    /// <summary>The scaled place code of position (x, y) into dst [Np] (see the remarks).</summary>
    public void PlaceCode(double x, double y, Span<float> dst)
    {
        int np = PlaceCells;
        Guard.Length(dst.Length, np, nameof(dst), $"[Np={np}]");
        Span<double> d2 = np <= 1024 ? stackalloc double[np] : new double[np];
        double min1 = double.MaxValue;
        for (int k = 0; k < np; k++)
        {
            double dx = x - _centres[2 * k], dy = y - _centres[2 * k + 1];
            d2[k] = dx * dx + dy * dy;
            min1 = Math.Min(min1, d2[k]);
        }

        double s2 = PlaceWidth * PlaceWidth, z1 = 0, z2 = 0;
        for (int k = 0; k < np; k++)
        {
            z1 += Math.Exp(-(d2[k] - min1) / (2 * s2));
            z2 += Math.Exp(-(d2[k] - min1) / (4 * s2));
        }

        double lo = double.MaxValue, sum = 0;
        for (int k = 0; k < np; k++)
        {
            double v = Math.Exp(-(d2[k] - min1) / (2 * s2)) / z1 - Math.Exp(-(d2[k] - min1) / (4 * s2)) / z2;
            dst[k] = (float)v;
            lo = Math.Min(lo, v);
        }

        for (int k = 0; k < np; k++)
        {
            sum += dst[k] - lo;
        }

        for (int k = 0; k < np; k++)
        {
            dst[k] = (float)((dst[k] - lo) / sum * np);
        }
    }

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
            inputs[t * ni + d] = (float)v;
            for (int k = 0; k < d; k++)
            {
                inputs[t * ni + k] = (float)dir[k];
                // the place variant integrates the float32 inputs, so GenerateWithPositions recovers the same walk exactly
                double stepK = PlaceCells > 0 ? (double)inputs[t * ni + d] * inputs[t * ni + k] : v * dir[k];
                pos[k] = Math.Clamp(pos[k] + stepK, -Bound, Bound);
                if (PlaceCells == 0)
                {
                    targets[t * d + k] = (float)pos[k];
                }
            }

            if (PlaceCells > 0)
            {
                PlaceCode(pos[0], pos[1], targets.Slice(t * PlaceCells, PlaceCells));
            }
        }
    }
}
