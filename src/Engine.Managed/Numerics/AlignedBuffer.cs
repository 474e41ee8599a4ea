using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.Numerics;

/// <summary>A zeroed float buffer on the pinned object heap whose first element sits on a 64-byte boundary.</summary>
/// <remarks>Pinned, so <see cref="Pointer"/> stays valid for the buffer's life; no native memory to free.</remarks>
internal sealed unsafe class AlignedBuffer
{
    private readonly float[] _array;

    /// <summary>Allocates <paramref name="length"/> zeroed floats.</summary>
    public AlignedBuffer(long length)
    {
        if (length < 0 || length > Array.MaxLength - 16)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A CPU workspace buffer is limited to about 2^31 floats; reduce B, T or N.");
        }

        _array = GC.AllocateArray<float>((int)length + 16, pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        int skew = (int)(((nint)p & 63) / sizeof(float));
        Pointer = skew == 0 ? p : p + (16 - skew);
        Length = (int)length;
    }

    /// <summary>The aligned first element.</summary>
    public float* Pointer { get; }

    /// <summary>Usable floats.</summary>
    public int Length { get; }

    /// <summary>The buffer as a span.</summary>
    public Span<float> Span => new(Pointer, Length);
}
