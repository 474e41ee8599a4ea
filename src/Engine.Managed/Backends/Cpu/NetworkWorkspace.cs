using System.Runtime.CompilerServices;
using Engine.Model;
using Engine.Numerics;

namespace Engine.Backends.Cpu;

/// <summary>
/// Everything one network needs for a forward and backward pass in float32: packed parameters, the state
/// sequence, the stored derivatives, the errors and the gradient accumulators, all padded for the micro-kernel.
/// </summary>
/// <remarks>
/// Internal layouts are time-major so that one step of all trials is one contiguous (Bp × Np) matrix:
/// H [T+1][Bp][Np] (row block 0 is h₀), P [T][Bp][Np] (noise σ√α ξ, then φ′(a), then δ in place),
/// X̃ [T][Bp][Ip] (inputs with a trailing 1 for the bias), Y and errors [T][Bp][Op]; the rate cell adds the rates
/// R = φ(H) [T+1][Bp][Np] and the back-projection Q = δ W [Bp][Np] (its P holds noise, then δ). Bp rounds B up to a multiple
/// of 4, Np rounds N up to 16, Ip rounds I + 1 up to 4, Op rounds O up to 4. Padding is zero and stays zero
/// (padded trials carry zero error, so they add nothing to any gradient). A workspace serves one network at a
/// time; it is sized on first use for (B, T) and reused.
/// </remarks>
internal sealed unsafe partial class NetworkWorkspace
{
    private const int ChunkRows = 128;

    private readonly int _n, _ni, _no, _np, _ip, _op;
    private readonly float _alpha, _noiseScale;
    private readonly bool _learnedH0, _wide, _rate;
    private readonly ActivationKind _activation;
    private readonly ParameterLayout _layout;

    // Packed parameters: Wᵀ and W as [Np][Np], [Uᵀ; bᵀ] as [Ip][Np], C as [Op][Np], d, h₀.
    private readonly AlignedBuffer _wt, _wr, _ut, _cp, _h0;
    private readonly float[] _d;

    // Gradient accumulators: dW [Np][Np], [dUᵀ; dbᵀ] [Ip][Np], dC [Op][Np], dd.
    private readonly AlignedBuffer _dw, _dut, _dc;
    private readonly double[] _dd;

    private int _b, _bp, _t;
    private AlignedBuffer _h = null!, _p = null!, _x = null!, _y = null!, _err = null!, _g = null!;

    // Rate cell only: R = φ(H) [T+1][Bp][Np] and Q = δ_t W [Bp][Np]; null for the other cells.
    private AlignedBuffer? _r, _q;

    // A state loss's dL/dh_t of the first _extraTrials trials, [T][Bp][Np] (rows of later trials unused), and its
    // gather buffers [P][T][N]; _extraTrials = 0 when there is none this pass.
    private AlignedBuffer? _extra;
    private float[] _probeStates = [], _probeGradient = [];
    private int _extraTrials;

    /// <summary>Creates the packed-parameter and gradient buffers for one network of <paramref name="spec"/>.</summary>
    public NetworkWorkspace(EnsembleSpec spec, bool wide)
    {
        _n = spec.Hidden;
        _ni = spec.Inputs;
        _no = spec.Outputs;
        _np = RoundUp(_n, 16);
        _ip = RoundUp(_ni + 1, TileKernel.Rows);
        _op = RoundUp(_no, TileKernel.Rows);
        _alpha = spec.EffectiveAlpha;
        _noiseScale = spec.NoiseStd * MathF.Sqrt(_alpha);
        _learnedH0 = spec.InitialState == InitialStateKind.Learned;
        _rate = spec.Cell == CellType.Rate;
        _activation = spec.Activation;
        _layout = spec.Layout;
        _wide = wide;
        _wt = new AlignedBuffer((long)_np * _np);
        _wr = new AlignedBuffer((long)_np * _np);
        _ut = new AlignedBuffer((long)_ip * _np);
        _cp = new AlignedBuffer((long)_op * _np);
        _h0 = new AlignedBuffer(_np);
        _d = new float[_no];
        _dw = new AlignedBuffer((long)_np * _np);
        _dut = new AlignedBuffer((long)_ip * _np);
        _dc = new AlignedBuffer((long)_op * _np);
        _dd = new double[_no];
    }

    /// <summary>Trials padded to the micro-kernel's row count.</summary>
    public int PaddedTrials => _bp;

    /// <summary>The masked MSE of the last <see cref="Errors"/> call.</summary>
    public double Loss { get; private set; }

    /// <summary>Rounds up to a multiple.</summary>
    public static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>Sizes the sequence buffers for B trials of T steps, reusing them while they are large enough.</summary>
    /// <remarks>Padding that a smaller shape exposes is rewritten by <see cref="Load"/> and <see cref="Errors"/>.</remarks>
    public void EnsureShape(int trials, int steps)
    {
        if (trials == _b && steps == _t)
        {
            return;
        }

        _b = trials;
        _t = steps;
        _bp = RoundUp(trials, TileKernel.Rows);
        Engine.Util.Guard.Buffer("CPU workspace states of one network [T+1][B][N]", sizeof(float), steps + 1L, _bp, _np);
        long rows = (long)steps * _bp;
        _h = Fit(_h, (rows + _bp) * _np);
        _p = Fit(_p, rows * _np);
        _x = Fit(_x, rows * _ip);
        _y = Fit(_y, rows * _op);
        _err = Fit(_err, rows * _op);
        _g = Fit(_g, (long)_bp * _np);
        if (_rate)
        {
            _r = Fit(_r, (rows + _bp) * _np);
            _q = Fit(_q, (long)_bp * _np);
        }
    }

    private static AlignedBuffer Fit(AlignedBuffer? buffer, long length)
        => buffer is not null && buffer.Length >= length ? buffer : new AlignedBuffer(length);

    /// <summary>Packs one network's parameters [P] into the kernel layouts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(ReadOnlySpan<float> p)
    {
        int n = _n, np = _np;
        var w = p.Slice(_layout.WRecOffset, n * n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float v = w[i * n + j];
                _wr.Pointer[i * np + j] = v;
                _wt.Pointer[j * np + i] = v;
            }
        }

        var u = p.Slice(_layout.WInOffset, n * _ni);
        var bias = p.Slice(_layout.BiasOffset, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < _ni; j++)
            {
                _ut.Pointer[j * np + i] = u[i * _ni + j];
            }

            _ut.Pointer[_ni * np + i] = bias[i];
        }

        var c = p.Slice(_layout.WOutOffset, _no * n);
        for (int o = 0; o < _no; o++)
        {
            c.Slice(o * n, n).CopyTo(new Span<float>(_cp.Pointer + o * np, n));
        }

        p.Slice(_layout.BOutOffset, _no).CopyTo(_d);
        if (_learnedH0)
        {
            p.Slice(_layout.H0Offset, n).CopyTo(new Span<float>(_h0.Pointer, n));
        }
    }

    /// <summary>Copies trials [r0, r1) of the batch in: X̃, scaled noise into P, and h₀ into H's first block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Load(TrialBatch batch, int network, int r0, int r1)
    {
        int s = batch.SetOf(network), b = _b, t = _t, ni = _ni, n = _n, np = _np, ip = _ip, bp = _bp;
        var inputs = batch.Inputs.AsSpan(s * b * t * ni, b * t * ni);
        bool noise = _noiseScale != 0f;
        var xi = noise ? batch.Noise.AsSpan(network * b * t * n, b * t * n) : default;
        for (int r = r0; r < r1; r++)
        {
            var h0 = new Span<float>(_h.Pointer + r * np, np);
            if (_learnedH0)
            {
                new ReadOnlySpan<float>(_h0.Pointer, np).CopyTo(h0);
            }
            else
            {
                h0.Clear();
            }

            for (int k = 0; k < t; k++)
            {
                float* x = _x.Pointer + ((long)k * bp + r) * ip;
                float* pn = _p.Pointer + ((long)k * bp + r) * np;
                if (r >= b)
                {
                    new Span<float>(x, ip).Clear();
                    new Span<float>(pn, np).Clear();
                    continue;
                }

                for (int j = 0; j < ni; j++)
                {
                    x[j] = inputs[(r * t + k) * ni + j];
                }

                x[ni] = 1f;
                if (noise)
                {
                    var src = xi.Slice((r * t + k) * n, n);
                    for (int i = 0; i < n; i++)
                    {
                        pn[i] = _noiseScale * src[i];
                    }

                    new Span<float>(pn + n, np - n).Clear();
                }
            }
        }
    }

    /// <summary>Writes trials' outputs [B][T][O] and, when not null, states [B][T][N] of this network in the public layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void WriteOutputs(float* outputs, float* states)
    {
        int b = _b, t = _t, n = _n, no = _no, np = _np, bp = _bp;
        for (int r = 0; r < b; r++)
        {
            for (int k = 0; k < t; k++)
            {
                float* y = _y.Pointer + ((long)k * bp + r) * _op;
                float* dst = outputs + ((long)r * t + k) * no;
                for (int o = 0; o < no; o++)
                {
                    dst[o] = y[o];
                }

                if (states != null)
                {
                    new ReadOnlySpan<float>(_h.Pointer + ((long)(k + 1) * bp + r) * np, n).CopyTo(new Span<float>(states + ((long)r * t + k) * n, n));
                }
            }
        }
    }

    /// <summary>Writes the gradient of this network [P] from the accumulators and returns its squared norm.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double Finish(Span<float> gradient)
    {
        int n = _n, np = _np;
        for (int i = 0; i < n; i++)
        {
            new ReadOnlySpan<float>(_dw.Pointer + i * np, n).CopyTo(gradient.Slice(_layout.WRecOffset + i * n, n));
            for (int j = 0; j < _ni; j++)
            {
                gradient[_layout.WInOffset + i * _ni + j] = _dut.Pointer[j * np + i];
            }

            gradient[_layout.BiasOffset + i] = _dut.Pointer[_ni * np + i];
        }

        for (int o = 0; o < _no; o++)
        {
            new ReadOnlySpan<float>(_dc.Pointer + o * np, n).CopyTo(gradient.Slice(_layout.WOutOffset + o * n, n));
            gradient[_layout.BOutOffset + o] = (float)_dd[o];
        }

        if (_learnedH0)
        {
            for (int i = 0; i < n; i++)
            {
                float sum = 0f;
                for (int r = 0; r < _b; r++)
                {
                    sum += _g.Pointer[r * np + i];
                }

                gradient[_layout.H0Offset + i] = sum;
            }
        }

        double norm = 0;
        foreach (float g in gradient)
        {
            norm += (double)g * g;
        }

        return norm;
    }
}
