using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Engine.Backends;
using Engine.IO.Import;
using Engine.Model;
using Engine.Tests.Support;
using NUnit.Framework;

namespace Engine.Tests.FixedPoints;

/// <summary>PyTorch nn.RNN + nn.Linear files written here (safetensors and npz) load and run like PyTorch's formula.</summary>
public sealed class PyTorchImportTests
{
    private const int N = 5, I = 2, O = 3;
    private string _dir = null!;

    [SetUp]
    public void Setup() => _dir = Directory.CreateTempSubdirectory("import").FullName;

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static Dictionary<string, (float[] Data, int[] Shape)> StateDict(int seed) => ModelFiles.StateDict(seed, N, I, O);

    private static void WriteSafetensors(string path, Dictionary<string, (float[] Data, int[] Shape)> tensors, bool float64)
        => File.WriteAllBytes(path, ModelFiles.Safetensors(tensors, float64));

    private static void WriteNpz(string path, Dictionary<string, (float[] Data, int[] Shape)> tensors) => File.WriteAllBytes(path, ModelFiles.Npz(tensors));

    private static double[] TorchForward(Dictionary<string, (float[] Data, int[] Shape)> t, float[] x, int steps)
    {
        var h = new double[N];
        var y = new double[steps * O];
        for (int s = 0; s < steps; s++)
        {
            var next = new double[N];
            for (int i = 0; i < N; i++)
            {
                double z = t["rnn.bias_ih_l0"].Data[i] + t["rnn.bias_hh_l0"].Data[i];
                for (int j = 0; j < I; j++)
                {
                    z += x[s * I + j] * t["rnn.weight_ih_l0"].Data[i * I + j];
                }

                for (int j = 0; j < N; j++)
                {
                    z += h[j] * t["rnn.weight_hh_l0"].Data[i * N + j];
                }

                next[i] = Math.Tanh(z);
            }

            h = next;
            for (int o = 0; o < O; o++)
            {
                double v = t["fc.bias"].Data[o];
                for (int i = 0; i < N; i++)
                {
                    v += t["fc.weight"].Data[o * N + i] * h[i];
                }

                y[s * O + o] = v;
            }
        }

        return y;
    }

    [TestCase("model.safetensors", false)]
    [TestCase("model64.safetensors", true)]
    [TestCase("model.npz", false)]
    public void Load_GivesTheSameOutputsAsPyTorchsFormula(string file, bool float64)
    {
        var dict = StateDict(3);
        string path = Path.Combine(_dir, file);
        if (file.EndsWith(".npz", StringComparison.Ordinal))
        {
            WriteNpz(path, dict);
        }
        else
        {
            WriteSafetensors(path, dict, float64);
        }

        var ensemble = PyTorchRnnImport.Load(path);
        Assert.That((ensemble.Spec.Hidden, ensemble.Spec.Inputs, ensemble.Spec.Outputs), Is.EqualTo((N, I, O)));
        var batch = TrialBatch.For(ensemble.Spec, 1, 1, 9);
        TestData.Fill(batch.Inputs, new Random(4), 1f);
        using var backend = BackendFactory.Create("cpu");
        var (outputs, _) = ensemble.Run(backend, batch);
        var expected = TorchForward(dict, batch.Inputs, 9);
        TestData.AssertClose(outputs, expected.Select(v => (float)v).ToArray(), 1e-4, 1e-5, "outputs");
    }

    [Test]
    public void Load_RejectsOtherFilesAndShapes()
    {
        string junk = Path.Combine(_dir, "junk.safetensors");
        File.WriteAllText(junk, "this is not a tensor file");
        Assert.That(() => PyTorchRnnImport.Load(junk), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("not a .safetensors or .npz"));

        var lstm = StateDict(5);
        lstm["rnn.weight_hh_l0"] = (new float[4 * N * N], [4 * N, N]);
        string lstmPath = Path.Combine(_dir, "lstm.npz");
        WriteNpz(lstmPath, lstm);
        Assert.That(() => PyTorchRnnImport.Load(lstmPath), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("LSTM/GRU"));

        var noReadout = StateDict(6);
        noReadout.Remove("fc.weight");
        string nr = Path.Combine(_dir, "noreadout.safetensors");
        WriteSafetensors(nr, noReadout, false);
        Assert.That(() => PyTorchRnnImport.Load(nr), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("no nn.Linear readout"));
    }

    [Test]
    public void Import_SkipsBuffersAndOtherModules_AndReportsThem()
    {
        var dict = StateDict(7);
        string plain = Path.Combine(_dir, "plain.npz");
        WriteNpz(plain, dict);
        string withBuffers = Path.Combine(_dir, "buffers.npz");
        File.WriteAllBytes(withBuffers, ModelFiles.Npz(dict,
            ("bn.num_batches_tracked", NpyImage.File(NpyImage.Dict("<i8", []), NpyImage.Encode("<i8", [100]))),
            ("bn.running_mean", NpyImage.File("<f4", [N], new double[N]))));

        var result = PyTorchRnnImport.Import(withBuffers);
        Assert.That(result.Skipped, Is.EqualTo(new[] { "bn.num_batches_tracked", "bn.running_mean" }));
        Assert.That(result.Notes, Has.Count.EqualTo(1));
        Assert.That(result.Notes[0], Does.StartWith("skipped 2 entries that are not nn.RNN/nn.Linear parameters")
            .And.Contains("bn.num_batches_tracked (int64, [])").And.Contains("bn.running_mean (float32, [5])"));
        Assert.That(result.Ensemble.Parameters, Is.EqualTo(PyTorchRnnImport.Load(plain).Parameters));
        Assert.That(PyTorchRnnImport.Import(plain).Notes, Is.Empty);
    }

    [Test]
    public void Import_SafetensorsWithAnIntegerBuffer_SkipsIt()
    {
        var dict = StateDict(8);
        string path = Path.Combine(_dir, "buffers.safetensors");
        File.WriteAllBytes(path, ModelFiles.Safetensors(dict, false, ("bn.num_batches_tracked", "I64", [], NpyImage.Encode("<i8", [3]))));
        var result = PyTorchRnnImport.Import(path);
        Assert.That(result.Skipped, Is.EqualTo(new[] { "bn.num_batches_tracked" }));
        Assert.That(result.Notes.Single(), Does.StartWith("skipped 1 entry that is not an nn.RNN/nn.Linear parameter: ").And.Contains("bn.num_batches_tracked (int64, [])"));
    }

    [Test]
    public void Import_BigEndianFortranReadout_MatchesTheCOrderOne()
    {
        var dict = StateDict(9);
        string plain = Path.Combine(_dir, "plain.npz");
        WriteNpz(plain, dict);
        var (w, shape) = dict["fc.weight"];
        var fortran = new List<double>();
        for (int n = 0; n < N; n++)
        {
            for (int o = 0; o < O; o++)
            {
                fortran.Add(w[o * N + n]);
            }
        }

        var rest = dict.Where(kv => kv.Key != "fc.weight").ToDictionary();
        string path = Path.Combine(_dir, "fortran.npz");
        File.WriteAllBytes(path, ModelFiles.Npz(rest, ("fc.weight", NpyImage.File(">f8", shape, fortran.ToArray(), fortran: true))));
        var result = PyTorchRnnImport.Import(path);
        Assert.That(result.Skipped, Is.Empty);
        Assert.That(result.Ensemble.Parameters, Is.EqualTo(PyTorchRnnImport.Load(plain).Parameters));
    }

    [Test]
    public void Import_IntegerParameter_IsAnErrorNamingIt()
    {
        var dict = StateDict(10);
        dict.Remove("rnn.bias_hh_l0");
        string path = Path.Combine(_dir, "intbias.npz");
        File.WriteAllBytes(path, ModelFiles.Npz(dict, ("rnn.bias_hh_l0", NpyImage.File("<i8", [N], [1, 0, -1, 2, 0]))));
        Assert.That(() => PyTorchRnnImport.Import(path), Throws.InstanceOf<InvalidDataException>()
            .With.Message.Contains("'rnn.bias_hh_l0' is int64").And.Message.Contains("quantized"));
    }
}
