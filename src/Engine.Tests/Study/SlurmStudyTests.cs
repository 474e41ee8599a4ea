using NUnit.Framework;
using YamlDotNet.RepresentationModel;
using static Engine.Tests.Study.StudyProcesses;

namespace Engine.Tests.Study;

/// <summary>
/// The study on clusters, for real: <c>docs/slurm/study.sbatch</c> as a job array on a one-node Slurm
/// started by <c>docs/slurm/single-node-cluster.sh</c>, and the command of <c>docs/kubernetes/study-job.yaml</c>
/// run locally per completion index; each sharded study must report what a single process reports.
/// </summary>
/// <remarks>
/// The engine is published once per fixture, the cluster started once (and stopped at the end if this
/// fixture started it), and the single-process reference study run once. The Slurm tests need root (the
/// harness installs <c>slurm-wlm</c> and <c>munge</c> with apt-get when they are missing and runs the daemons)
/// and are ignored, with the reason, where that is not possible.
/// </remarks>
[TestFixture]
[Category("Slurm")]
[NonParallelizable]
public sealed class SlurmStudyTests
{
    private string _root = null!;
    private string? _engine;
    private string? _singleStudy;
    private bool _clusterUp;
    private bool _stopClusterAtEnd;
    private string? _clusterFailure;

    private static string Harness => Path.Combine(RepoRoot(), "docs", "slurm", "single-node-cluster.sh");

    private static string SbatchScript => Path.Combine(RepoRoot(), "docs", "slurm", "study.sbatch");

    [OneTimeSetUp]
    public void CreateRoot() => _root = Directory.CreateTempSubdirectory("engine-slurm-").FullName;

    [OneTimeTearDown]
    public void StopClusterAndClean()
    {
        try
        {
            if (_stopClusterAtEnd)
            {
                var r = Run("bash", [Harness, "stop"], RepoRoot(), limit: TimeSpan.FromMinutes(2));
                TestContext.Progress.WriteLine($"single-node-cluster.sh stop: exit {r.Code}\n{r.Output}");
            }
        }
        finally
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
                // A daemon may still hold a log open for a moment; the temp folder is left behind then.
            }
        }
    }

    [Test]
    public void Sbatch_ScriptIsValidBash()
    {
        foreach (string script in new[] { SbatchScript, Harness })
        {
            var r = Run("bash", ["-n", script], RepoRoot(), limit: TimeSpan.FromSeconds(30));
            Assert.That(r.Code, Is.EqualTo(0), $"bash -n {script}:\n{r.Output}");
        }

        string[] lines = File.ReadAllLines(SbatchScript);
        Assert.That(lines[0], Does.StartWith("#!"), "sbatch needs an interpreter line");
        Assert.That(lines, Has.Some.StartsWith("#SBATCH --job-name="));
        Assert.That(lines, Has.Some.StartsWith("#SBATCH --cpus-per-task="));
        Assert.That(lines, Has.Some.StartsWith("#SBATCH --time="));
        Assert.That(lines, Has.Some.Contains("--gres=gpu:1"), "the GPU variant is documented");
    }

    [Test]
    public void SingleNodeCluster_RunsAJobArray()
    {
        EnsureCluster();
        string dir = Directory.CreateDirectory(Path.Combine(_root, "array")).FullName;
        string script = Path.Combine(dir, "task.sh");
        File.WriteAllText(script, "#!/bin/bash\necho \"$SLURM_ARRAY_TASK_ID\" > \"$1/task-$SLURM_ARRAY_TASK_ID.txt\"\n");

        var r = Sbatch(dir, "0-2", env: null, script, dir);

        for (int i = 0; i < 3; i++)
        {
            string file = Path.Combine(dir, $"task-{i}.txt");
            Assert.That(File.Exists(file), Is.True, $"array task {i} wrote nothing\n{r.Output}\n{Logs(dir)}");
            Assert.That(File.ReadAllText(file).Trim(), Is.EqualTo(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.That(Directory.GetFiles(dir, "task-*.txt"), Has.Length.EqualTo(3));
    }

    [Test]
    public void SlurmJobArray_MatchesSingleProcessStudy()
    {
        EnsureCluster();
        string engine = PublishedEngine();
        string work = Directory.CreateDirectory(Path.Combine(_root, "slurm")).FullName;
        string study = Path.Combine(work, "tiny");
        RunEngine(engine, work, null, "study", "plan", Config(work), "--out", study, "--shards", "2");

        Sbatch(work, "0-1", new Dictionary<string, string> { ["ENGINE"] = engine }, SbatchScript, study);
        AssertShardsOnly(study, 2);
        RunEngine(engine, work, null, "study", "merge", study);

        AssertSameReport(SingleProcessStudy(), study);
    }

    [Test]
    public void KubernetesManifest_ParsesAndItsCommandRunsLocally()
    {
        string dir = Path.Combine(RepoRoot(), "docs", "kubernetes");
        var documents = Directory.GetFiles(dir, "*.yaml").Order(StringComparer.Ordinal)
            .SelectMany(f => Load(f).Select(d => (File: Path.GetFileName(f), Node: d))).ToArray();

        var jobs = documents.Where(d => d.File == "study-job.yaml" && Scalar(d.Node, "kind") == "Job").ToArray();
        Assert.That(jobs, Has.Length.EqualTo(1), "study-job.yaml holds one Job");
        var job = jobs[0].Node;
        Assert.That(Scalar(job, "apiVersion"), Is.EqualTo("batch/v1"));
        Assert.That(Scalar(job, "spec", "completionMode"), Is.EqualTo("Indexed"));
        int completions = int.Parse(Scalar(job, "spec", "completions"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(completions, Is.GreaterThanOrEqualTo(1));
        Assert.That(Scalar(job, "spec", "parallelism"), Is.EqualTo(Scalar(job, "spec", "completions")), "parallelism = completions");
        Assert.That(Scalar(job, "spec", "template", "spec", "restartPolicy"), Is.EqualTo("Never").Or.EqualTo("OnFailure"));

        var pod = (YamlMappingNode)Node(job, "spec", "template", "spec");
        var containers = (YamlSequenceNode)Node(pod, "containers");
        Assert.That(containers.Children, Has.Count.EqualTo(1), "one container per shard");
        var container = containers.Children[0];
        string[] command = ((YamlSequenceNode)Node(container, "command")).Children.Select(n => ((YamlScalarNode)n).Value!).ToArray();
        Assert.That(command, Has.Length.EqualTo(4), $"command: {string.Join(' ', command)}");
        Assert.That(command[..3], Is.EqualTo(new[] { "engine", "study", "run" }));
        string studyPath = command[3];

        // The study folder lies on a mounted volume that is a ReadWriteMany claim: every shard's pod sees it.
        var mounts = ((YamlSequenceNode)Node(container, "volumeMounts")).Children
            .Select(m => (Name: Scalar(m, "name"), Path: Scalar(m, "mountPath").TrimEnd('/')))
            .Where(m => studyPath.StartsWith(m.Path + "/", StringComparison.Ordinal)).ToArray();
        Assert.That(mounts, Has.Length.EqualTo(1), $"one volume mount holds {studyPath}");
        var volume = ((YamlSequenceNode)Node(pod, "volumes")).Children.Single(v => Scalar(v, "name") == mounts[0].Name);
        string claim = Scalar(volume, "persistentVolumeClaim", "claimName");
        var claims = documents.Where(d => Scalar(d.Node, "kind") == "PersistentVolumeClaim" && Scalar(d.Node, "metadata", "name") == claim).ToArray();
        Assert.That(claims, Has.Length.EqualTo(1), $"docs/kubernetes defines the claim '{claim}'");
        var modes = ((YamlSequenceNode)Node(claims[0].Node, "spec", "accessModes")).Children.Select(n => ((YamlScalarNode)n).Value);
        Assert.That(modes, Does.Contain("ReadWriteMany"), $"claim '{claim}' is shared");

        // The pod's command, run here: the mount remapped to a temp folder, one process per completion index.
        string engine = PublishedEngine();
        string volumeRoot = Directory.CreateDirectory(Path.Combine(_root, "k8s")).FullName;
        string study = Path.Combine(volumeRoot, studyPath[(mounts[0].Path.Length + 1)..]);
        RunEngine(engine, volumeRoot, null, "study", "plan", Config(volumeRoot), "--out", study, "--shards", "2");
        string[] args = command[1..].Select(a => a == studyPath ? study : a).ToArray();
        for (int index = 0; index < 2; index++)
        {
            var env = new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            RunEngine(engine, volumeRoot, env, args);
            Assert.That(Directory.Exists(Path.Combine(study, "shards", index.ToString(System.Globalization.CultureInfo.InvariantCulture))), Is.True,
                $"JOB_COMPLETION_INDEX={index} wrote shards/{index}/");
        }

        AssertShardsOnly(study, 2);
        RunEngine(engine, volumeRoot, null, "study", "merge", study);
        AssertSameReport(SingleProcessStudy(), study);
    }

    /// <summary>Starts the one-node cluster once per fixture; ignores the test where that cannot work here.</summary>
    private void EnsureCluster()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("the single-node Slurm harness runs on Linux only");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("not running as root: the single-node Slurm harness installs packages and runs slurmctld, slurmd and munged as root");
        }

        if (!OnPath("sbatch") && !OnPath("apt-get"))
        {
            Assert.Ignore("Slurm is not installed and apt-get is not available to install it");
        }

        if (_clusterFailure is not null)
        {
            Assert.Fail(_clusterFailure);
        }

        if (_clusterUp)
        {
            return;
        }

        bool wasUp = Run("bash", [Harness, "status"], RepoRoot(), limit: TimeSpan.FromSeconds(30)).Code == 0;
        _stopClusterAtEnd = !wasUp; // also after a failed start: stop whatever it did start
        var r = Run("bash", [Harness, "start"], RepoRoot(), limit: TimeSpan.FromMinutes(10));
        if (r.Code != 0)
        {
            _clusterFailure = $"single-node-cluster.sh start exited {r.Code}:\n{r.Output}";
            Assert.Fail(_clusterFailure);
        }

        TestContext.Progress.WriteLine($"single-node Slurm up in {r.Elapsed.TotalSeconds:0.0} s{(wasUp ? " (already running)" : "")}");
        _clusterUp = true;
    }

    /// <summary>
    /// <c>sbatch --parsable --wait --array=ARRAY</c> of <paramref name="script"/>, from <paramref name="workDir"/>,
    /// logs under <c>workDir/logs</c>; asserts that every array task exited 0.
    /// </summary>
    /// <remarks>
    /// <c>--cpus-per-task</c> is half the machine's cores so that two tasks run at once on a small test node
    /// (the script's own default, 4, is for real nodes).
    /// </remarks>
    private static ProcessResult Sbatch(string workDir, string array, IReadOnlyDictionary<string, string>? env, string script, params string[] scriptArgs)
    {
        string logs = Directory.CreateDirectory(Path.Combine(workDir, "logs")).FullName;
        string export = "ALL" + string.Concat((env ?? new Dictionary<string, string>()).Select(kv => $",{kv.Key}={kv.Value}"));
        int cpus = Math.Max(1, Environment.ProcessorCount / 2);
        var r = Run("sbatch",
            ["--parsable", "--wait", $"--array={array}", $"--cpus-per-task={cpus}", $"--chdir={workDir}",
             $"--output={Path.Combine(logs, "%A_%a.out")}", $"--export={export}", script, .. scriptArgs],
            workDir, env);
        Assert.That(r.Code, Is.EqualTo(0), $"sbatch --wait --array={array} {script} exited {r.Code}:\n{r.Output}\n{Logs(workDir)}");
        return r;
    }

    /// <summary>
    /// Each of the <paramref name="shards"/> processes ran one shard (it found its index) rather than the whole
    /// study: every shard folder is there and no report yet, which only <c>study merge</c> writes.
    /// </summary>
    private static void AssertShardsOnly(string study, int shards)
    {
        for (int i = 0; i < shards; i++)
        {
            string shard = Path.Combine(study, "shards", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.That(Directory.Exists(shard), Is.True, $"no {shard}");
        }

        Assert.That(Directory.Exists(Path.Combine(study, "report")), Is.False, "a shard process wrote the report: it ran every shard");
    }

    /// <summary>Every array task's output file under <c>dir/logs</c>, for failure messages.</summary>
    private static string Logs(string dir)
    {
        string logs = Path.Combine(dir, "logs");
        if (!Directory.Exists(logs))
        {
            return "(no logs)";
        }

        return string.Join('\n', Directory.GetFiles(logs).Order(StringComparer.Ordinal)
            .Select(f => $"----- {Path.GetFileName(f)}\n{File.ReadAllText(f)}"));
    }

    private string PublishedEngine() => _engine ??= PublishEngine(Path.Combine(_root, "engine"));

    /// <summary>The tiny study planned without shards and run in one process: the reference report.</summary>
    private string SingleProcessStudy()
    {
        if (_singleStudy is not null)
        {
            return _singleStudy;
        }

        string engine = PublishedEngine();
        string work = Directory.CreateDirectory(Path.Combine(_root, "single")).FullName;
        string study = Path.Combine(work, "tiny");
        RunEngine(engine, work, null, "study", "plan", Config(work), "--out", study);
        RunEngine(engine, work, null, "study", "run", study);
        return _singleStudy = study;
    }

    private static string Config(string dir)
    {
        string path = Path.Combine(dir, "tiny.json");
        File.WriteAllText(path, StudyRunData.Tiny);
        return path;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin"])
            .Any(d => File.Exists(Path.Combine(d, program)));

    private static IReadOnlyList<YamlNode> Load(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(file))
        {
            stream.Load(reader);
        }

        return stream.Documents.Select(d => d.RootNode).ToArray();
    }

    /// <summary>The node at <paramref name="path"/> (mapping keys) under <paramref name="node"/>; fails naming the path if absent.</summary>
    private static YamlNode Node(YamlNode node, params string[] path)
    {
        foreach (string key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                Assert.Fail($"no '{string.Join('.', path)}' in the manifest (missing '{key}')");
                throw new InvalidOperationException(); // unreachable
            }

            node = next;
        }

        return node;
    }

    private static string Scalar(YamlNode node, params string[] path) =>
        Node(node, path) is YamlScalarNode s ? s.Value ?? "" : throw new AssertionException($"'{string.Join('.', path)}' is not a scalar");
}
