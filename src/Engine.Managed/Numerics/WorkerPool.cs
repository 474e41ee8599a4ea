using System.Runtime.ExceptionServices;

namespace Engine.Numerics;

/// <summary>
/// Long-lived worker threads that run a numbered set of tasks; the calling thread works too.
/// </summary>
/// <remarks>
/// <see cref="Run"/> hands out task indices 0..count−1 through an atomic counter and returns when all are done,
/// so a phase costs one wake-up and one barrier instead of a thread-pool dispatch per time step. Which worker
/// runs a task never changes its result: tasks write disjoint memory and reduce in a fixed order.
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly ManualResetEventSlim _done = new(false, 200);
    private Action<int, int>? _body;
    private int _count;
    private int _next;
    private int _running;
    private Exception? _error;
    private volatile bool _stop;

    /// <summary>Starts <paramref name="workers"/> − 1 background threads (the caller is worker 0).</summary>
    public WorkerPool(int workers)
    {
        Workers = Math.Max(1, workers);
        _threads = new Thread[Workers - 1];
        _wake = new SemaphoreSlim[Workers - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"cpu-backend-{i + 1}" };
            _threads[i].Start(i + 1);
        }
    }

    /// <summary>Workers including the caller.</summary>
    public int Workers { get; }

    /// <summary>Runs body(task, worker) for task = 0..count−1 on all workers; rethrows the first failure.</summary>
    public void Run(int count, Action<int, int> body)
    {
        if (count <= 0)
        {
            return;
        }

        if (Workers == 1 || count == 1)
        {
            for (int i = 0; i < count; i++)
            {
                body(i, 0);
            }

            return;
        }

        _body = body;
        _count = count;
        _next = 0;
        _error = null;
        _done.Reset();
        _running = _threads.Length;
        foreach (var w in _wake)
        {
            w.Release();
        }

        Work(0);
        _done.Wait();
        _body = null;
        if (_error is { } error)
        {
            ExceptionDispatchInfo.Capture(error).Throw();
        }
    }

    private void Work(int worker)
    {
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < _count)
            {
                _body!(i, worker);
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _error, e, null);
            Volatile.Write(ref _next, _count);
        }
    }

    private void Loop(object? state)
    {
        int worker = (int)state!;
        var wake = _wake[worker - 1];
        while (true)
        {
            wake.Wait();
            if (_stop)
            {
                return;
            }

            Work(worker);
            if (Interlocked.Decrement(ref _running) == 0)
            {
                _done.Set();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stop = true;
        foreach (var w in _wake)
        {
            w.Release();
        }

        foreach (var t in _threads)
        {
            t.Join();
        }

        foreach (var w in _wake)
        {
            w.Dispose();
        }

        _done.Dispose();
    }
}
