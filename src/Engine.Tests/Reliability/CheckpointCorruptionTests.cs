using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Engine.IO;
using Engine.Model;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Reliability;

/// <summary>
/// Property tests over many corruptions (fixed seeds) of a checkpoint and of a train config: each one is a named error
/// (<see cref="InvalidDataException"/> naming the file; exit 2 and one line through the CLI), never a crash or a silent load.
/// </summary>
[NonParallelizable]
public sealed class CheckpointCorruptionTests
{
    private string _dir = null!;
    private byte[] _good = null!;

    [SetUp]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("rel-ckpt").FullName;
        var task = TaskRegistry.Create("flipflop", new Dictionary<string, string>());
        var spec = new EnsembleSpec { Networks = 2, Hidden = 4, Inputs = task.Inputs, Outputs = task.Outputs };
        var state = Initializer.NewRun(spec, [1, 2], task.Name, task.Settings, new TrainingOptions { Trials = 2, Steps = 5, MaxEpochs = 3 });
        state.Epoch = 2;
        state.Networks[0].Epochs = 2;
        state.Networks[1].Epochs = 2;
        string path = Path.Combine(_dir, "good.rnn");
        Checkpoint.Save(path, state);
        _good = File.ReadAllBytes(path);
    }

    [TearDown]
    public void Cleanup() => Directory.Delete(_dir, true);

    private int HeaderLength => (int)BinaryPrimitives.ReadUInt32LittleEndian(_good.AsSpan(12));

    /// <summary>The checkpoint with its JSON header edited and the checksum recomputed, so only the meaning checks can catch it.</summary>
    private byte[] Rewritten(Action<JsonObject> edit)
    {
        var header = JsonNode.Parse(_good.AsSpan(16, HeaderLength))!.AsObject();
        edit(header);
        return Resealed(Encoding.UTF8.GetBytes(header.ToJsonString()));
    }

    private byte[] Resealed(byte[] json)
    {
        var rest = _good.AsSpan(16 + HeaderLength, _good.Length - 16 - HeaderLength - 32);
        var bytes = new byte[16 + json.Length + rest.Length + 32];
        _good.AsSpan(0, 12).CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)json.Length);
        json.CopyTo(bytes, 16);
        rest.CopyTo(bytes.AsSpan(16 + json.Length));
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)).CopyTo(bytes, bytes.Length - 32);
        return bytes;
    }

    private IEnumerable<(string Name, byte[] Bytes)> Corruptions()
    {
        var rng = new Random(20261201);
        for (int i = 0; i < 40; i++)
        {
            int len = i == 0 ? 0 : rng.Next(0, _good.Length);
            yield return ($"truncated to {len}", _good[..len]);
        }

        for (int i = 0; i < 60; i++)
        {
            var b = (byte[])_good.Clone();
            int at = i < 12 ? 8 + i : rng.Next(0, b.Length); // the version and header-length words, then anywhere
            b[at] ^= (byte)(1 << rng.Next(8));
            yield return ($"bit flipped at {at}", b);
        }

        var zeroed = (byte[])_good.Clone();
        Array.Clear(zeroed, 16, HeaderLength);
        yield return ("zeroed header", zeroed);
        var random = (byte[])_good.Clone();
        rng.NextBytes(random.AsSpan(16, HeaderLength));
        yield return ("random header", random);
        yield return ("zeroed header, valid checksum", Resealed(new byte[HeaderLength]));
        yield return ("random header, valid checksum", Resealed(Enumerable.Range(0, 300).Select(_ => (byte)rng.Next(256)).ToArray()));
        var version = (byte[])_good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(version.AsSpan(8), 2);
        yield return ("version 2", version);
        var padded = _good.Concat(new byte[8]).ToArray();
        yield return ("padded", padded);
        yield return ("negative epoch", Rewritten(h => h["epoch"] = -1));
        yield return ("network epochs past the run's", Rewritten(h => h["records"]![0]!["epochs"] = 9));
        yield return ("negative network epochs", Rewritten(h => h["records"]![1]!["epochs"] = -3));
        yield return ("undefined status", Rewritten(h => h["records"]![0]!["status"] = 7));
        yield return ("one record", Rewritten(h => h["records"]!.AsArray().RemoveAt(1)));
        yield return ("one seed", Rewritten(h => h["seeds"]!.AsArray().RemoveAt(1)));
        yield return ("no seeds", Rewritten(h => h.Remove("seeds")));
        yield return ("three networks", Rewritten(h => h["networks"] = 3));
        yield return ("negative networks", Rewritten(h => h["networks"] = -2));
        yield return ("zero stride", Rewritten(h => h["stride"] = 0));
        yield return ("negative factor length", Rewritten(h => h["factor_length"] = -4));
        yield return ("spec hidden 5", Rewritten(h => h["spec"]!["hidden"] = 5));
        yield return ("spec without hidden", Rewritten(h => h["spec"]!.AsObject().Remove("hidden")));
        yield return ("no spec", Rewritten(h => h.Remove("spec")));
        yield return ("negative learning rate", Rewritten(h => h["options"]!["learning_rate"] = -1));
        yield return ("zero trials", Rewritten(h => h["options"]!["trials"] = 0));
        yield return ("entry moved", Rewritten(h => h["entries"]![1]!["offset"] = 3));
        yield return ("weight change of three", Rewritten(h => h["weight_change"] = new JsonArray(1, 2, 3)));
        yield return ("negative lr scale", Rewritten(h => h["records"]![0]!["lr_scale"] = -1));
        yield return ("epoch as text", Rewritten(h => h["epoch"] = "two"));
        yield return ("header is an array", Resealed("[1,2,3]"u8.ToArray()));
        yield return ("header is null", Resealed("null"u8.ToArray()));
    }

    [Test]
    public void Load_EveryCorruption_IsInvalidDataNamingTheFile()
    {
        string path = Path.Combine(_dir, Checkpoint.FileName);
        Assert.That(() => { File.WriteAllBytes(path, _good); Checkpoint.Load(path); }, Throws.Nothing, "the uncorrupted file loads");
        int count = 0;
        foreach (var (name, bytes) in Corruptions())
        {
            File.WriteAllBytes(path, bytes);
            var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path), name);
            Assert.That(ex!.Message, Does.StartWith(path + ": "), name);
            count++;
        }

        Assert.That(count, Is.GreaterThan(120));
    }

    [Test]
    public void Resume_EveryCorruptedCheckpoint_ExitsTwo_WithOneLineNamingTheFile()
    {
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        string path = Path.Combine(run, Checkpoint.FileName);
        foreach (var (name, bytes) in Corruptions())
        {
            File.WriteAllBytes(path, bytes);
            var (code, _, err) = Support.CliHarness.Run("train", "--resume", run, "--backend", "cpu");
            Assert.That(code, Is.EqualTo(2), $"{name}: {err}");
            Assert.That(err, Does.StartWith($"error: {path}: "), name);
            Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), name);
        }
    }

    [Test]
    public void Train_EveryCorruptedConfig_ExitsTwoNamingTheFile_OrTrainsWhatItSays()
    {
        const string good = "{\n  \"networks\": 2,\n  \"hidden\": 4,\n  \"trials\": 2,\n  \"steps\": 5,\n  \"max_epochs\": 1,\n  \"backend\": \"cpu\",\n  \"threads\": 1\n}\n";
        var bytes = Encoding.UTF8.GetBytes(good);
        var rng = new Random(7);
        var cases = new List<(string Name, byte[] Bytes, bool MustFail)>();
        for (int i = 0; i < 25; i++)
        {
            int len = rng.Next(0, bytes.Length - 2);
            cases.Add(($"truncated to {len}", bytes[..len], true));
        }

        for (int i = 0; i < 25; i++)
        {
            var b = (byte[])bytes.Clone();
            int at = rng.Next(b.Length);
            b[at] ^= (byte)(1 << rng.Next(8));
            cases.Add(($"bit flipped at {at}", b, false)); // a flipped digit may still be a valid (tiny) run
        }

        var noise = new byte[200];
        rng.NextBytes(noise);
        cases.Add(("random bytes", noise, true));
        cases.Add(("empty", [], true));
        cases.Add(("null", "null"u8.ToArray(), true));
        foreach (var (key, value) in new[] { ("networks", "-3"), ("hidden", "0"), ("threads", "-1"), ("trials", "\"many\""), ("max_epochs", "0"), ("netwroks", "2"), ("backend", "\"tpu\""), ("cell", "\"lstm\"") })
        {
            string text = good.Contains($"\"{key}\":", StringComparison.Ordinal)
                ? System.Text.RegularExpressions.Regex.Replace(good, $"\"{key}\": [^,\\n]+", $"\"{key}\": {value}")
                : good.Replace("\n}", $",\n  \"{key}\": {value}\n}}", StringComparison.Ordinal);
            cases.Add(($"{key} = {value}", Encoding.UTF8.GetBytes(text), true));
        }

        string cfg = Path.Combine(_dir, "run.json");
        int k = 0;
        foreach (var (name, b, mustFail) in cases)
        {
            File.WriteAllBytes(cfg, b);
            string run = Path.Combine(_dir, $"cfg{k++}");
            var (code, _, err) = Support.CliHarness.Run("train", "--config", cfg, "--out", run, "--quiet");
            if (code == 0 && !mustFail)
            {
                continue;
            }

            Assert.That(code, Is.EqualTo(2), $"{name}: {err}");
            Assert.That(err, Does.StartWith($"error: {cfg}: "), name);
            Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), name);
            Assert.That(Directory.Exists(run), Is.False, $"{name}: nothing created");
        }
    }
}
