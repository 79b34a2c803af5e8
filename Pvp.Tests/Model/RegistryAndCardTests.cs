using Pvp.Models;
using Xunit.Abstractions;

namespace Pvp.Tests.Model;

/// <summary>Variants by name (for recipe files) and the printable model card.</summary>
public class RegistryAndCardTests(ITestOutputHelper output)
{
    static RegistryAndCardTests() => VariantRegistry.Load(typeof(VptDeepB16).Assembly);

    [Fact]
    public void EveryCatalogVariantIsRegisteredByName()
    {
        var names = VariantRegistry.Names;
        // Every variant the catalog declares (its PetModel subclasses), not a list kept by hand.
        var catalog = typeof(VptDeepB16).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(PetModel))).ToList();
        Assert.Contains(catalog, t => t == typeof(SsfFullMicro));
        foreach (var type in catalog)
        {
            Assert.Contains(type.Name, names);
            Assert.Equal(type, VariantRegistry.TypeOf(type.Name));
        }
        // Each method family the Micro catalog has is declared at the four ViT-/16 sizes (the bf16 plan and the bare backbones aside).
        foreach (var micro in catalog.Where(t => t.Name.EndsWith("Micro", StringComparison.Ordinal) && !t.Name.Contains("Bf16") && !t.Name.StartsWith("Vit", StringComparison.Ordinal)))
            foreach (string size in new[] { "Ti16", "S16", "B16", "L16" })
                Assert.Contains(micro.Name[..^"Micro".Length] + size, names);
        Assert.Equal(typeof(LoraS16), VariantRegistry.TypeOf("LoraS16"));
        using var model = VariantRegistry.Create("VptDeepMicro", numClasses: 3);
        Assert.IsType<VptDeepMicro>(model);
        Assert.Equal(3, model.NumClasses);
    }

    [Fact]
    public void UnknownVariantNameSuggestsCloseOnes()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => VariantRegistry.Create("VptDeep", 3));
        Assert.Contains("No PETuning variant named 'VptDeep'", error.Message);
        Assert.Contains("VptDeepB16", error.Message);
    }

    [Fact]
    public void ModelCardsSayWhatAttachesWhereAndWhatTrains()
    {
        using var vpt = new VptDeepB16(1000);
        using var lora = new LoraB16(1000);
        using var combo = new VptDeepLoraS16(100);
        foreach (var model in new PetModel[] { vpt, lora, combo }) output.WriteLine(model.ModelCard());

        string card = vpt.ModelCard();
        Assert.Contains("VptDeepB16: ViT D=768 depth 12 heads 12", card);
        Assert.Contains("VPT-deep: 50 prompt tokens inserted before block 0, replaced before blocks 1 to 11", card);
        Assert.Contains("trainable: 1,229,800 of 87,028,456 (1.413%): prompts 460,800, head 769,000", card);
        Assert.Contains("LoRA r=8 alpha=8 on q, v of blocks 0 to 11", lora.ModelCard());
        Assert.Contains("LoRA r=8 alpha=8 on q, v of blocks 6 to 11", combo.ModelCard());
    }
}
