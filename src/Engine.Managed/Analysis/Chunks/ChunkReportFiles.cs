using System.Globalization;
using System.Text;
using Engine.IO;
using Engine.Tasks;

namespace Engine.Analysis.Chunks;

/// <summary>Writes a chunk analysis: <c>chunks.json</c>, per-network .npy/.csv data and PNG figures.</summary>
/// <remarks>
/// Files: <c>chunks.json</c> (settings and per-network summary), <c>latents.npy</c> int32 [B][T]; per network e:
/// <c>network_e_labels.npy</c> int32 [B][T] (chunk per step, −1 none), <c>network_e_prototypes.npy</c> float64 [C][N],
/// <c>network_e_chunks.csv</c> (chunk, name, steps, majority latent), <c>network_e_graft.csv</c>; DSC adds
/// <c>network_e_parse.npy</c> int32 [B][T] (BPE word per step); PA adds <c>network_e_roc.csv</c>; UCD adds
/// <c>network_e_embeddings.npy</c> float64 [C][N]. Figures for the first <c>figures</c> networks:
/// <c>network_e_prototypes.png</c>, <c>network_e_raster.png</c>, <c>network_e_graft.png</c>.
/// </remarks>
public static class ChunkReportFiles
{
    /// <summary>Writes the report; <paramref name="pathOf"/> maps a file name to its path (e.g. inside an output stage).</summary>
    public static void Write(ChunkReport report, Func<string, string> pathOf, int figures = 4)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(pathOf);
        var latent = report.Task as ILatentTask;
        int b = report.Trials, t = report.Steps;
        Npy.Write(pathOf("latents.npy"), report.Latents, b, t);
        var summary = new List<object>();
        for (int k = 0; k < report.Networks.Count; k++)
        {
            var net = report.Networks[k];
            var x = net.Chunks;
            string p = "network_" + net.Network.ToString(CultureInfo.InvariantCulture);
            Npy.Write(pathOf($"{p}_labels.npy"), x.Labels, b, t);
            Npy.Write(pathOf($"{p}_prototypes.npy"), x.Prototypes.SelectMany(r => r).ToArray(), x.Count, x.Width);
            var counts = x.Counts();
            var csv = new StringBuilder("chunk,name,steps,latent,latent_name\n");
            for (int c = 0; c < x.Count; c++)
            {
                int l = net.ChunkLatent[c];
                csv.Append(CultureInfo.InvariantCulture, $"{c},{x.Names[c]},{counts[c]},{l},{(latent is null || l < 0 ? "" : latent.LatentLabel(l))}\n");
            }

            AtomicFile.WriteText(pathOf($"{p}_chunks.csv"), csv.ToString());
            if (x.ParseChunks is { } parse)
            {
                Npy.Write(pathOf($"{p}_parse.npy"), parse, b, t);
            }

            if (x.Roc is { } roc)
            {
                AtomicFile.WriteText(pathOf($"{p}_roc.csv"), "tolerance,tpr,fpr,accuracy\n" + string.Concat(roc.Select(r =>
                    string.Create(CultureInfo.InvariantCulture, $"{r.Tolerance:R},{r.TruePositiveRate:R},{r.FalsePositiveRate:R},{r.Accuracy:R}\n"))));
            }

            if (x.Embeddings is { } emb)
            {
                Npy.Write(pathOf($"{p}_embeddings.npy"), emb.SelectMany(r => r).ToArray(), emb.Length, x.Width);
            }

            if (net.Graft is { } graft)
            {
                AtomicFile.WriteText(pathOf($"{p}_graft.csv"), "chunk,name,continuation,continuation_name,grafted,baseline,scored\n" + string.Concat(graft.Chunks.Select(g =>
                    string.Create(CultureInfo.InvariantCulture, $"{g.Chunk},{g.Name},{g.Expected},{g.ExpectedName},{g.Grafted:R},{g.Baseline:R},{g.Scored}\n"))));
            }

            if (k < figures)
            {
                string method = ChunkOptions.NameOf(x.Method).ToUpperInvariant();
                var rowLabels = Enumerable.Range(0, x.Count).Select(c => latent is null || net.ChunkLatent[c] < 0 ? x.Names[c] : $"{x.Names[c]} ({latent.LatentLabel(net.ChunkLatent[c])})").ToArray();
                ChunkFigures.Prototypes(x, rowLabels, pathOf($"{p}_prototypes.png"), $"{report.Task.Name}, network {net.Network}: {method} prototypes ({x.Count} chunks)");
                ChunkFigures.Raster(x, report.Latents, b, t, pathOf($"{p}_raster.png"),
                    string.Create(CultureInfo.InvariantCulture, $"network {net.Network}: {method} chunk per step, NMI with {latent?.LatentName ?? "latent"} {net.Nmi:F2}"));
                if (net.Graft is { } gr)
                {
                    ChunkFigures.Graft(gr, pathOf($"{p}_graft.png"), string.Create(CultureInfo.InvariantCulture,
                        $"network {net.Network}: grafting at step {gr.Step}, {gr.MeanGrafted:F2} grafted vs {gr.MeanBaseline:F2} baseline"));
                }
            }

            summary.Add(new
            {
                network = net.Network, chunks = x.Count, nmi = JsonOutput.Finite(net.Nmi ?? double.NaN), nmi_explained = JsonOutput.Finite(net.NmiExplained ?? double.NaN),
                fraction_explained = x.FractionExplained, seconds = net.Seconds,
                graft = net.Graft is { } g2 ? new { step = g2.Step, horizon = g2.Horizon, mean_grafted = JsonOutput.Finite(g2.MeanGrafted), mean_baseline = JsonOutput.Finite(g2.MeanBaseline) } : null,
                vocabulary = x.Words?.Count, parse_length = x.ParseChunks is null ? (int?)null : x.ParseLength,
                tolerance = x.Tolerance, mean_max_cosine = x.MeanMaxCosine,
            });
        }

        var o = report.Options;
        JsonOutput.Write(pathOf("chunks.json"), new
        {
            task = report.Task.Name, latent = latent?.LatentName, method = ChunkOptions.NameOf(o.Method), trials = b, steps = t,
            options = new
            {
                bins = o.Bins, rounds = o.Rounds, merges_per_round = o.MergesPerRound, min_count = o.MinCount, occurrences = o.Occurrences,
                chunks = o.Chunks, epochs = o.Epochs, learning_rate = o.LearningRate, batch_size = o.BatchSize, merge_cosine = o.MergeCosine,
                explained_cosine = o.ExplainedCosine, seed = o.Seed, graft_step = o.GraftStep, graft_horizon = o.GraftHorizon, graft_chunks = o.GraftChunks,
            },
            networks = summary,
        });
    }
}
