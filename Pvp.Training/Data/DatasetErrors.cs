namespace Pvp.Training.Data;

/// <summary>An image that cannot be decoded: missing, unreadable, truncated or not an image.</summary>
public sealed class ImageReadException(string path, string problem, Exception? inner = null)
    : Exception($"Cannot read image '{path}': {problem}.", inner)
{
    /// <summary>The image's path.</summary>
    public string Path { get; } = path;
}

/// <summary>A dataset's contents or description is wrong (missing root, empty class, bad line or label, …).</summary>
public sealed class DatasetException(string message) : Exception(message);
