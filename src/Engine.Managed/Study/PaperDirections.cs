namespace Engine.Study;

/// <summary>The published direction of each factor's effect on degeneracy at each level, as the sign of Spearman's ρ between factor value and degeneracy.</summary>
/// <remarks>
/// Source: Huang et al. 2025, "Measuring and controlling solution degeneracy across task-trained recurrent neural
/// networks": "higher task complexity and stronger feature learning reduce degeneracy in neural dynamics but increase
/// it in weight space, with mixed effects on behavior; larger networks and structural regularization reduce
/// degeneracy at all three levels." Feature learning is µP γ; structural regularisation is ℓ1, nuclear norm and low
/// rank (a higher rank is less regularised, so its signs flip). The paper states no direction for the learning rate,
/// nor for representational (CKA) degeneracy: those are 0. This is the only place the directions are written down.
/// </remarks>
public static class PaperDirections
{
    /// <summary>Behavioural degeneracy (σ of OOD MSE).</summary>
    public const string Behavior = "behavior";

    /// <summary>Dynamical degeneracy (DSA).</summary>
    public const string Dynamics = "dynamics";

    /// <summary>Weight degeneracy (d_PIF).</summary>
    public const string Weights = "weights";

    /// <summary>Representational degeneracy (CKA distance).</summary>
    public const string Representation = "representation";

    /// <summary>The four levels with the metric that measures each, in report order.</summary>
    public static IReadOnlyList<(string Level, string Metric)> Levels { get; } =
    [
        (Behavior, "sigma_ood"),
        (Dynamics, "dsa"),
        (Weights, "pif"),
        (Representation, "cka"),
    ];

    // factor → (behavior, dynamics, weights); representation is 0 for every factor.
    private static readonly Dictionary<string, (int Behavior, int Dynamics, int Weights)> Table = new(StringComparer.Ordinal)
    {
        ["complexity"] = (0, -1, +1),
        ["gamma"] = (0, -1, +1),
        ["width"] = (-1, -1, -1),
        ["l1"] = (-1, -1, -1),
        ["nuclear"] = (-1, -1, -1),
        ["rank"] = (+1, +1, +1),
        ["learning_rate"] = (0, 0, 0),
    };

    /// <summary>+1, −1, or 0 (no published direction) for <paramref name="factor"/> at degeneracy level <paramref name="level"/>.</summary>
    public static int Of(string factor, string level)
    {
        if (!Table.TryGetValue(factor, out var d))
        {
            return 0;
        }

        return level switch
        {
            Behavior => d.Behavior,
            Dynamics => d.Dynamics,
            Weights => d.Weights,
            _ => 0,
        };
    }
}
