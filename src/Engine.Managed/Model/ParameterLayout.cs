namespace Engine.Model;

/// <summary>Where each named parameter of one network sits inside its slice of the flat block.</summary>
/// <remarks>
/// Per network, in order: W (N×N, row i = unit i's incoming weights, so (W h)_i = Σ_j W[i,j] h_j),
/// U (N×I), b (N), C (O×N), d (O), and h₀ (N) when the initial state is learned. Network e occupies
/// [e·Stride, (e+1)·Stride) of the ensemble's parameter block; gradients and Adam moments use the same layout.
/// </remarks>
public readonly record struct ParameterLayout(int Hidden, int Inputs, int Outputs, bool LearnedInitialState)
{
    /// <summary>Offset of W (N×N).</summary>
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

    /// <summary>Parameters per network.</summary>
    public int Stride => H0Offset + H0Length;

    /// <summary>Named blocks per network: W, U, b, C, d, and h₀ when learned (the order of <see cref="Entries"/>).</summary>
    public int BlockCount => LearnedInitialState ? 6 : 5;

    /// <summary>Offset of block <paramref name="block"/> (0 W, 1 U, 2 b, 3 C, 4 d, 5 h₀) within a network's slice.</summary>
    public int BlockStart(int block) => block switch
    {
        0 => WRecOffset,
        1 => WInOffset,
        2 => BiasOffset,
        3 => WOutOffset,
        4 => BOutOffset,
        5 => H0Offset,
        _ => throw new ArgumentOutOfRangeException(nameof(block), block, $"block must be in [0, {BlockCount})."),
    };

    /// <summary>End (exclusive) of block <paramref name="block"/> within a network's slice.</summary>
    public int BlockEnd(int block) => block + 1 < BlockCount ? BlockStart(block + 1) : Stride;

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

    /// <summary>Named (name, offset, length) entries, for file formats and importers.</summary>
    public IEnumerable<(string Name, int Offset, int Length)> Entries()
    {
        yield return ("W", WRecOffset, Hidden * Hidden);
        yield return ("U", WInOffset, Hidden * Inputs);
        yield return ("b", BiasOffset, Hidden);
        yield return ("C", WOutOffset, Outputs * Hidden);
        yield return ("d", BOutOffset, Outputs);
        if (LearnedInitialState)
        {
            yield return ("h0", H0Offset, Hidden);
        }
    }
}
