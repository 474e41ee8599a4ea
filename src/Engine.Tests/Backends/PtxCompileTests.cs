using System.Reflection;
using Engine.Kernels.Rnn;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NUnit.Framework;

namespace Engine.Tests.Backends;

/// <summary>Every ILGPU kernel compiles to PTX for sm_80 without a GPU (ILGPU's PTX backend, no driver needed).</summary>
public sealed class PtxCompileTests
{
    private Context _context = null!;
    private PTXBackend _backend = null!;

    /// <summary>
    /// Every kernel: public static void methods of the static <c>*Kernels</c> / <c>*Kernel</c> classes of Engine.Kernels
    /// (RNN training, fixed-point search, distances, closed-loop training).
    /// </summary>
    public static IEnumerable<TestCaseData> Kernels() =>
        typeof(RnnShape).Assembly.GetTypes()
            .Where(t => t.IsAbstract && t.IsSealed && (t.Name.EndsWith("Kernels", StringComparison.Ordinal) || t.Name.EndsWith("Kernel", StringComparison.Ordinal)))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.ReturnType == typeof(void)))
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
    public void Catalogue_HoldsEveryKernelTheBackendsLoad()
    {
        var names = Kernels().Select(k => ((MethodInfo)k.Arguments[0]!).DeclaringType!.Namespace).ToList();
        Assert.That(names.Count(n => n == typeof(RnnShape).Namespace), Is.EqualTo(9), "RNN training kernels");
        Assert.That(names.Count(n => n == typeof(Engine.Kernels.FixedPoints.FixedPointKernel).Namespace), Is.EqualTo(4), "fixed-point search kernels");
        Assert.That(names.Count(n => n == typeof(Engine.Kernels.Distances.DistanceKernel).Namespace), Is.EqualTo(4), "distance kernels");
        Assert.That(names.Count(n => n == typeof(Engine.Kernels.ClosedLoop.ClosedLoopKernels).Namespace), Is.EqualTo(7), "closed-loop kernels");
        Assert.That(names, Has.Count.EqualTo(24));
    }

    [TestCaseSource(nameof(Kernels))]
    public void Kernel_CompilesToPtx_Sm80(MethodInfo kernel)
    {
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        var compiled = (PTXCompiledKernel)_backend.Compile(entry, KernelSpecialization.Empty);
        string ptx = compiled.PTXAssembly;
        Assert.That(ptx, Does.Contain(".target sm_80"));
        Assert.That(ptx, Does.Contain(".entry"));
        TestContext.Out.WriteLine($"{kernel.Name}: {ptx.Length} chars of PTX, tanh.approx: {ptx.Contains("tanh.approx", StringComparison.Ordinal)}");
    }
}
