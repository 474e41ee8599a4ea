using Engine.Backends;
using Engine.Benchmarks;
using Engine.Tasks;
using Engine.Training;
using NUnit.Framework;

namespace Engine.Tests.Training;

/// <summary>The per-task training recipes: each converges a small ensemble, and <see cref="TrainConfig"/> defaults to them.</summary>
public sealed class TrainingRecipeTests
{
    /// <summary>
    /// Every task's standard recipe (its trials, steps, learning rate and clip, unchanged) trains 4 networks of N = 32 to the
    /// task threshold within its own epoch budget; at least 3 of 4 must converge (the recipe table aims at ≥ 95% on larger
    /// ensembles, bench/results/recipes-2026-12-01.md).
    /// </summary>
    [TestCase("flipflop")]
    [TestCase("sine")]
    [TestCase("delayed")]
    [TestCase("pathint")]
    [CancelAfter(120_000)]
    public void StandardRecipe_ConvergesSmallEnsemble_AtWidth32(string task)
    {
        var options = RecipeBenchmark.RecipeOptions(task, Parameterization.Standard);
        using var backend = BackendFactory.Create("cpu");
        var result = RecipeBenchmark.Run(backend, task, hidden: 32, networks: 4, options);
        TestContext.Out.WriteLine(result.FormatLine());
        Assert.That(result.Converged, Is.GreaterThanOrEqualTo(3), result.FormatLine());
        Assert.That(result.Epochs, Is.LessThanOrEqualTo(options.MaxEpochs));
    }

    /// <summary>
    /// Every task's µP recipe (rate cell at the recipe's α, η₀, clip, budget) trains 3 networks of N = 64, the smallest width
    /// at which the study configs vary γ, at the ends of their γ range (0.25 and 4); at least 2 of 3 must converge at each.
    /// (At N = 32 the lazy end is weaker: flip-flop γ = 0.25 1/4, bench/results/recipes-2026-12-01.md.)
    /// </summary>
    [TestCase("flipflop")]
    [TestCase("sine")]
    [TestCase("delayed")]
    [TestCase("pathint")]
    [CancelAfter(120_000)]
    public void MuPRecipe_ConvergesSmallEnsembles_AcrossTheGammaRange(string task)
    {
        using var backend = BackendFactory.Create("cpu");
        foreach (double gamma in new[] { 0.25, 4.0 })
        {
            var options = RecipeBenchmark.RecipeOptions(task, Parameterization.MuP, gamma);
            var result = RecipeBenchmark.Run(backend, task, hidden: 64, networks: 3, options);
            TestContext.Out.WriteLine(result.FormatLine());
            Assert.That(result.Converged, Is.GreaterThanOrEqualTo(2), result.FormatLine());
        }
    }

    [Test]
    public void For_EveryRegisteredTask_HasARecipe_AndMuPUsesItsOwnLearningRate()
    {
        foreach (var name in TaskRegistry.Names)
        {
            var standard = TrainingRecipe.For(name);
            var mup = TrainingRecipe.For(name, Parameterization.MuP);
            Assert.That(standard.Trials, Is.GreaterThan(0), name);
            Assert.That(standard.MaxEpochs, Is.GreaterThan(0), name);
            Assert.That(standard.PlateauPatience, Is.EqualTo(name == "sine" ? 0 : TrainingRecipe.StandardPlateauPatience), name);
            Assert.That(mup.LearningRate, Is.GreaterThan(standard.LearningRate), $"{name}: µP's steps are 1/N smaller, its η₀ must be larger");
            Assert.DoesNotThrow(() => standard.ToOptions().Validate(1), name);
            Assert.That(standard.Describe(), Does.Contain(name));
        }
    }

    [Test]
    public void For_UnknownTask_ThrowsNamingTheTaskAndTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => TrainingRecipe.For("juggling"));
        Assert.That(e!.Message, Does.Contain("juggling").And.Contain("flipflop").And.Contain("pathint"));
    }

    [TestCase("flipflop")]
    [TestCase("sine")]
    [TestCase("delayed")]
    [TestCase("pathint")]
    public void BuildOptions_WithOnlyATask_UsesTheTasksRecipe(string task)
    {
        var recipe = TrainingRecipe.For(task);
        var options = new TrainConfig { Task = task }.BuildOptions(4);
        Assert.That((options.Trials, options.Steps, options.LearningRate, options.ClipNorm, options.MaxEpochs, options.Patience, options.PlateauPatience),
            Is.EqualTo((recipe.Trials, recipe.Steps, recipe.LearningRate, recipe.Clip, recipe.MaxEpochs, recipe.Patience, recipe.PlateauPatience)));
        Assert.That(options.Threshold, Is.Null, "the threshold stays the task's default");
    }

    [Test]
    public void BuildOptions_WithoutATask_UsesTheFlipFlopRecipe_AndMuPItsMuPRecipe()
    {
        var ff = TrainingRecipe.For("flipflop");
        var options = new TrainConfig().BuildOptions(2);
        Assert.That((options.Trials, options.Steps, options.LearningRate, options.ClipNorm, options.MaxEpochs),
            Is.EqualTo((ff.Trials, ff.Steps, ff.LearningRate, ff.Clip, ff.MaxEpochs)));

        var mup = TrainingRecipe.For("sine", Parameterization.MuP);
        var mupOptions = new TrainConfig { Task = "sine", Parameterization = "mup" }.BuildOptions(2);
        Assert.That((mupOptions.Parameterization, mupOptions.LearningRate, mupOptions.MaxEpochs, mupOptions.ClipNorm),
            Is.EqualTo((Parameterization.MuP, mup.LearningRate, mup.MaxEpochs, mup.Clip)));
    }

    [Test]
    public void BuildOptions_ExplicitValues_OverrideTheRecipe_FieldByField()
    {
        var recipe = TrainingRecipe.For("pathint");
        var options = new TrainConfig { Task = "pathint", LearningRate = 0.0123, Trials = 7 }
            .Merge(new TrainConfig { Clip = 0, MaxEpochs = 11, PlateauPatience = 0 }).BuildOptions(2);
        Assert.That((options.LearningRate, options.Trials, options.ClipNorm, options.MaxEpochs, options.PlateauPatience), Is.EqualTo((0.0123, 7, 0.0, 11, 0)));
        Assert.That((options.Steps, options.Patience), Is.EqualTo((recipe.Steps, recipe.Patience)), "fields left null still come from the recipe");
    }

    [Test]
    public void BuildOptions_UnknownTask_IsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainConfig { Task = "juggling" }.BuildOptions(2));
        Assert.That(e!.Message, Does.Contain("juggling").And.Contain("expected one of"));
    }
}
