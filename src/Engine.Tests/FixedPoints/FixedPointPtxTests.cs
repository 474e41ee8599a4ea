using System.Reflection;
using Engine.Kernels.FixedPoints;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NUnit.Framework;

namespace Engine.Tests.FixedPoints;

/// <summary>The fixed-point kernels compile to PTX for sm_80 without a GPU (the pattern of the RNN kernels' PTX test).</summary>
public sealed class FixedPointPtxTests
{
    private Context _context = null!;
    private PTXBackend _backend = null!;

    public static IEnumerable<TestCaseData> Kernels() =>
        typeof(FixedPointKernel).GetMethods(BindingFlags.Public | BindingFlags.Static)
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
    public void Catalogue_HoldsTheFourSearchKernels() => Assert.That(Kernels().Count(), Is.EqualTo(4));

    [TestCaseSource(nameof(Kernels))]
    public void Kernel_CompilesToPtx_Sm80(MethodInfo kernel)
    {
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        var compiled = (PTXCompiledKernel)_backend.Compile(entry, KernelSpecialization.Empty);
        Assert.That(compiled.PTXAssembly, Does.Contain(".target sm_80").And.Contain(".entry"));
    }
}
