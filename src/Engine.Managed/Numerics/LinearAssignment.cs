namespace Engine.Numerics;

/// <summary>The linear assignment problem: a minimum-cost perfect matching of an n × n cost matrix (Hungarian method).</summary>
/// <remarks>
/// Shortest augmenting paths with row and column potentials u, v (reduced costs c_ij − u_i − v_j ≥ 0), one row added
/// per phase: O(n³) time, O(n) extra memory besides the costs. Costs are row-major [n][n], float64.
/// </remarks>
public static class LinearAssignment
{
    /// <summary>The column assigned to each row, minimising Σ_i cost[i, col[i]].</summary>
    public static int[] Minimize(ReadOnlySpan<double> cost, int n)
    {
        if (cost.Length != n * n)
        {
            throw new ArgumentException($"cost has {cost.Length} elements, expected {n}×{n}.", nameof(cost));
        }

        for (int k = 0; k < cost.Length; k++)
        {
            if (!double.IsFinite(cost[k]))
            {
                throw new ArgumentException($"cost[{k / n}, {k % n}] is {cost[k]}; costs must be finite.", nameof(cost));
            }
        }

        // 1-based potentials; column 0 is a virtual column that holds the row being inserted.
        var u = new double[n + 1];
        var v = new double[n + 1];
        var rowOf = new int[n + 1];
        var way = new int[n + 1];
        var minv = new double[n + 1];
        var used = new bool[n + 1];
        for (int row = 1; row <= n; row++)
        {
            rowOf[0] = row;
            int col0 = 0;
            Array.Fill(minv, double.PositiveInfinity);
            Array.Clear(used);
            do
            {
                used[col0] = true;
                int r0 = rowOf[col0], col1 = 0;
                double delta = double.PositiveInfinity;
                for (int c = 1; c <= n; c++)
                {
                    if (used[c])
                    {
                        continue;
                    }

                    double reduced = cost[(r0 - 1) * n + (c - 1)] - u[r0] - v[c];
                    if (reduced < minv[c])
                    {
                        minv[c] = reduced;
                        way[c] = col0;
                    }

                    if (minv[c] < delta)
                    {
                        delta = minv[c];
                        col1 = c;
                    }
                }

                for (int c = 0; c <= n; c++)
                {
                    if (used[c])
                    {
                        u[rowOf[c]] += delta;
                        v[c] -= delta;
                    }
                    else
                    {
                        minv[c] -= delta;
                    }
                }

                col0 = col1;
            }
            while (rowOf[col0] != 0);

            do
            {
                int col1 = way[col0];
                rowOf[col0] = rowOf[col1];
                col0 = col1;
            }
            while (col0 != 0);
        }

        var assignment = new int[n];
        for (int c = 1; c <= n; c++)
        {
            assignment[rowOf[c] - 1] = c - 1;
        }

        return assignment;
    }

    /// <summary>The column assigned to each row, maximising Σ_i score[i, col[i]].</summary>
    public static int[] Maximize(ReadOnlySpan<double> score, int n)
    {
        var neg = new double[score.Length];
        for (int k = 0; k < neg.Length; k++)
        {
            neg[k] = -score[k];
        }

        return Minimize(neg, n);
    }
}
