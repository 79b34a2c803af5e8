namespace Pvp.Recipes;

/// <summary>A recipe file is wrong: the message names the file, line, column and key, and what is expected.</summary>
public sealed class RecipeException(string message) : Exception(message);
