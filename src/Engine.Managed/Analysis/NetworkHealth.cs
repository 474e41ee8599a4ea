using Engine.Model;
using Engine.Training;

namespace Engine.Analysis;

/// <summary>Which networks an analysis must treat as diverged: non-finite parameters, outputs or states, or marked diverged in training.</summary>
/// <remarks>
/// Every analysis verb asks here first, so a network that blew up is skipped (or reported) the same way everywhere instead of
/// turning a whole result into NaN, a failed eigen-decomposition or a JSON writer error.
/// </remarks>
public static class NetworkHealth
{
    /// <summary>The file and JSON name of the status of a network an analysis skipped.</summary>
    public const string DivergedName = "diverged";

    /// <summary>True when every value is finite (no NaN, no ±Inf).</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when network <paramref name="network"/>'s parameters are all finite.</summary>
    public static bool FiniteParameters(Ensemble ensemble, int network)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        return AllFinite(ensemble.Layout.Network(ensemble.Parameters, network));
    }

    /// <summary>Why network <paramref name="network"/> of a trained run counts as diverged, or null when it does not.</summary>
    public static string? Problem(TrainingState state, int network)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!FiniteParameters(state.Ensemble, network))
        {
            return "non-finite parameters";
        }

        return state.Networks[network].Status == NetworkStatus.Diverged ? "diverged in training" : null;
    }

    /// <summary>The reason per network of <see cref="Problem(TrainingState, int)"/> (null for a healthy network) [E].</summary>
    public static string?[] Problems(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return Enumerable.Range(0, state.Ensemble.Spec.Networks).Select(e => Problem(state, e)).ToArray();
    }

    /// <summary>Why network <paramref name="network"/> of an ensemble without training history counts as diverged, or null.</summary>
    public static string? Problem(Ensemble ensemble, int network)
        => FiniteParameters(ensemble, network) ? null : "non-finite parameters";

    /// <summary>The line an analysis prints for a skipped network.</summary>
    public static string SkipLine(int network, string reason) => $"  network {network,3}: {DivergedName} ({reason}), skipped";
}
