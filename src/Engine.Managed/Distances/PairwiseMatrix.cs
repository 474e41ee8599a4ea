using System.Globalization;
using System.Text;
using Engine.IO;
using Engine.Util;

namespace Engine.Distances;

/// <summary>A symmetric E × E distance matrix with a zero diagonal, and the networks it compares.</summary>
/// <remarks>
/// Values are row-major [E][E]. Only pairs i &lt; j are ever computed; <see cref="Set"/> writes both (i, j) and (j, i),
/// so the matrix is symmetric with a zero diagonal by construction. Summary statistics run over the E(E−1)/2 pairs.
/// </remarks>
public sealed class PairwiseMatrix
{
    /// <summary>A zero matrix for networks named <paramref name="ids"/>.</summary>
    public PairwiseMatrix(IReadOnlyList<int> ids, string metric)
    {
        ArgumentNullException.ThrowIfNull(ids);
        Guard.AtLeast(ids.Count, 1, "networks");
        Ids = ids.ToArray();
        Metric = metric;
        Values = new double[Size * Size];
    }

    /// <summary>E.</summary>
    public int Size => Ids.Length;

    /// <summary>Network ids, row and column order.</summary>
    public int[] Ids { get; }

    /// <summary>Metric name (for files).</summary>
    public string Metric { get; }

    /// <summary>[E][E], row-major.</summary>
    public double[] Values { get; }

    /// <summary>d(i, j).</summary>
    public double this[int i, int j] => Values[i * Size + j];

    /// <summary>Sets d(i, j) = d(j, i) = value for i ≠ j.</summary>
    public void Set(int i, int j, double value)
    {
        if (i == j)
        {
            throw new ArgumentException("The diagonal is zero by construction.", nameof(j));
        }

        Values[i * Size + j] = value;
        Values[j * Size + i] = value;
    }

    /// <summary>The pairs i &lt; j in row order: (0,1), (0,2), …, (E−2, E−1).</summary>
    public static (int I, int J)[] Pairs(int networks)
    {
        var pairs = new (int, int)[networks * (networks - 1) / 2];
        int k = 0;
        for (int i = 0; i < networks; i++)
        {
            for (int j = i + 1; j < networks; j++)
            {
                pairs[k++] = (i, j);
            }
        }

        return pairs;
    }

    /// <summary>The E(E−1)/2 off-diagonal values (i &lt; j).</summary>
    public double[] PairValues() => Pairs(Size).Select(p => this[p.I, p.J]).ToArray();

    /// <summary>Mean over pairs (NaN with one network).</summary>
    public double Mean()
    {
        var v = PairValues();
        return v.Length == 0 ? double.NaN : v.Average();
    }

    /// <summary>Population standard deviation over pairs (NaN with one network).</summary>
    public double Spread()
    {
        var v = PairValues();
        if (v.Length == 0)
        {
            return double.NaN;
        }

        double m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / v.Length);
    }

    /// <summary>Writes the matrix as float64 .npy [E][E].</summary>
    public void WriteNpy(string path) => Npy.Write(path, Values, Size, Size);

    /// <summary>Writes the matrix as CSV with a header row and first column of network ids.</summary>
    public void WriteCsv(string path)
    {
        var sb = new StringBuilder("network");
        foreach (int id in Ids)
        {
            sb.Append(CultureInfo.InvariantCulture, $",{id}");
        }

        sb.Append('\n');
        for (int i = 0; i < Size; i++)
        {
            sb.Append(Ids[i].ToString(CultureInfo.InvariantCulture));
            for (int j = 0; j < Size; j++)
            {
                sb.Append(CultureInfo.InvariantCulture, $",{this[i, j]:R}");
            }

            sb.Append('\n');
        }

        AtomicFile.WriteText(path, sb.ToString());
    }
}
