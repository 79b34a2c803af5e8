namespace Pvp;

/// <summary>Classifies parameters by their state-dict names, which the generator makes unambiguous.</summary>
public static class ParameterNaming
{
    /// <summary>Group precedence: a parameter joins the group of the first of these kinds that it trains as.</summary>
    public static readonly ParameterKinds[] GroupOrder =
    {
        ParameterKinds.Prompt, ParameterKinds.Lora, ParameterKinds.Adapter, ParameterKinds.Ssf, ParameterKinds.Attachment,
        ParameterKinds.Head, ParameterKinds.Norm, ParameterKinds.Bias, ParameterKinds.Backbone,
    };

    /// <summary>The kinds of the parameter called <paramref name="name"/>.</summary>
    /// <param name="name">A state-dict key such as <c>blocks.3.attn.qkv.q.lora_A</c>.</param>
    /// <param name="attachmentNames">Field names of attached modules inside blocks.</param>
    public static ParameterKinds KindOf(string name, IReadOnlyCollection<string> attachmentNames)
    {
        if (name is "prompt_embeddings" or "deep_prompt_embeddings") return ParameterKinds.Prompt;
        string[] parts = name.Split('.');
        string last = parts[^1];
        if (last is "lora_A" or "lora_B") return ParameterKinds.Lora;
        if (parts[0] == "blocks" && parts.Length > 2)
        {
            if (parts[2] is "adapter" or "adapter_attn") return ParameterKinds.Adapter;
            if (SsfAttribute.ModuleNames.Contains(parts[2])) return ParameterKinds.Ssf;
            if (attachmentNames.Contains(parts[2])) return ParameterKinds.Attachment;
        }
        if (parts[0] == "head") return ParameterKinds.Head;
        var kinds = ParameterKinds.Backbone;
        if (parts.Any(p => p is "norm" or "norm1" or "norm2")) kinds |= ParameterKinds.Norm;
        if (last == "bias") kinds |= ParameterKinds.Bias;
        return kinds;
    }

    /// <summary>Whether weight decay suits this parameter by its nature: never for biases, norms, 1-D tensors, tokens.</summary>
    public static bool DecayByDefault(string name, long dimensions, ParameterKinds kinds) =>
        dimensions > 1
        && (kinds & (ParameterKinds.Bias | ParameterKinds.Norm | ParameterKinds.Prompt)) == 0
        && name is not ("cls_token" or "pos_embed");
}
