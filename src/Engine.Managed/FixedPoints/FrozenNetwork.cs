using Engine.Kernels;
using Engine.Model;

namespace Engine.FixedPoints;

/// <summary>One network with a constant input, in float64: the map F(h), its residual and its Jacobians.</summary>
/// <remarks>
/// Discrete and leaky cells: F(h, u) = (1 − α) h + α φ(z), z = W h + U u + b; recurrent Jacobian
/// ∂F/∂h = (1 − α) I + α diag(φ′(z)) W (N×N, row-major; discrete cell, α = 1: diag(φ′) W); input Jacobian
/// ∂F/∂u = α diag(φ′(z)) U (N×I). Rate cell (µP): F(h, u) = (1 − α) h + α (W φ(h) + U u + b);
/// ∂F/∂h = (1 − α) I + α W diag(φ′(h)); ∂F/∂u = α U. φ′ is taken through φ as in
/// <see cref="ActivationCode.DerivativeFromOutput(int, double)"/>.
/// </remarks>
public sealed class FrozenNetwork
{
    private readonly double[] _w, _u, _c;
    private readonly int _act;
    private readonly bool _rate;

    /// <summary>Copies network <paramref name="network"/> of a parameter block [E][P] with constant input u [I].</summary>
    public FrozenNetwork(EnsembleSpec spec, ReadOnlySpan<float> parameters, int network, ReadOnlySpan<float> input)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var layout = spec.Layout;
        Hidden = spec.Hidden;
        Inputs = spec.Inputs;
        Alpha = spec.EffectiveAlpha;
        _act = (int)spec.Activation;
        _rate = spec.Cell == CellType.Rate;
        var p = parameters.Slice(network * layout.Stride, layout.Stride);
        _w = new double[Hidden * Hidden];
        _u = new double[Hidden * Inputs];
        _c = new double[Hidden];
        for (int k = 0; k < _w.Length; k++)
        {
            _w[k] = p[layout.WRecOffset + k];
        }

        for (int k = 0; k < _u.Length; k++)
        {
            _u[k] = p[layout.WInOffset + k];
        }

        for (int i = 0; i < Hidden; i++)
        {
            double z = p[layout.BiasOffset + i];
            for (int j = 0; j < Inputs; j++)
            {
                z += _u[i * Inputs + j] * input[j];
            }

            _c[i] = z;
        }
    }

    /// <summary>N.</summary>
    public int Hidden { get; }

    /// <summary>I.</summary>
    public int Inputs { get; }

    /// <summary>α (1 for the discrete cell).</summary>
    public double Alpha { get; }

    /// <summary>W (N×N, row-major) in float64.</summary>
    public ReadOnlySpan<double> W => _w;

    /// <summary>True for the rate cell, whose W multiplies φ(h) rather than h.</summary>
    public bool Rate => _rate;

    /// <summary>Writes F(h) and, if not empty, the slopes (both [N]): φ′(z) (discrete, leaky) or φ′(h) (rate).</summary>
    public void Map(ReadOnlySpan<double> h, Span<double> f, Span<double> derivative)
    {
        int n = Hidden;
        if (_rate)
        {
            Span<double> a = n <= 512 ? stackalloc double[n] : new double[n];
            for (int j = 0; j < n; j++)
            {
                a[j] = ActivationCode.Apply(_act, h[j]);
                if (!derivative.IsEmpty)
                {
                    derivative[j] = ActivationCode.DerivativeFromOutput(_act, a[j]);
                }
            }

            for (int i = 0; i < n; i++)
            {
                double z = _c[i];
                var row = _w.AsSpan(i * n, n);
                for (int j = 0; j < n; j++)
                {
                    z += row[j] * a[j];
                }

                f[i] = (1 - Alpha) * h[i] + Alpha * z;
            }

            return;
        }

        for (int i = 0; i < n; i++)
        {
            double z = _c[i];
            var row = _w.AsSpan(i * n, n);
            for (int j = 0; j < n; j++)
            {
                z += row[j] * h[j];
            }

            double a = ActivationCode.Apply(_act, z);
            f[i] = (1 - Alpha) * h[i] + Alpha * a;
            if (!derivative.IsEmpty)
            {
                derivative[i] = ActivationCode.DerivativeFromOutput(_act, a);
            }
        }
    }

    /// <summary>r = F(h) − h into <paramref name="residual"/>; returns q = ½‖r‖².</summary>
    public double Residual(ReadOnlySpan<double> h, Span<double> residual)
    {
        Map(h, residual, Span<double>.Empty);
        double q = 0;
        for (int i = 0; i < Hidden; i++)
        {
            residual[i] -= h[i];
            q += 0.5 * residual[i] * residual[i];
        }

        return q;
    }

    /// <summary>∂F/∂h at h, N×N row-major.</summary>
    public void Jacobian(ReadOnlySpan<double> h, Span<double> jacobian)
    {
        int n = Hidden;
        Span<double> f = n <= 512 ? stackalloc double[n] : new double[n];
        Span<double> d = n <= 512 ? stackalloc double[n] : new double[n];
        Map(h, f, d);
        if (_rate)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    jacobian[i * n + j] = Alpha * _w[i * n + j] * d[j];
                }

                jacobian[i * n + i] += 1 - Alpha;
            }

            return;
        }

        for (int i = 0; i < n; i++)
        {
            double s = Alpha * d[i];
            for (int j = 0; j < n; j++)
            {
                jacobian[i * n + j] = s * _w[i * n + j];
            }

            jacobian[i * n + i] += 1 - Alpha;
        }
    }

    /// <summary>∂F/∂u at h, N×I row-major.</summary>
    public void InputJacobian(ReadOnlySpan<double> h, Span<double> jacobian)
    {
        int n = Hidden, ni = Inputs;
        Span<double> f = n <= 512 ? stackalloc double[n] : new double[n];
        Span<double> d = n <= 512 ? stackalloc double[n] : new double[n];
        Map(h, f, d);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < ni; j++)
            {
                jacobian[i * ni + j] = Alpha * (_rate ? 1.0 : d[i]) * _u[i * ni + j];
            }
        }
    }
}
