using System.Runtime.InteropServices;

namespace Engine.Cli;

/// <summary>Ctrl-C and SIGTERM as a cancellation token: the work finishes its current step, saves and exits 130.</summary>
internal sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly ConsoleCancelEventHandler _onCancel;
    private readonly PosixSignalRegistration _term;

    /// <summary>Installs the handlers; <paramref name="message"/> is printed on Ctrl-C.</summary>
    public Interrupts(string message)
    {
        _onCancel = (_, e) =>
        {
            e.Cancel = true;
            _cancel.Cancel();
            Console.Error.WriteLine(message);
        };
        Console.CancelKeyPress += _onCancel;
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            _cancel.Cancel();
        });
    }

    /// <summary>Cancelled on Ctrl-C or SIGTERM.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Whether an interrupt arrived.</summary>
    public bool Requested => _cancel.IsCancellationRequested;

    /// <inheritdoc />
    public void Dispose()
    {
        Console.CancelKeyPress -= _onCancel;
        _term.Dispose();
        _cancel.Dispose();
    }
}
