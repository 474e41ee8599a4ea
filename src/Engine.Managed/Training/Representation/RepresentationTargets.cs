namespace Engine.Training.Representation;

/// <summary>What the representational terms of a run compare with: the guide's states and earlier runs' states on the probe trials.</summary>
/// <param name="Guide">The guide's states (required when any guidance λ is above 0).</param>
/// <param name="Earlier">Earlier runs' states, diversity targets besides the ensemble's own earlier networks (may be empty).</param>
public sealed record RepresentationTargets(GuideStates? Guide, IReadOnlyList<GuideStates> Earlier)
{
    /// <summary>No guide, no earlier runs.</summary>
    public static RepresentationTargets None { get; } = new(null, []);
}
