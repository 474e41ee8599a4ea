using ILGPU;
using ILGPU.Runtime;

namespace Engine.Backends.Ilgpu;

/// <summary>A device buffer counted by its backend; its view throws <see cref="ObjectDisposedException"/> once disposed.</summary>
internal sealed class DeviceBuffer<T> : IDisposable
    where T : unmanaged
{
    private readonly IlgpuBackend _owner;
    private MemoryBuffer1D<T, Stride1D.Dense>? _buffer;

    /// <summary>Allocates <paramref name="length"/> elements (at least one, so an unused view is still valid).</summary>
    public DeviceBuffer(IlgpuBackend owner, long length)
    {
        _owner = owner;
        Length = length;
        _buffer = owner.Accelerator.Allocate1D<T>(Math.Max(1, length));
        owner.BufferAllocated();
    }

    /// <summary>Elements requested.</summary>
    public long Length { get; }

    /// <summary>The whole buffer as a kernel view.</summary>
    public ArrayView<T> View
    {
        get
        {
            ObjectDisposedException.ThrowIf(_buffer is null, this);
            return _buffer.View.AsContiguous();
        }
    }

    /// <summary>Copies host data into the first <c>source.Length</c> elements.</summary>
    public void CopyFrom(AcceleratorStream stream, ReadOnlySpan<T> source)
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        if (source.Length > 0)
        {
            _buffer.View.SubView(0, source.Length).CopyFromCPU(stream, source);
        }
    }

    /// <summary>Copies the first <c>destination.Length</c> elements to the host.</summary>
    public void CopyTo(AcceleratorStream stream, Span<T> destination)
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        if (destination.Length > 0)
        {
            _buffer.View.SubView(0, destination.Length).CopyToCPU(stream, destination);
        }
    }

    /// <summary>Sets every element to zero (asynchronously on the stream).</summary>
    public void Clear(AcceleratorStream stream)
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        _buffer.View.MemSetToZero(stream);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_buffer is not null)
        {
            _buffer.Dispose();
            _buffer = null;
            _owner.BufferFreed();
        }
    }
}
