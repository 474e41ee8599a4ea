using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Engine.Backends;
using Engine.FixedPoints;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.Reliability;

/// <summary>
/// <c>fixed-points</c> on imported PyTorch files that are extreme (weights ×300) or corrupt: it finishes with a status per
/// point, or stops with one error naming the file; it never crashes.
/// </summary>
[NonParallelizable]
public sealed class ImportedModelReliabilityTests
{
    private const int N = 6, I = 2, O = 2;
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("relimport").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static Dictionary<string, (float[] Data, int[] Shape)> StateDict(int seed, float scale) => ModelFiles.StateDict(seed, N, I, O, scale);

    private static byte[] Npz(Dictionary<string, (float[] Data, int[] Shape)> tensors) => ModelFiles.Npz(tensors);

    private static byte[] Safetensors(Dictionary<string, (float[] Data, int[] Shape)> tensors) => ModelFiles.Safetensors(tensors);

    private static (int Code, string Out, string Err) FixedPoints(string file, string outDir)
        => CliHarness.Run("fixed-points", file, "--seeds", "8", "--trials", "2", "--steps", "6", "--max-iterations", "30", "--backend", "cpu", "--out", outDir);

    [TestCase(".npz")]
    [TestCase(".safetensors")]
    public void FixedPoints_OnWeightsScaled300_ExitsZero_WithAStatusForEveryPoint(string ext)
    {
        var dict = StateDict(7, 300f);
        string file = Path.Combine(_dir, "scaled" + ext);
        File.WriteAllBytes(file, ext == ".npz" ? Npz(dict) : Safetensors(dict));
        string outDir = Path.Combine(_dir, "out");
        var (code, _, err) = FixedPoints(file, outDir);
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(File.Exists(Path.Combine(outDir, "spectra.png")), Is.True);
        Assert.That(File.Exists(Path.Combine(outDir, "network_000.png")), Is.True);
        var net = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "fixed_points.json"))).RootElement.GetProperty("networks")[0];
        var statuses = net.GetProperty("fixed_points").EnumerateArray().Select(p => p.GetProperty("status").GetString()).ToArray();
        Assert.That(statuses, Is.All.AnyOf("Converged", "MaxIterations", "NonFinite", "LinearizationFailed"));
        Assert.That(net.TryGetProperty("linearization_failed_points", out _), Is.True);
    }

    [Test]
    public void FixedPoints_OnAStateDictWithABuffer_PrintsWhatItSkipped()
    {
        string file = Path.Combine(_dir, "buffers.npz");
        File.WriteAllBytes(file, ModelFiles.Npz(StateDict(8, 1f), ("bn.num_batches_tracked", NpyImage.File(NpyImage.Dict("<i8", []), NpyImage.Encode("<i8", [12])))));
        var (code, output, err) = FixedPoints(file, Path.Combine(_dir, "out"));
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output.Split('\n').Where(l => l.StartsWith("note: ", StringComparison.Ordinal)).ToArray(),
            Is.EqualTo(new[] { "note: skipped 1 entry that is not an nn.RNN/nn.Linear parameter: bn.num_batches_tracked (int64, [])" }));
    }

    [Test]
    public void TryLinearize_OnANonFiniteJacobian_MarksThePointInsteadOfThrowing()
    {
        var spec = new EnsembleSpec { Networks = 1, Hidden = 3, Inputs = 1, Outputs = 1 };
        var net = new FrozenNetwork(spec, TestData.Parameters(spec, 1), 0, new float[1]);
        var point = new FixedPoint { State = [double.NaN, 0, 0], Status = FixedPointStatus.Converged };
        Assert.That(FixedPointAnalysis.TryLinearize(net, point), Is.False);
        Assert.That(point.Status, Is.EqualTo(FixedPointStatus.LinearizationFailed));
        Assert.That(point.Eigenvalues, Is.Empty);
        Assert.That(point.Stable, Is.False);
        Assert.Throws<ArgumentException>(() => FixedPointAnalysis.EigenDecomposition([double.PositiveInfinity, 0, 0, 1], 2));
    }

    /// <summary>Truncations, byte flips, zeroed and random ranges, and NaN payloads, each from its own fixed seed.</summary>
    private static byte[] Corrupt(byte[] good, int seed, int headerBytes)
    {
        var rng = new Random(seed);
        var bad = (byte[])good.Clone();
        switch (seed % 5)
        {
            case 0:
                return bad[..rng.Next(0, good.Length - 1)];
            case 1:
                for (int k = 0; k < 1 + rng.Next(4); k++)
                {
                    bad[rng.Next(Math.Min(headerBytes, bad.Length))] ^= (byte)(1 << rng.Next(8));
                }

                return bad;
            case 2:
            {
                int at = rng.Next(bad.Length / 2), len = 1 + rng.Next(bad.Length / 4);
                Array.Clear(bad, at, Math.Min(len, bad.Length - at));
                return bad;
            }

            case 3:
            {
                int at = rng.Next(Math.Min(headerBytes, bad.Length)), len = 1 + rng.Next(32);
                for (int k = at; k < Math.Min(at + len, bad.Length); k++)
                {
                    bad[k] = (byte)rng.Next(256);
                }

                return bad;
            }

            default:
            {
                // Random bytes appended, then a random tail cut off.
                byte[] longer = [.. bad, .. Enumerable.Range(0, 1 + rng.Next(64)).Select(_ => (byte)rng.Next(256))];
                return longer[..^(1 + rng.Next(Math.Min(64, bad.Length / 2)))];
            }
        }
    }

    [TestCase(".npz")]
    [TestCase(".safetensors")]
    public void FixedPoints_OnRandomCorruptions_IsANamedErrorOrAResult_NeverACrash(string ext)
    {
        var dict = StateDict(3, 1f);
        byte[] good = ext == ".npz" ? Npz(dict) : Safetensors(dict);
        int headerBytes = ext == ".npz" ? good.Length : 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(good);
        int errors = 0;
        const int Cases = 40;
        for (int seed = 0; seed < Cases; seed++)
        {
            string file = Path.Combine(_dir, $"corrupt{seed:D2}{ext}");
            File.WriteAllBytes(file, Corrupt(good, seed, headerBytes));
            var (code, _, err) = FixedPoints(file, Path.Combine(_dir, $"out{seed:D2}"));
            Assert.That(err, Does.Not.Contain("Unhandled exception").And.Not.Contain("   at "), $"seed {seed}: {err}");
            Assert.That(code, Is.AnyOf(0, 2), $"seed {seed}: {err}");
            if (code == 2)
            {
                errors++;
                Assert.That(err, Does.StartWith("error: ").And.Contain(Path.GetFileName(file)), $"seed {seed}: the error must name the file");
            }
        }

        // A flip inside a weight can leave a valid model; most corruptions must be caught.
        Assert.That(errors, Is.GreaterThanOrEqualTo(Cases / 2), $"{errors} of {Cases} corruptions were reported");
    }
}
