namespace Engine.Model;

/// <summary>What a <see cref="ParameterLayout"/> lays out.</summary>
public enum ParameterLayoutKind
{
    /// <summary>A network of an ensemble: W, U, b, C, d and a learned h₀.</summary>
    Network,

    /// <summary>A closed-loop agent: W, m, z and the rank-one factors u, v.</summary>
    Agent,
}

/// <summary>
/// The one flat parameter block of the engine: where each named parameter of one network, or one closed-loop agent,
/// sits inside its slice of the block.
/// </summary>
/// <remarks>
/// A block is an ordered list of named sub-blocks (<see cref="BlockCount"/>, <see cref="BlockStart"/>, <see cref="Entries"/>),
/// row-major throughout, and every model of the engine uses one: gradients and Adam moments share it, so an optimiser is
/// one elementwise pass with per-block coefficients.
/// <para>Networks (the public constructor): W (N×N, row i = unit i's incoming weights, so (W h)_i = Σ_j W[i,j] h_j),
/// U (N×I), b (N), C (O×N), d (O), and h₀ (N) when the initial state is learned. Network e occupies
/// [e·Stride, (e+1)·Stride) of the ensemble's parameter block.</para>
/// <para>Closed-loop agents (<see cref="Agent"/>): W (N×N), m (N×q, <c>m[i*q + k]</c>), z (N×p, <c>z[i*p + j]</c>), u (N),
/// v (N). Agent: h_{t+1} = (1 − α) h_t + α φ(W h_t + m y_{t+1}), u_t = zᵀ h_t; q = <see cref="Observations"/> counts the
/// agent's inputs, p = <see cref="Controls"/> its controls. In the rank-one parametrisation W = u vᵀ and the W slot holds
/// that product (refreshed by <see cref="SyncRankOne"/>); its gradient is mapped to the factors by <see cref="FactorGradients"/>.</para>
/// </remarks>
public readonly record struct ParameterLayout
{
    /// <summary>The layout of one network of an ensemble.</summary>
    public ParameterLayout(int hidden, int inputs, int outputs, bool learnedInitialState)
        : this(ParameterLayoutKind.Network, hidden, inputs, outputs, learnedInitialState)
    {
    }

    private ParameterLayout(ParameterLayoutKind kind, int hidden, int inputs, int outputs, bool learnedInitialState)
    {
        Kind = kind;
        Hidden = hidden;
        Inputs = inputs;
        Outputs = outputs;
        LearnedInitialState = learnedInitialState;
    }

    /// <summary>The layout of one closed-loop agent with <paramref name="observations"/> inputs and <paramref name="controls"/> controls.</summary>
    public static ParameterLayout Agent(int hidden, int observations, int controls) => new(ParameterLayoutKind.Agent, hidden, observations, controls, false);

    /// <summary>Network or agent.</summary>
    public ParameterLayoutKind Kind { get; }

    /// <summary>N, hidden units.</summary>
    public int Hidden { get; }

    /// <summary>I, input channels (an agent's observations q).</summary>
    public int Inputs { get; }

    /// <summary>O, outputs (an agent's controls p).</summary>
    public int Outputs { get; }

    /// <summary>Whether a network learns h₀ (never for agents).</summary>
    public bool LearnedInitialState { get; }

    /// <summary>q, an agent's inputs (the same number as <see cref="Inputs"/>).</summary>
    public int Observations => Inputs;

    /// <summary>p, an agent's controls (the same number as <see cref="Outputs"/>).</summary>
    public int Controls => Outputs;

    /// <summary>Named blocks per network or agent (the order of <see cref="Entries"/>).</summary>
    public int BlockCount => Kind == ParameterLayoutKind.Agent || !LearnedInitialState ? 5 : 6;

    /// <summary>Parameters per network or agent.</summary>
    public int Stride => Kind == ParameterLayoutKind.Agent ? VOffset + Hidden : H0Offset + H0Length;

    /// <summary>Parameters per agent (the same number as <see cref="Stride"/>).</summary>
    public int Length => Stride;

    /// <summary>Offset of block <paramref name="block"/> within a network's or agent's slice.</summary>
    /// <remarks>Networks: 0 W, 1 U, 2 b, 3 C, 4 d, 5 h₀; agents: 0 W, 1 m, 2 z, 3 u, 4 v.</remarks>
    public int BlockStart(int block) => (Kind, block) switch
    {
        _ when block < 0 || block >= BlockCount => throw new ArgumentOutOfRangeException(nameof(block), block, $"block must be in [0, {BlockCount})."),
        (_, 0) => WRecOffset,
        (_, 1) => WInOffset,
        (ParameterLayoutKind.Network, 2) => BiasOffset,
        (ParameterLayoutKind.Network, 3) => WOutOffset,
        (ParameterLayoutKind.Network, 4) => BOutOffset,
        (ParameterLayoutKind.Network, _) => H0Offset,
        (_, 2) => ZOffset,
        (_, 3) => UOffset,
        _ => VOffset,
    };

    /// <summary>End (exclusive) of block <paramref name="block"/> within a network's or agent's slice.</summary>
    public int BlockEnd(int block) => block + 1 < BlockCount ? BlockStart(block + 1) : Stride;

    /// <summary>Named (name, offset, length) entries, for file formats and importers.</summary>
    public IEnumerable<(string Name, int Offset, int Length)> Entries()
    {
        string[] names = Kind == ParameterLayoutKind.Agent ? ["W", "m", "z", "u", "v"] : ["W", "U", "b", "C", "d", "h0"];
        for (int b = 0; b < BlockCount; b++)
        {
            yield return (names[b], BlockStart(b), BlockEnd(b) - BlockStart(b));
        }
    }

    /// <summary>Offset of W (N×N), networks and agents alike.</summary>
    public int WRecOffset => 0;

    /// <summary>Offset of U (N×I).</summary>
    public int WInOffset => Hidden * Hidden;

    /// <summary>Offset of b (N).</summary>
    public int BiasOffset => WInOffset + Hidden * Inputs;

    /// <summary>Offset of C (O×N).</summary>
    public int WOutOffset => BiasOffset + Hidden;

    /// <summary>Offset of d (O).</summary>
    public int BOutOffset => WOutOffset + Outputs * Hidden;

    /// <summary>Offset of h₀ (N), meaningful only when learned.</summary>
    public int H0Offset => BOutOffset + Outputs;

    /// <summary>Length of h₀ in the block: N when learned, else 0.</summary>
    public int H0Length => LearnedInitialState ? Hidden : 0;

    /// <summary>The slice of network <paramref name="network"/> in an ensemble block.</summary>
    public Span<float> Network(Span<float> block, int network) => block.Slice(network * Stride, Stride);

    /// <summary>W of one network.</summary>
    public Span<float> WRec(Span<float> block, int network) => Network(block, network).Slice(WRecOffset, Hidden * Hidden);

    /// <summary>U of one network.</summary>
    public Span<float> WIn(Span<float> block, int network) => Network(block, network).Slice(WInOffset, Hidden * Inputs);

    /// <summary>b of one network.</summary>
    public Span<float> Bias(Span<float> block, int network) => Network(block, network).Slice(BiasOffset, Hidden);

    /// <summary>C of one network.</summary>
    public Span<float> WOut(Span<float> block, int network) => Network(block, network).Slice(WOutOffset, Outputs * Hidden);

    /// <summary>d of one network.</summary>
    public Span<float> BOut(Span<float> block, int network) => Network(block, network).Slice(BOutOffset, Outputs);

    /// <summary>h₀ of one network (empty when not learned).</summary>
    public Span<float> H0(Span<float> block, int network) => Network(block, network).Slice(H0Offset, H0Length);

    /// <summary>Offset of an agent's W (N×N).</summary>
    public int WOffset => 0;

    /// <summary>Offset of an agent's m (N×q).</summary>
    public int MOffset => Hidden * Hidden;

    /// <summary>Offset of an agent's z (N×p).</summary>
    public int ZOffset => MOffset + Hidden * Inputs;

    /// <summary>Offset of an agent's factor u (N).</summary>
    public int UOffset => ZOffset + Hidden * Outputs;

    /// <summary>Offset of an agent's factor v (N).</summary>
    public int VOffset => UOffset + Hidden;

    /// <summary>An agent's W (N×N).</summary>
    public Span<double> W(double[] p) => p.AsSpan(WOffset, Hidden * Hidden);

    /// <summary>An agent's m (N×q).</summary>
    public Span<double> M(double[] p) => p.AsSpan(MOffset, Hidden * Inputs);

    /// <summary>An agent's z (N×p).</summary>
    public Span<double> Z(double[] p) => p.AsSpan(ZOffset, Hidden * Outputs);

    /// <summary>An agent's u (N).</summary>
    public Span<double> U(double[] p) => p.AsSpan(UOffset, Hidden);

    /// <summary>An agent's v (N).</summary>
    public Span<double> V(double[] p) => p.AsSpan(VOffset, Hidden);

    /// <summary>Throws unless this is an agent's layout (<see cref="Agent"/>), naming the parameter.</summary>
    /// <exception cref="ArgumentException">A network's layout where an agent's was expected.</exception>
    public void CheckAgent(string name)
    {
        if (Kind != ParameterLayoutKind.Agent)
        {
            throw new ArgumentException($"{name} must be an agent's layout (ParameterLayout.Agent), got a network's ({Hidden} units, {Inputs} inputs, {Outputs} outputs).", name);
        }
    }

    /// <summary>Writes W = u vᵀ into an agent's W slot.</summary>
    public void SyncRankOne(double[] p)
    {
        int n = Hidden;
        for (int i = 0; i < n; i++)
        {
            double ui = p[UOffset + i];
            for (int j = 0; j < n; j++)
            {
                p[i * n + j] = ui * p[VOffset + j];
            }
        }
    }

    /// <summary>Maps an agent's W gradient to the factor gradients: gu = G v, gv = Gᵀ u (G in the W slot of <paramref name="grad"/>).</summary>
    public void FactorGradients(double[] p, double[] grad)
    {
        int n = Hidden;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < n; j++)
            {
                s += grad[i * n + j] * p[VOffset + j];
            }

            grad[UOffset + i] += s;
        }

        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                s += grad[i * n + j] * p[UOffset + i];
            }

            grad[VOffset + j] += s;
        }
    }
}
