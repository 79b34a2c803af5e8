using SkiaSharp;

namespace Pvp.Training.Data;

/// <summary>
/// Decodes JPEG, PNG, WebP (and whatever else Skia reads) into RGBA bitmaps, failing with the file's name.
/// </summary>
public static class ImageCodec
{
    /// <summary>Image file extensions that dataset scans pick up.</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif",
    };

    /// <summary>The largest image file read (1 GiB): far beyond any photo, far below what a byte array holds.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>
    /// The most pixels one image may have unless the caller gives another limit: larger ones are refused from their
    /// header, before any pixel memory is allocated (a small file can declare a huge image: a decompression bomb).
    /// 89,478,485 is Pillow's <c>Image.MAX_IMAGE_PIXELS</c> (about 358 MB as RGBA); recipes set theirs with
    /// <c>max_image_pixels</c>, which reaches the datasets they build (<see cref="FileDataset.MaxImagePixels"/>).
    /// </summary>
    public const long DefaultMaxPixels = 89_478_485;

    /// <summary>
    /// Decoded pixels held at once by every thread together (bitmaps from <see cref="Decode"/> not yet disposed): a
    /// decode that would exceed it waits until others are disposed, so loader workers cannot all hold a huge image at
    /// the same time. A thread that already holds one never waits (it could be waiting on itself), and an image larger
    /// than the whole budget waits until nothing else is held, then decodes alone. Memory is the process's, so the
    /// budget is too (one per process, not per dataset). Default: <see cref="DefaultMaxPixels"/>.
    /// </summary>
    public static long PixelBudget { get; set; } = DefaultMaxPixels;

    private static readonly object BudgetLock = new();
    private static long pixelsInUse;
    private static readonly Dictionary<int, int> LeasesByThread = new();

    /// <summary>Decoded pixels currently held (for tests and diagnostics).</summary>
    public static long PixelsInUse => Interlocked.Read(ref pixelsInUse);

    /// <summary>
    /// Reads only the image's header: that the file is a regular file of a plausible size, that Skia knows its format,
    /// and that its declared size is within <paramref name="maxPixels"/>. Cheap enough to run over a task's every image
    /// before training starts (a damaged file is then named before hours of stage 1, not when a cell reads it).
    /// </summary>
    /// <exception cref="ImageReadException">
    /// Missing, not a regular file, too large, not an image, or declaring too many pixels.
    /// </exception>
    public static void CheckHeader(string path, long maxPixels = DefaultMaxPixels)
    {
        RegularFileLength(path);
        using var codec = SKCodec.Create(path);
        if (codec is null)
            throw new ImageReadException(path,
                "it is not an image Skia can decode (JPEG, PNG, WebP, BMP, GIF), or its header is damaged");
        CheckPixels(path, codec, maxPixels);
    }

    /// <summary>
    /// The length of the regular file at <paramref name="path"/>: only regular files of a plausible size are read,
    /// since a FIFO would block forever and a device (a link to /dev/zero) would never end; both report a length of 0,
    /// as an empty file does.
    /// </summary>
    private static long RegularFileLength(string path)
    {
        if (!File.Exists(path))
            throw new ImageReadException(path, Path.Exists(path) ? "it is not a regular file " +
                "(a pipe, a device or a folder)" : "the file does not exist");
        var file = new FileInfo(path);
        if (file.LinkTarget is not null) file = file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file; // the file's size, not the link's
        long length = file.Length;
        if (length == 0) throw new ImageReadException(path, "it is empty, or not a regular file (a pipe or a device)");
        if (length > MaxFileBytes)
            throw new ImageReadException(path,
                $"it is {length:N0} bytes, more than the {MaxFileBytes:N0} an image file may have");
        return length;
    }

    /// <summary>
    /// The pixels the header declares, within <paramref name="maxPixels"/>
    /// (a decompression bomb is refused before it is decoded).
    /// </summary>
    private static long CheckPixels(string path, SKCodec codec, long maxPixels)
    {
        long pixels = (long)codec.Info.Width * codec.Info.Height;
        if (pixels > maxPixels)
            throw new ImageReadException(path,
                $"it declares {codec.Info.Width}×{codec.Info.Height} = {pixels:N0} pixels, above the limit of {maxPixels:N0} " +
                "(a decompression bomb?); if it is a real image, raise max_image_pixels in the recipe");
        return pixels;
    }

    /// <summary>
    /// Decodes the whole image, so a truncated file fails here rather than yielding a half-grey picture.
    /// </summary>
    /// <exception cref="ImageReadException">
    /// Missing, unreadable, truncated, larger than <paramref name="maxPixels"/> or not an image.
    /// </exception>
    public static SKBitmap Decode(string path, long maxPixels = DefaultMaxPixels)
    {
        long length = RegularFileLength(path);
        byte[] bytes;
        try
        {
            bytes = new byte[length];
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            int read = 0;
            while (read < bytes.Length && stream.Read(bytes, read, bytes.Length - read) is var n and > 0) read += n;
            if (read < bytes.Length) throw new IOException($"it shrank while being read ({read} of {length} bytes)");
        }
        catch (IOException e) { throw new ImageReadException(path, e.Message, e); }
        catch (UnauthorizedAccessException e) { throw new ImageReadException(path, e.Message, e); }

        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null)
            throw new ImageReadException(path, FormatBySignature(bytes) is { } format
                ? $"it starts like a {format} file but is truncated or corrupt"
                : "it is not an image Skia can decode (JPEG, PNG, WebP, BMP, GIF)");
        long pixels = CheckPixels(path, codec, maxPixels);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var lease = Acquire(pixels);
        SKBitmap bitmap;
        try
        {
            bitmap = new BudgetedBitmap(info, lease);
        }
        catch (Exception e) // SkiaSharp throws a plain Exception when it cannot allocate
        {
            lease.Dispose();
            throw new ImageReadException(path,
                $"its {codec.Info.Width}×{codec.Info.Height} pixels could not be allocated ({e.Message})", e);
        }
        if (bitmap.GetPixels() == IntPtr.Zero)
        {
            bitmap.Dispose();
            throw new ImageReadException(path,
                $"there is not enough memory for its {codec.Info.Width}×{codec.Info.Height} pixels");
        }
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is not (SKCodecResult.Success))
        {
            bitmap.Dispose();
            string problem = result == SKCodecResult.IncompleteInput
                ? "it is truncated (incomplete image data)"
                : $"decoding failed ({result})";
            throw new ImageReadException(path, problem);
        }
        return bitmap;
    }

    private static Lease Acquire(long pixels)
    {
        int thread = Environment.CurrentManagedThreadId;
        lock (BudgetLock)
        {
            while (!LeasesByThread.ContainsKey(thread) && pixelsInUse > 0 && pixelsInUse + pixels > PixelBudget)
                Monitor.Wait(BudgetLock);
            pixelsInUse += pixels;
            LeasesByThread[thread] = LeasesByThread.GetValueOrDefault(thread) + 1;
        }
        return new Lease(pixels, thread);
    }

    /// <summary>
    /// One bitmap's share of <see cref="PixelBudget"/>, given back once when it is disposed (or finalized).
    /// </summary>
    private sealed class Lease(long pixels, int thread) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) != 0) return;
            lock (BudgetLock)
            {
                pixelsInUse -= pixels;
                if (LeasesByThread.TryGetValue(thread, out int held))
                {
                    if (held <= 1) LeasesByThread.Remove(thread);
                    else LeasesByThread[thread] = held - 1;
                }
                Monitor.PulseAll(BudgetLock);
            }
        }
    }

    /// <summary>A decoded bitmap that gives its pixels back to the budget when disposed.</summary>
    private sealed class BudgetedBitmap(SKImageInfo info, Lease lease) : SKBitmap(info)
    {
        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            lease.Dispose();
        }
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
