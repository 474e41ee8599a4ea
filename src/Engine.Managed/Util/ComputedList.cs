namespace Engine.Util;

/// <summary>A read-only list whose items are computed by a function each time they are read (nothing is kept).</summary>
/// <remarks>For large inputs a consumer reads once each (packing states into a device or SIMD layout), so none of them need
/// to exist all at once; a consumer that reads items repeatedly should copy them first (<c>ToArray()</c>).</remarks>
/// <typeparam name="T">The item type.</typeparam>
public sealed class ComputedList<T>(int count, Func<int, T> item) : IReadOnlyList<T>
{
    /// <inheritdoc />
    public int Count { get; } = count;

    /// <inheritdoc />
    public T this[int index] => (uint)index < (uint)Count ? item(index) : throw new ArgumentOutOfRangeException(nameof(index), index, $"index must be in [0, {Count}).");

    /// <inheritdoc />
    public IEnumerator<T> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return item(i);
        }
    }

    /// <inheritdoc />
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
