using Engine.Kernels.FixedPoints;

namespace Engine.Backends;

/// <summary>One implementation of the joint Adam fixed-point search (reference, fast CPU, ILGPU), made by a backend (<see cref="IEnsembleBackend.CreateFixedPointSearch"/>).</summary>
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

/// <summary>The shared driver: iterations in chunks of <see cref="AdamSearchOptions.CheckInterval"/>, then the per-network schedule (<see cref="LearningRateSchedule"/>).</summary>
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
        var schedules = Enumerable.Range(0, e).Select(_ => new LearningRateSchedule(options)).ToArray();
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

                if (finite > 0)
                {
                    lr[net] = schedules[net].Update(sum / finite, lr[net]);
                }
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

/// <summary>FixedPointFinder's adaptive learning rate, for one network, on the mean q seen at each check.</summary>
/// <remarks>
/// The history holds the network's mean q over its finite seeds at every check (every
/// <see cref="AdamSearchOptions.CheckInterval"/> iterations: 10 by default, where FixedPointFinder updates after every step).
/// With c the checks since the rate last changed and Q₀ … Q_k the history (Q_k newest): if c ≥ P_d
/// (<see cref="AdamSearchOptions.DecreasePatience"/>) and Q_k is larger than every one of Q_{k−P_d} … Q_{k−1}, the rate
/// is multiplied by <see cref="AdamSearchOptions.DecreaseFactor"/> (0.95), not below
/// <see cref="AdamSearchOptions.MinLearningRate"/>; otherwise, if c ≥ P_i (<see cref="AdamSearchOptions.IncreasePatience"/>)
/// and Q_{k−P_i} &gt; … &gt; Q_k fell at every check, it is multiplied by <see cref="AdamSearchOptions.IncreaseFactor"/>
/// (1/0.95). Either change resets c. No warm-up (FixedPointFinder's default n_warmup_steps = 0).
/// </remarks>
public sealed class LearningRateSchedule(AdamSearchOptions options)
{
    private readonly List<double> _history = [];
    private int _sinceChange;

    /// <summary>Records the newest mean q and returns the learning rate to use next.</summary>
    public double Update(double meanQ, double learningRate)
    {
        _history.Add(meanQ);
        _sinceChange++;
        int k = _history.Count - 1;
        int pd = options.DecreasePatience, pi = options.IncreasePatience;
        if (_sinceChange >= pd && k >= pd)
        {
            bool rose = true;
            for (int j = k - pd; j < k; j++)
            {
                rose &= _history[k] > _history[j];
            }

            if (rose)
            {
                _sinceChange = 0;
                return Math.Max(options.MinLearningRate, learningRate * options.DecreaseFactor);
            }
        }

        if (_sinceChange >= pi && k >= pi)
        {
            bool fell = true;
            for (int j = k - pi + 1; j <= k; j++)
            {
                fell &= _history[j] < _history[j - 1];
            }

            if (fell)
            {
                _sinceChange = 0;
                return learningRate * options.IncreaseFactor;
            }
        }

        return learningRate;
    }
}
