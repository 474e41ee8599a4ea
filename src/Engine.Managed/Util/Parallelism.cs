using System.Runtime.ExceptionServices;

namespace Engine.Util;

/// <summary>The engine's one parallel loop over independent items, with a thread knob.</summary>
/// <remarks>
/// Host-side work (drawing trials, regularisers, polish and eigen-analysis of fixed points, distance pairs, closed-loop
/// agents) runs through <see cref="For"/>; the thread count comes from the backend (<c>IEnsembleBackend.Threads</c>) or
/// the caller's option, 0 meaning all cores. Each item writes its own memory, so results never depend on the thread count.
/// The fast CPU backend's hot loops use its long-lived worker pool instead (a phase per time step would pay a dispatch each).
/// </remarks>
public static class Parallelism
{
    /// <summary>body(i) for i in [0, count) on up to <paramref name="threads"/> threads (0: all cores); rethrows a body's own exception (not an <see cref="AggregateException"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is negative.</exception>
    public static void For(int count, int threads, Action<int> body)
    {
        Guard.AtLeast(threads, 0, nameof(threads));
        ArgumentNullException.ThrowIfNull(body);
        if (threads == 1 || count <= 1)
        {
            for (int i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads <= 0 ? -1 : threads }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }
}
