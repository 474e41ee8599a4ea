using Engine.Study;
using Engine.Util;

namespace Engine.Tests.Study;

/// <summary>Synthetic study results with known answers for the report tests.</summary>
internal static class StudyTestData
{
    public const int Seeds = 6;

    /// <summary>OOD MSE of the flipflop n32 condition: population σ = √(17.5/6) (sample σ would be √3.5).</summary>
    public static readonly double[] KnownOod = [1, 2, 3, 4, 5, 6];

    public const string FailedReason = "all 6 networks diverged, none usable";

    public static StudyCondition Condition(string id, string task, int width = 64, double l1 = 0) => new()
    {
        Id = id,
        Task = task,
        TaskSettings = new Dictionary<string, string> { ["bits"] = "3" },
        Width = width,
        Parameterization = "standard",
        L1 = l1,
        LearningRate = 1e-3,
        Complexity = 3,
        Seeds = Enumerable.Range(0, Seeds).Select(k => 100L + k).ToArray(),
    };

    public static NetworkRow Network(string condition, int k, double ood, string status = "converged")
        => new(condition, k, 100 + k, status, 500, status == "diverged" ? double.NaN : 1e-4, 1e-3, ood, 2.5 + 0.1 * k, 0.8, k == 0 ? 3 : -1, -1);

    /// <summary>Pair rows over the converged networks <paramref name="nets"/>: base + uniform noise in ±noise/2.</summary>
    public static IEnumerable<PairRow> Pairs(string condition, string metric, IReadOnlyList<int> nets, double baseValue, double noise, Rng rng)
    {
        for (int i = 0; i < nets.Count; i++)
        {
            for (int j = i + 1; j < nets.Count; j++)
            {
                yield return new PairRow(condition, metric, nets[i], nets[j], baseValue + noise * (rng.NextDouble() - 0.5));
            }
        }
    }

    /// <summary>
    /// Two tasks: flipflop × width {32, 64, 128} (DSA and d_PIF fall with width; network 3 of n64 diverged) and
    /// sine × l1 {0, 1e-4, 1e-3} (the 1e-3 condition failed: every network diverged).
    /// </summary>
    public static StudyResults TwoTasks(int bootstrap = 200)
    {
        var rng = new Rng(7);
        var conditions = new List<StudyCondition>();
        var levels = new List<FactorLevel>();
        var networks = new List<NetworkRow>();
        var pairs = new List<PairRow>();
        var outcomes = new List<ConditionOutcome>();
        var timings = new List<StageTiming>();

        int[] widths = [32, 64, 128];
        for (int w = 0; w < widths.Length; w++)
        {
            string id = $"flipflop-bits3-n{widths[w]}-std";
            conditions.Add(Condition(id, "flipflop", widths[w]));
            levels.Add(new FactorLevel("flipflop", "width", widths[w], id));
            var converged = new List<int>();
            for (int k = 0; k < Seeds; k++)
            {
                bool diverged = w == 1 && k == 3;
                double ood = w == 0 ? KnownOod[k] : 0.1 + 0.05 * rng.NextDouble();
                networks.Add(Network(id, k, diverged ? 1e6 : ood, diverged ? "diverged" : "converged"));
                if (!diverged)
                {
                    converged.Add(k);
                }
            }

            pairs.AddRange(Pairs(id, "dsa", converged, 0.5 - 0.15 * w, 0.02, rng));
            pairs.AddRange(Pairs(id, "pif", converged, 1.0 - 0.2 * w, 0.02, rng));
            pairs.AddRange(Pairs(id, "cka", converged, 0.3, 0.2, rng));
            outcomes.Add(new ConditionOutcome(id, false, null));
            timings.Add(new StageTiming("train", id, 10 + w));
            timings.Add(new StageTiming("dsa", id, 1.5));
        }

        double[] l1s = [0, 1e-4, 1e-3];
        for (int l = 0; l < l1s.Length; l++)
        {
            string id = $"sine-freq2-n64-std-l1_{l}";
            conditions.Add(Condition(id, "sine", 64, l1s[l]));
            levels.Add(new FactorLevel("sine", "l1", l1s[l], id));
            bool failed = l == 2;
            for (int k = 0; k < Seeds; k++)
            {
                networks.Add(Network(id, k, failed ? double.NaN : 0.2 + 0.1 * rng.NextDouble(), failed ? "diverged" : "converged"));
            }

            if (!failed)
            {
                var all = Enumerable.Range(0, Seeds).ToArray();
                pairs.AddRange(Pairs(id, "dsa", all, 0.4, 0.05, rng));
                pairs.AddRange(Pairs(id, "pif", all, 0.6 + l, 0.05, rng));
                pairs.AddRange(Pairs(id, "cka", all, 0.2, 0.05, rng));
            }

            outcomes.Add(new ConditionOutcome(id, failed, failed ? FailedReason : null));
            timings.Add(new StageTiming("train", id, 5));
        }

        return new StudyResults
        {
            Name = "synthetic",
            Conditions = conditions,
            Levels = levels,
            Networks = networks,
            Pairs = pairs,
            Outcomes = outcomes,
            Analyses = ["ood", "dsa", "pif", "cka", "fixed_points", "feature_learning"],
            ConfigJson = """{ "name": "synthetic", "seeds": 6, "tasks": ["flipflop", "sine"] }""",
            RecipeMarkdown = "| task | epochs | lr |\n|---|---|---|\n| flipflop | 500 | 1e-3 |\n| sine | 800 | 1e-3 |",
            EngineVersion = "0.0.0-test",
            Machine = "test machine (2 cores)",
            BootstrapSamples = bootstrap,
            BootstrapSeed = 2025,
            Timings = timings,
        };
    }

    /// <summary>One task, factor width over <paramref name="levels"/> levels, 6 converged seeds each, DSA pairs = base(level) + noise.</summary>
    public static StudyResults WidthSeries(int levels, Func<int, double> dsaBase, double noise, ulong seed = 11)
    {
        var rng = new Rng(seed);
        var conditions = new List<StudyCondition>();
        var levelRows = new List<FactorLevel>();
        var networks = new List<NetworkRow>();
        var pairs = new List<PairRow>();
        var all = Enumerable.Range(0, Seeds).ToArray();
        for (int l = 0; l < levels; l++)
        {
            int width = 16 << l;
            string id = $"flipflop-n{width}";
            conditions.Add(Condition(id, "flipflop", width));
            levelRows.Add(new FactorLevel("flipflop", "width", width, id));
            networks.AddRange(all.Select(k => Network(id, k, 0.1 + 0.01 * rng.NextDouble())));
            pairs.AddRange(Pairs(id, "dsa", all, dsaBase(l), noise, rng));
        }

        return new StudyResults
        {
            Name = "series",
            Conditions = conditions,
            Levels = levelRows,
            Networks = networks,
            Pairs = pairs,
            Outcomes = conditions.Select(c => new ConditionOutcome(c.Id, false, null)).ToArray(),
            Analyses = ["ood", "dsa"],
            ConfigJson = "{}",
            RecipeMarkdown = "",
            EngineVersion = "test",
            Machine = "test",
            BootstrapSamples = 300,
        };
    }

    /// <summary>The same results with every row list in another order.</summary>
    public static StudyResults Shuffled(StudyResults r, ulong seed)
    {
        var rng = new Rng(seed);
        List<T> Shuffle<T>(IEnumerable<T> items)
        {
            var list = items.ToList();
            for (int i = list.Count - 1; i > 0; i--)
            {
                int j = rng.NextInt(i + 1);
                (list[i], list[j]) = (list[j], list[i]);
            }

            return list;
        }

        return r with { Networks = Shuffle(r.Networks), Pairs = Shuffle(r.Pairs), Outcomes = Shuffle(r.Outcomes) };
    }
}
