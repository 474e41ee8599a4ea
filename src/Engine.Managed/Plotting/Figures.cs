using ScottPlot;

namespace Engine.Plotting;

/// <summary>Shared figure plumbing: the bundled DejaVu fonts, log-scale helpers and atomic PNG saving.</summary>
/// <remarks>
/// ScottPlot draws text with system fonts; a machine without them silently renders figures with no text, so the
/// engine ships DejaVu Sans (regular and bold, in <c>fonts/</c> beside the assembly) and registers both once.
/// ScottPlot has no true log axis: plot log10(y) and call <see cref="UseLog10Ticks"/> on that axis.
/// </remarks>
public static class Figures
{
    private static readonly object Gate = new();
    private static bool _fontsReady;

    /// <summary>Registers the bundled fonts and makes DejaVu Sans the default (idempotent, thread-safe).</summary>
    public static void EnsureFonts()
    {
        lock (Gate)
        {
            if (_fontsReady)
            {
                return;
            }

            string dir = Path.Combine(AppContext.BaseDirectory, "fonts");
            string regular = Path.Combine(dir, "DejaVuSans.ttf"), bold = Path.Combine(dir, "DejaVuSans-Bold.ttf");
            if (File.Exists(regular))
            {
                Fonts.AddFontFile("DejaVu Sans", regular, bold: false, italic: false);
            }

            if (File.Exists(bold))
            {
                Fonts.AddFontFile("DejaVu Sans", bold, bold: true, italic: false);
            }

            Fonts.Default = "DejaVu Sans";
            _fontsReady = true;
        }
    }

    /// <summary>A new plot with the engine's fonts ready.</summary>
    public static Plot NewPlot()
    {
        EnsureFonts();
        return new Plot();
    }

    /// <summary>Labels an axis that carries log10(value) with ticks at the powers of ten (and minor ticks between).</summary>
    public static void UseLog10Ticks(IAxis axis)
    {
        var gen = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => $"1e{y:N0}",
        };
        axis.TickGenerator = gen;
    }

    /// <summary>Saves a PNG atomically (temp file, then rename).</summary>
    public static void SavePng(Plot plot, string path, int width = 900, int height = 600)
    {
        ArgumentNullException.ThrowIfNull(plot);
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        IO.AtomicFile.Write(path, s => s.Write(png));
    }
}
