using System.Reflection;
using Engine.Backends;
using Engine.Distances;
using Engine.Kernels.Distances;
using Engine.Tests.Support;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NUnit.Framework;
using static Engine.Tests.Distances.DistanceTestData;

namespace Engine.Tests.Distances;

/// <summary>The ILGPU distance kernels against the float64 references, on every ILGPU backend present (tiny shapes: the CPU accelerator is a simulator).</summary>
[TestFixtureSource(typeof(BackendCases), nameof(BackendCases.All))]
public sealed class IlgpuDistanceTests(string backendName)
{
    private IEnsembleBackend _backend = null!;

    [OneTimeSetUp]
    public void Setup()
    {
        if (backendName == "cpu")
        {
            Assert.Ignore("the cpu backend has no ILGPU accelerator; its distances are the fast CPU path tested elsewhere");
        }

        _backend = BackendCases.CreateOrIgnore(backendName);
    }

    [OneTimeTearDown]
    public void TearDown() => _backend?.Dispose();

    [Test]
    public void Cka_MatchesReference_OddShapes()
    {
        var set = Set(1, 23, (States(23, 5, 1), 5), (States(23, 5, 2), 5), (States(23, 5, 3), 5));
        var reference = Cka.Reference(set);
        var got = new IlgpuDistances(_backend).Cka(set, pairsPerLaunch: 4);
        for (int k = 0; k < 9; k++)
        {
            Assert.That(got.Values[k], Is.EqualTo(reference.Values[k]).Within(1e-4), $"entry {k}");
        }
    }

    [Test]
    public void DsaAlign_MatchesReference_SmallRank()
    {
        const int r = 3;
        var ops = new[] { Flat(Stable(r, 1)), Flat(Stable(r, 2)), Flat(Orthogonal(r, 4, -1) * Stable(r, 1) * Orthogonal(r, 4, -1).Transpose()) };
        var options = new DsaOptions { Rank = r, Iterations = 150 };
        var got = new IlgpuDistances(_backend).Dsa(ops, [0, 1, 2], options);
        foreach (var (i, j) in PairwiseMatrix.Pairs(3))
        {
            var (eu, ang) = DsaAlignment.Reference(ops[i], ops[j], r, 150, 5e-3);
            Assert.That(got.Euclidean[i, j], Is.EqualTo(eu).Within(2e-3), $"euclidean {i},{j}");
            Assert.That(got.Angular[i, j], Is.EqualTo(ang).Within(2e-3), $"angular {i},{j}");
        }
    }
}

/// <summary>The distance kernels compile to PTX for sm_80 without a GPU (the pattern of the RNN kernels' PTX test).</summary>
public sealed class DistancePtxTests
{
    private Context _context = null!;
    private PTXBackend _backend = null!;

    public static IEnumerable<TestCaseData> Kernels() =>
        typeof(DistanceKernel).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.ReturnType == typeof(void))
            .Select(m => new TestCaseData(m).SetArgDisplayNames($"{m.DeclaringType!.Name}.{m.Name}"));

    [OneTimeSetUp]
    public void Setup()
    {
        _context = Context.Create(b => b.Default());
        var arch = CudaArchitecture.SM_80;
        _backend = new PTXBackend(_context, new CudaCapabilityContext(arch), arch, CudaInstructionSet.ISA_70, null);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _backend?.Dispose();
        _context?.Dispose();
    }

    [Test]
    public void Catalogue_HoldsTheThreeDistanceKernels() => Assert.That(Kernels().Count(), Is.EqualTo(3));

    [TestCaseSource(nameof(Kernels))]
    public void Kernel_CompilesToPtx_Sm80(MethodInfo kernel)
    {
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        var compiled = (PTXCompiledKernel)_backend.Compile(entry, KernelSpecialization.Empty);
        Assert.That(compiled.PTXAssembly, Does.Contain(".target sm_80").And.Contain(".entry"));
    }
}
