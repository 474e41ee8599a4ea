using System.Runtime.ExceptionServices;

namespace Engine.Distances;

/// <summary>Parallel loops over networks that rethrow a body's own exception (not an <see cref="AggregateException"/>).</summary>
internal static class Parallelism
{
    /// <summary>body(i) for i in [0, count) on up to <paramref name="threads"/> threads (0: all cores).</summary>
    public static void For(int count, int threads, Action<int> body)
    {
        Util.Guard.AtLeast(threads, 0, nameof(threads));
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
