using Engine.Kernels.FixedPoints;

namespace Engine.FixedPoints;

/// <summary>One implementation of the joint Adam fixed-point search (reference, fast CPU, ILGPU).</summary>
/// <remarks>
/// Minimises q(h) = ½‖F(h, u) − h‖² over every seed of every network at once; see <see cref="AdamSearchOptions"/>
/// for the schedule and <see cref="FixedPointKernel"/> for the per-iteration formulas. Every implementation runs
/// the same host-side schedule (<see cref="FixedPointSearch"/>), so they differ only in arithmetic.
/// </remarks>
public interface IFixedPointSearch : IDisposable
{
    /// <summary>The implementation's name (<c>reference</c>, <c>cpu</c>, or an ILGPU backend's name).</summary>
    string Name { get; }

    /// <summary>Runs the search from the problem's seeds.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    AdamSearchResult Search(FixedPointProblem problem, AdamSearchOptions options);
}

/// <summary>The shared driver: iterations in chunks of <see cref="AdamSearchOptions.CheckInterval"/>, then the per-network schedule.</summary>
public abstract class FixedPointSearch : IFixedPointSearch
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public AdamSearchResult Search(FixedPointProblem problem, AdamSearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int e = problem.Spec.Networks, s = problem.SeedsPerNetwork, n = problem.Spec.Hidden;
        Load(problem, options);
        var lr = new double[e];
        Array.Fill(lr, options.LearningRate);
        var best = new double[e];
        Array.Fill(best, double.PositiveInfinity);
        var previous = new double[e];
        Array.Fill(previous, double.NaN);
        var bad = new int[e];
        var q = new float[e * s];
        var status = new int[e * s];
        var iterations = new int[e * s];
        int it = 0;
        while (true)
        {
            int count = Math.Min(options.CheckInterval, options.MaxIterations - it + 1);
            Iterate(it, count, lr);
            it += count;
            ReadProgress(q, status, iterations);
            if (!status.Contains(SearchStatusCode.Active))
            {
                break;
            }

            for (int net = 0; net < e; net++)
            {
                double sum = 0;
                int finite = 0;
                for (int k = net * s; k < (net + 1) * s; k++)
                {
                    if (status[k] != SearchStatusCode.NonFinite)
                    {
                        sum += q[k];
                        finite++;
                    }
                }

                if (finite == 0)
                {
                    continue;
                }

                double mean = sum / finite;
                bool decay = false;
                if (mean > previous[net])
                {
                    decay = true;
                }
                else if (mean < best[net] * (1 - 1e-3))
                {
                    best[net] = mean;
                    bad[net] = 0;
                }
                else if (++bad[net] >= options.Patience)
                {
                    decay = true;
                }

                if (decay)
                {
                    lr[net] = Math.Max(options.MinLearningRate, lr[net] * options.DecayFactor);
                    bad[net] = 0;
                }

                previous[net] = mean;
            }
        }

        var result = new AdamSearchResult(e, s, n);
        ReadStates(result.States);
        for (int k = 0; k < e * s; k++)
        {
            result.Q[k] = q[k];
            result.Status[k] = status[k] switch
            {
                SearchStatusCode.Converged => FixedPointStatus.Converged,
                SearchStatusCode.NonFinite => FixedPointStatus.NonFinite,
                _ => FixedPointStatus.MaxIterations,
            };
            result.Iterations[k] = iterations[k];
            result.TotalIterations = Math.Max(result.TotalIterations, iterations[k]);
        }

        lr.CopyTo(result.LearningRates, 0);
        return result;
    }

    /// <summary>Copies the problem in and marks every seed Active.</summary>
    protected abstract void Load(FixedPointProblem problem, AdamSearchOptions options);

    /// <summary>
    /// Runs iterations first … first + count − 1: each evaluates q of the active seeds, settles their status, and
    /// (below the budget) takes one Adam step with step count iteration + 1 and the network's learning rate.
    /// </summary>
    protected abstract void Iterate(int first, int count, ReadOnlySpan<double> learningRates);

    /// <summary>Copies q, status codes and iteration counts [E][S] out.</summary>
    protected abstract void ReadProgress(Span<float> q, Span<int> status, Span<int> iterations);

    /// <summary>Copies the states [E][S][N] out.</summary>
    protected abstract void ReadStates(Span<float> states);

    /// <inheritdoc />
    public virtual void Dispose() => GC.SuppressFinalize(this);
}
