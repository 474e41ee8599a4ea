namespace Engine.Distances;

/// <summary>Average-linkage (UPGMA) agglomerative clustering of a distance matrix, for ordering heatmaps.</summary>
/// <remarks>
/// Repeatedly merges the two clusters with the smallest mean pairwise distance (ties: lowest indices first), the
/// distance of a merged cluster being the size-weighted mean of its parts' distances; O(E³). The leaf order lists the
/// dendrogram's leaves left to right, the earlier-formed cluster first, so similar networks sit next to each other.
/// </remarks>
public static class Clustering
{
    /// <summary>The leaf order of the average-linkage dendrogram of <paramref name="matrix"/>.</summary>
    public static int[] LeafOrder(PairwiseMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int n = matrix.Size;
        var d = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                d[i, j] = matrix[i, j];
            }
        }

        var members = Enumerable.Range(0, n).Select(i => new List<int> { i }).ToList();
        var alive = Enumerable.Repeat(true, n).ToArray();
        for (int step = 0; step < n - 1; step++)
        {
            int bi = -1, bj = -1;
            double best = double.PositiveInfinity;
            for (int i = 0; i < n; i++)
            {
                for (int j = i + 1; j < n && alive[i]; j++)
                {
                    if (alive[j] && (d[i, j] < best || bi < 0))
                    {
                        best = d[i, j];
                        (bi, bj) = (i, j);
                    }
                }
            }

            int si = members[bi].Count, sj = members[bj].Count;
            for (int k = 0; k < n; k++)
            {
                if (alive[k] && k != bi && k != bj)
                {
                    d[bi, k] = d[k, bi] = (si * d[bi, k] + sj * d[bj, k]) / (si + sj);
                }
            }

            members[bi].AddRange(members[bj]);
            alive[bj] = false;
        }

        return members[Array.IndexOf(alive, true)].ToArray();
    }
}
