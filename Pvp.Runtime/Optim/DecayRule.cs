namespace Pvp.Optim;

/// <summary>Which trainable parameters take weight decay.</summary>
public enum DecayRule
{
    /// <summary>Weights of two or more dimensions only; biases, norms, tokens and (unless the declaration says otherwise) prompts do not, as timm's AdamW recipes.</summary>
    Pvp,
    /// <summary>Every trainable parameter, prompts, biases and norms included, except the classifier's bias: VPT's SGD (its <c>optimizer.py</c> gives every parameter the decay and <c>last_layer.bias</c> none).</summary>
    All,
}
