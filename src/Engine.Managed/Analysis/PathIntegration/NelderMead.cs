namespace Engine.Analysis.PathIntegration;

/// <summary>A small Nelder–Mead minimiser with box bounds enforced by clamping every trial point.</summary>
internal static class NelderMead
{
    /// <summary>Minimises <paramref name="f"/> from <paramref name="start"/> with initial steps <paramref name="step"/>; returns the best point and value.</summary>
    public static (double[] Point, double Value) Minimize(Func<double[], double> f, double[] start, double[] step, double[] lo, double[] hi,
        int maxEvaluations = 300, double tolerance = 1e-9)
    {
        int d = start.Length;
        var pts = new double[d + 1][];
        var val = new double[d + 1];
        double[] Clamp(double[] p)
        {
            for (int k = 0; k < d; k++)
            {
                p[k] = Math.Clamp(p[k], lo[k], hi[k]);
            }

            return p;
        }

        pts[0] = Clamp((double[])start.Clone());
        for (int k = 0; k < d; k++)
        {
            var p = (double[])pts[0].Clone();
            p[k] += p[k] + step[k] <= hi[k] ? step[k] : -step[k];
            pts[k + 1] = Clamp(p);
        }

        int evals = 0;
        for (int k = 0; k <= d; k++)
        {
            val[k] = f(pts[k]);
            evals++;
        }

        var order = new int[d + 1];
        while (evals < maxEvaluations)
        {
            for (int k = 0; k <= d; k++)
            {
                order[k] = k;
            }

            Array.Sort(order, (x, y) => val[x].CompareTo(val[y]));
            int best = order[0], worst = order[d], second = order[d - 1];
            if (Math.Abs(val[worst] - val[best]) < tolerance)
            {
                break;
            }

            var centroid = new double[d];
            for (int k = 0; k <= d; k++)
            {
                if (k == worst)
                {
                    continue;
                }

                for (int c = 0; c < d; c++)
                {
                    centroid[c] += pts[k][c] / d;
                }
            }

            double[] Along(double t)
            {
                var p = new double[d];
                for (int c = 0; c < d; c++)
                {
                    p[c] = centroid[c] + t * (pts[worst][c] - centroid[c]);
                }

                return Clamp(p);
            }

            var r = Along(-1);
            double fr = f(r);
            evals++;
            if (fr < val[best])
            {
                var e = Along(-2);
                double fe = f(e);
                evals++;
                (pts[worst], val[worst]) = fe < fr ? (e, fe) : (r, fr);
            }
            else if (fr < val[second])
            {
                (pts[worst], val[worst]) = (r, fr);
            }
            else
            {
                var c = Along(fr < val[worst] ? -0.5 : 0.5);
                double fc = f(c);
                evals++;
                if (fc < Math.Min(fr, val[worst]))
                {
                    (pts[worst], val[worst]) = (c, fc);
                }
                else
                {
                    for (int k = 0; k <= d; k++)
                    {
                        if (k == best)
                        {
                            continue;
                        }

                        for (int c2 = 0; c2 < d; c2++)
                        {
                            pts[k][c2] = pts[best][c2] + 0.5 * (pts[k][c2] - pts[best][c2]);
                        }

                        val[k] = f(pts[k]);
                        evals++;
                    }
                }
            }
        }

        int arg = 0;
        for (int k = 1; k <= d; k++)
        {
            if (val[k] < val[arg])
            {
                arg = k;
            }
        }

        return (pts[arg], val[arg]);
    }
}
