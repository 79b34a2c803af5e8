using SkiaSharp;

namespace Pvp.Data;

/// <summary>Decodes JPEG, PNG, WebP (and whatever else Skia reads) into RGBA bitmaps, failing with the file's name.</summary>
public static class ImageCodec
{
    /// <summary>Image file extensions that dataset scans pick up.</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif",
    };

    /// <summary>Decodes the whole image, so a truncated file fails here rather than yielding a half-grey picture.</summary>
    /// <exception cref="ImageReadException">Missing, unreadable, truncated or not an image.</exception>
    public static SKBitmap Decode(string path)
    {
        if (!File.Exists(path)) throw new ImageReadException(path, "the file does not exist");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new ImageReadException(path, e.Message, e); }
        catch (UnauthorizedAccessException e) { throw new ImageReadException(path, e.Message, e); }

        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null)
            throw new ImageReadException(path, FormatBySignature(bytes) is { } format
                ? $"it starts like a {format} file but is truncated or corrupt"
                : "it is not an image Skia can decode (JPEG, PNG, WebP, BMP, GIF)");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is not (SKCodecResult.Success))
        {
            bitmap.Dispose();
            string problem = result == SKCodecResult.IncompleteInput ? "it is truncated (incomplete image data)" : $"decoding failed ({result})";
            throw new ImageReadException(path, problem);
        }
        return bitmap;
    }

    /// <summary>The format a file's first bytes announce, or null.</summary>
    private static string? FormatBySignature(ReadOnlySpan<byte> bytes) => bytes switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "PNG",
        [0xFF, 0xD8, ..] => "JPEG",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "WebP",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "GIF",
        [(byte)'B', (byte)'M', ..] => "BMP",
        _ => null,
    };

    /// <summary>Writes a bitmap as PNG (lossless) or JPEG (by extension, quality 95).</summary>
    public static void Save(SKBitmap bitmap, string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        var format = extension is ".jpg" or ".jpeg" ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(format, 95);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var stream = File.Create(path);
        encoded.SaveTo(stream);
    }
}
