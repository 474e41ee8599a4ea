using Engine.Util;

namespace Engine.Model;

/// <summary>An ensemble's architecture, per-network seeds and its flat parameter block [E][P].</summary>
public sealed class Ensemble
{
    /// <summary>Wraps existing parameters (copied in the checks, not the data).</summary>
    /// <exception cref="ArgumentException">Seed count or block size disagree with the spec.</exception>
    public Ensemble(EnsembleSpec spec, long[] seeds, float[] parameters)
    {
        Spec = spec.Validate();
        Guard.Length(seeds.Length, spec.Networks, nameof(seeds), "[E]");
        Guard.Length(parameters.Length, (long)spec.Networks * spec.Layout.Stride, nameof(parameters), $"[E={spec.Networks}][P={spec.Layout.Stride}]");
        Seeds = seeds;
        Parameters = parameters;
    }

    /// <summary>The architecture.</summary>
    public EnsembleSpec Spec { get; }

    /// <summary>Seed of each network: it alone decides the network's initial weights and training trials.</summary>
    public long[] Seeds { get; }

    /// <summary>Parameters [E][P] in the order of <see cref="ParameterLayout"/>.</summary>
    public float[] Parameters { get; }

    /// <summary>The per-network layout.</summary>
    public ParameterLayout Layout => Spec.Layout;

    /// <summary>Initialises every network from its own seed (PyTorch's nn.RNN / nn.Linear init).</summary>
    /// <remarks>
    /// W, U, b ~ U(−1/√N, 1/√N); C, d ~ U(−1/√N, 1/√N) (nn.Linear with fan-in N); h₀ = 0 when learned.
    /// Network e draws only from <c>Rng.For(seeds[e], InitStream)</c>, so it is the same whatever ensemble it sits in.
    /// </remarks>
    public static Ensemble Initialize(EnsembleSpec spec, IReadOnlyList<long> seeds)
    {
        spec.Validate();
        Guard.Length(seeds.Count, spec.Networks, nameof(seeds), "[E]");
        var layout = spec.Layout;
        var p = new float[Guard.Buffer("parameters [E][P]", sizeof(float), spec.Networks, layout.Stride)];
        double bound = 1.0 / Math.Sqrt(spec.Hidden);
        for (int e = 0; e < spec.Networks; e++)
        {
            var rng = Rng.For(seeds[e], Rng.InitStream);
            var slice = layout.Network(p, e);
            int end = layout.H0Offset;
            for (int k = 0; k < end; k++)
            {
                slice[k] = (float)rng.Uniform(-bound, bound);
            }
        }

        return new Ensemble(spec, seeds.ToArray(), p);
    }

    /// <summary>Seeds baseSeed, baseSeed + 1, …: the default when a run gives one seed.</summary>
    public static long[] ConsecutiveSeeds(long baseSeed, int networks)
        => Enumerable.Range(0, networks).Select(i => baseSeed + i).ToArray();

    /// <summary>A one-network ensemble holding a copy of network <paramref name="network"/>.</summary>
    public Ensemble Network(int network)
    {
        Guard.InRange(network, 0, Spec.Networks - 1, nameof(network));
        return new Ensemble(Spec.WithNetworks(1), [Seeds[network]], Layout.Network(Parameters, network).ToArray());
    }

    /// <summary>An ensemble holding copies of the networks <paramref name="networks"/>, in that order.</summary>
    public Ensemble Select(IReadOnlyList<int> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        Guard.AtLeast(networks.Count, 1, nameof(networks));
        int per = Layout.Stride;
        var p = new float[Guard.Buffer("parameters [E][P]", sizeof(float), networks.Count, per)];
        for (int k = 0; k < networks.Count; k++)
        {
            Guard.InRange(networks[k], 0, Spec.Networks - 1, $"{nameof(networks)}[{k}]");
            Layout.Network(Parameters, networks[k]).CopyTo(p.AsSpan(k * per, per));
        }

        return new Ensemble(Spec.WithNetworks(networks.Count), networks.Select(e => Seeds[e]).ToArray(), p);
    }
}
