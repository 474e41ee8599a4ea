using Engine.Kernels;
using Engine.Model;
using Engine.Util;

namespace Engine.Backends;

/// <summary>Normalises the coefficients passed to <see cref="IEnsembleRunner.AdamStep"/> to one per (network, block).</summary>
public static class AdamBlocks
{
    /// <summary>
    /// Copies <paramref name="coefficients"/> ([E] or [E][BlockCount]) into <paramref name="perBlock"/> ([E][BlockCount]),
    /// repeating a network's coefficients over its blocks when only one per network is given.
    /// </summary>
    /// <exception cref="ArgumentException">The length is neither E nor E·BlockCount.</exception>
    public static void Expand(ReadOnlySpan<AdamCoefficients> coefficients, int networks, ParameterLayout layout, Span<AdamCoefficients> perBlock)
    {
        int blocks = layout.BlockCount;
        if (coefficients.Length == networks * blocks)
        {
            coefficients.CopyTo(perBlock);
            return;
        }

        Guard.Length(coefficients.Length, networks, nameof(coefficients), $"[E={networks}] or [E={networks}][blocks={blocks}]");
        for (int e = 0; e < networks; e++)
        {
            perBlock.Slice(e * blocks, blocks).Fill(coefficients[e]);
        }
    }
}
