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

    /// <summary>The checkpoint with <paramref name="json"/> as its header, <paramref name="extra"/> zero bytes added to the payload, and the checksum recomputed.</summary>
    private byte[] Resealed(byte[] json, int extra = 0)
    {
        var rest = _good.AsSpan(16 + HeaderLength, _good.Length - 16 - HeaderLength - 32);
        var bytes = new byte[16 + json.Length + rest.Length + extra + 32];
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

    /// <summary>
    /// Each corruption is refused by the check written for it, and the message says which: a later check (the file
    /// length, the spec) would also refuse most of them, but with a message that points at the wrong thing.
    /// </summary>
    [Test]
    public void Load_EachCorruption_IsRefusedByItsOwnCheck()
    {
        int len = _good.Length;
        byte[] HeaderClaims(long headerLength)
        {
            var b = (byte[])_good.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), (uint)headerLength);
            return b;
        }

        byte[] Record(string key, JsonNode value) => Rewritten(h => h["records"]![0]![key] = value);
        var header = JsonNode.Parse(_good.AsSpan(16, HeaderLength))!.AsObject();
        header["factor_length"] = 4;
        byte[] factorsAtFullRank = Resealed(Encoding.UTF8.GetBytes(header.ToJsonString()), 3 * 4 * 4);
        var cases = new (string Name, byte[] Bytes, string Says)[]
        {
            ("48 bytes: magic, version, an empty header, a checksum", [.. _good.AsSpan(0, 12), 0, 0, 0, 0, .. new byte[32]], "corrupted checkpoint header"),
            ("header claims one byte past the checksum", HeaderClaims(len - 47), "truncated: header claims"),
            ("header claims eight bytes past the end", HeaderClaims(len - 40), "truncated: header claims"),
            ("header claims 4 GiB", HeaderClaims(0xFFFF_FFF0), "truncated: header claims"),
            ("header runs up to the checksum", HeaderClaims(len - 48), "corrupted checkpoint header"),
            ("networks 0", Rewritten(h => h["networks"] = 0), "invalid checkpoint header: networks 0,"),
            ("networks -2", Rewritten(h => h["networks"] = -2), "invalid checkpoint header: networks -2,"),
            ("stride 0", Rewritten(h => h["stride"] = 0), "stride 0 (both must be at least 1)"),
            ("factor length -4", Rewritten(h => h["factor_length"] = -4), "factor_length -4 (must be at least 0)"),
            ("networks 1: a valid count, the wrong length", Rewritten(h => h["networks"] = 1), "truncated or padded: expected"),
            ("stride 1: a valid stride, the wrong length", Rewritten(h => h["stride"] = 1), "truncated or padded: expected"),
            ("noise_std -1 in the spec", Rewritten(h => h["spec"]!["noise_std"] = -1), "invalid spec in checkpoint"),
            ("a spec of three networks", Rewritten(h =>
            {
                h["spec"]!["networks"] = 3;
                h["seeds"] = new JsonArray(1, 2, 3);
                h["records"]!.AsArray().Add(h["records"]![0]!.DeepClone());
                h.Remove("weight_change");
                h.Remove("kernel_alignment");
            }), "header shapes E=2, P="),
            ("four factor values (with their bytes) at full rank", factorsAtFullRank, "factor_length 4, expected 0 for rank 0"),
            ("epoch -1", Rewritten(h => h["epoch"] = -1), "epoch -1 (must be at least 0)"),
            ("one seed", Rewritten(h => h["seeds"]!.AsArray().RemoveAt(1)), "invalid checkpoint header: 1 seeds for 2 networks"),
            ("no records", Rewritten(h => h.Remove("records")), "invalid checkpoint header: 0 network records for 2 networks"),
            ("one record", Rewritten(h => h["records"]!.AsArray().RemoveAt(1)), "invalid checkpoint header: 1 network records for 2 networks"),
            ("since_threshold -5", Record("since_threshold", -5), "impossible schedule record"),
            ("bad_epochs -1", Record("bad_epochs", -1), "impossible schedule record"),
            ("lr_scale 0", Record("lr_scale", 0), "impossible schedule record"),
            ("lr_scale infinite", Record("lr_scale", "Infinity"), "impossible schedule record"),
        };
        string path = Path.Combine(_dir, Checkpoint.FileName);
        foreach (var (name, bytes, says) in cases)
        {
            File.WriteAllBytes(path, bytes);
            var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path), name);
            Assert.That(ex!.Message, Does.StartWith(path + ": ").And.Contain(says), name);
        }
    }

    /// <summary>A run saved before its first epoch, and a header without the optional fields (a bare ensemble, or a file written before they existed), load.</summary>
    [Test]
    public void Load_AcceptsEpochZero_AndAHeaderWithoutItsOptionalFields()
    {
        string path = Path.Combine(_dir, Checkpoint.FileName);
        File.WriteAllBytes(path, Rewritten(h =>
        {
            h["epoch"] = 0;
            h["records"]![0]!["epochs"] = 0;
            h["records"]![1]!["epochs"] = 0;
        }));
        Assert.That(Checkpoint.Load(path).Epoch, Is.Zero);
        File.WriteAllBytes(path, Rewritten(h =>
        {
            foreach (var key in new[] { "task", "task_settings", "weight_change", "kernel_alignment", "entries", "options" })
            {
                Assert.That(h.Remove(key), Is.True, key);
            }
        }));
        var bare = Checkpoint.Load(path);
        Assert.That(bare.TaskName, Is.Empty);
        Assert.That(bare.TaskSettings, Is.Empty);
        Assert.That(bare.WeightChange, Is.All.NaN);
        Assert.That(bare.KernelAlignment, Is.All.NaN);
        Assert.That(bare.Options.Trials, Is.EqualTo(new TrainingOptions().Trials).And.Not.EqualTo(2), "the default options, not the saved ones");
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
