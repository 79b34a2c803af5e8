namespace Pvp.Training.Data;

/// <summary>
/// The PIL (Pillow) image operations that timm's RandAugment calls, on an 8-bit RGB image stored row-major and
/// interleaved (<c>rgb[(y · width + x) · 3 + channel]</c>), with Pillow's integer arithmetic: <c>ImageOps</c>'
/// autocontrast, equalize, invert, posterize and solarize; timm's <c>solarize_add</c>; <c>ImageEnhance</c>'s Color,
/// Contrast, Brightness and Sharpness as <c>Image.blend(degenerate, image, factor)</c>; and <c>Image.transform</c>'s
/// affine map (<c>libImaging/Geometry.c</c>) with a fill colour. Every method returns a new array.
/// </summary>
public static class PilOps
{
    /// <summary><c>ImageOps.autocontrast(img)</c> (cutoff 0): each channel's [min, max] stretched to [0, 255], truncating.</summary>
    public static byte[] AutoContrast(byte[] rgb) => PerChannelLut(rgb, histogram =>
    {
        int lo = Array.FindIndex(histogram, h => h != 0), hi = Array.FindLastIndex(histogram, h => h != 0);
        var lut = Identity();
        if (hi <= lo) return lut;
        double scale = 255.0 / (hi - lo), offset = -lo * scale;
        for (int i = 0; i < 256; i++) lut[i] = (byte)Math.Clamp((int)(i * scale + offset), 0, 255);
        return lut;
    });

    /// <summary>
    /// <c>ImageOps.equalize(img)</c>: per channel, step = (count − count of the last non-empty level) // 255, and level
    /// i maps to (step // 2 + pixels below i) // step; a channel with one level (or step 0) is unchanged.
    /// </summary>
    public static byte[] Equalize(byte[] rgb) => PerChannelLut(rgb, histogram =>
    {
        var lut = Identity();
        var used = histogram.Where(h => h != 0).ToArray();
        if (used.Length <= 1) return lut;
        int step = (used.Sum() - used[^1]) / 255;
        if (step == 0) return lut;
        int n = step / 2;
        for (int i = 0; i < 256; i++)
        {
            lut[i] = (byte)Math.Min(255, n / step);
            n += histogram[i];
        }
        return lut;
    });

    /// <summary><c>ImageOps.invert</c>: 255 − v.</summary>
    public static byte[] Invert(byte[] rgb) => Map(rgb, v => 255 - v);

    /// <summary><c>ImageOps.posterize(img, bits)</c>: keep the top <paramref name="bits"/> bits (timm: 8 or more keeps the image).</summary>
    public static byte[] Posterize(byte[] rgb, int bits)
    {
        if (bits >= 8) return (byte[])rgb.Clone();
        int mask = ~((1 << (8 - Math.Max(0, bits))) - 1);
        return Map(rgb, v => v & mask);
    }

    /// <summary><c>ImageOps.solarize(img, threshold)</c>: v below the threshold stays, others become 255 − v.</summary>
    public static byte[] Solarize(byte[] rgb, int threshold) => Map(rgb, v => v < threshold ? v : 255 - v);

    /// <summary>timm's <c>solarize_add(img, add, thresh=128)</c>: v below 128 becomes min(255, v + add).</summary>
    public static byte[] SolarizeAdd(byte[] rgb, int add, int threshold = 128) =>
        Map(rgb, v => v < threshold ? Math.Min(255, v + add) : v);

    /// <summary>
    /// Pillow's <c>convert("L")</c> of one pixel: <c>(R·19595 + G·38470 + B·7471 + 0x8000) &gt;&gt; 16</c>
    /// (<c>libImaging/Convert.c</c>'s L24, ITU-R 601-2 luma 0.299 / 0.587 / 0.114 in 16-bit fixed point, rounded).
    /// </summary>
    public static int Luma(int r, int g, int b) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

    /// <summary><c>ImageEnhance.Color(img).enhance(factor)</c>: a blend with the image's grayscale.</summary>
    public static byte[] Color(byte[] rgb, double factor)
    {
        var gray = new byte[rgb.Length];
        for (int i = 0; i < rgb.Length; i += 3)
            gray[i] = gray[i + 1] = gray[i + 2] = (byte)Luma(rgb[i], rgb[i + 1], rgb[i + 2]);
        return Blend(gray, rgb, factor);
    }

    /// <summary>
    /// <c>ImageEnhance.Contrast(img).enhance(factor)</c>: a blend with a flat image of the grayscale's mean,
    /// int(mean + 0.5).
    /// </summary>
    public static byte[] Contrast(byte[] rgb, double factor)
    {
        long sum = 0;
        for (int i = 0; i < rgb.Length; i += 3) sum += Luma(rgb[i], rgb[i + 1], rgb[i + 2]);
        int mean = (int)(sum / (double)(rgb.Length / 3) + 0.5);
        var flat = new byte[rgb.Length];
        Array.Fill(flat, (byte)mean);
        return Blend(flat, rgb, factor);
    }

    /// <summary><c>ImageEnhance.Brightness(img).enhance(factor)</c>: a blend with black.</summary>
    public static byte[] Brightness(byte[] rgb, double factor) => Blend(new byte[rgb.Length], rgb, factor);

    /// <summary>
    /// <c>ImageEnhance.Sharpness(img).enhance(factor)</c>: a blend with <c>ImageFilter.SMOOTH</c>, the 3×3 kernel
    /// [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13, as <c>libImaging/Filter.c</c>'s <c>ImagingFilter3x3</c> computes it: in
    /// single precision, from 0.5 (its rounding offset), adding the rows y + 1, y, y − 1 (each row's three products
    /// summed left to right), then clipped to [0, 255] and truncated, so rounded; the border pixels are the image's own.
    /// </summary>
    public static byte[] Sharpness(byte[] rgb, int width, int height, double factor)
    {
        const float side = 1f / 13f, centre = 5f / 13f;
        var smooth = (byte[])rgb.Clone();
        for (int y = 1; y < height - 1; y++)
            for (int x = 1; x < width - 1; x++)
                for (int c = 0; c < 3; c++)
                {
                    float Row(int r, float middle) =>
                        rgb[(r * width + x - 1) * 3 + c] * side + rgb[(r * width + x) * 3 + c] * middle
                        + rgb[(r * width + x + 1) * 3 + c] * side;
                    float sum = 0.5f;
                    sum += Row(y + 1, side);
                    sum += Row(y, centre);
                    sum += Row(y - 1, side);
                    smooth[(y * width + x) * 3 + c] = Clip8(sum);
                }
        return Blend(smooth, rgb, factor);
    }

    /// <summary>
    /// <c>Image.blend(a, b, alpha)</c>: a + alpha · (b − a) in single precision, clipped to [0, 255] and truncated
    /// (<c>libImaging/Blend.c</c>).
    /// </summary>
    public static byte[] Blend(byte[] a, byte[] b, double alpha)
    {
        float f = (float)alpha;
        var result = new byte[a.Length];
        for (int i = 0; i < a.Length; i++) result[i] = Clip8(a[i] + f * (b[i] - a[i]));
        return result;
    }

    /// <summary>
    /// <c>img.transform(size, Image.AFFINE, (a, b, c, d, e, f), resample, fillcolor=fill)</c>: the output pixel (x, y)
    /// samples the input at (a·(x + ½) + b·(y + ½) + c, d·(x + ½) + e·(y + ½) + f); a sample outside the image takes
    /// <paramref name="fill"/>. Nearest takes the pixel the point falls in; bilinear and bicubic are Pillow's
    /// transform filters (<c>Geometry.c</c>: neighbours clamped to the edge, bicubic with a = −1, results truncated).
    /// </summary>
    public static byte[] Affine(byte[] rgb, int width, int height, double[] m, AffineFilter filter,
        (byte R, byte G, byte B) fill)
    {
        var result = new byte[rgb.Length];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double xin = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
                double yin = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
                int o = (y * width + x) * 3;
                bool inside = filter == AffineFilter.Nearest
                    ? Coord(xin) >= 0 && Coord(xin) < width && Coord(yin) >= 0 && Coord(yin) < height
                    : xin >= 0 && xin < width && yin >= 0 && yin < height;
                if (!inside)
                {
                    (result[o], result[o + 1], result[o + 2]) = (fill.R, fill.G, fill.B);
                    continue;
                }
                for (int c = 0; c < 3; c++)
                    result[o + c] = filter switch
                    {
                        AffineFilter.Nearest => rgb[(Coord(yin) * width + Coord(xin)) * 3 + c],
                        AffineFilter.Bilinear => Bilinear(rgb, width, height, xin - 0.5, yin - 0.5, c),
                        _ => Bicubic(rgb, width, height, xin - 0.5, yin - 0.5, c),
                    };
            }
        return result;
    }

    /// <summary>
    /// <c>img.rotate(degrees, resample, fillcolor=fill)</c>: counter-clockwise about the centre (w/2, h/2), as Pillow
    /// builds the affine matrix (cos and sin rounded to 15 decimals); 0° is a copy.
    /// </summary>
    public static byte[] Rotate(byte[] rgb, int width, int height, double degrees, AffineFilter filter,
        (byte R, byte G, byte B) fill)
    {
        double angle = degrees % 360.0;
        if (angle < 0) angle += 360.0;
        if (angle == 0) return (byte[])rgb.Clone();
        double rad = -angle * Math.PI / 180.0;
        double cos = Math.Round(Math.Cos(rad), 15), sin = Math.Round(Math.Sin(rad), 15);
        var m = new[] { cos, sin, 0.0, -sin, cos, 0.0 };
        double cx = width / 2.0, cy = height / 2.0;
        m[2] = m[0] * -cx + m[1] * -cy + cx;
        m[5] = m[3] * -cx + m[4] * -cy + cy;
        return Affine(rgb, width, height, m, filter, fill);
    }

    private static int Coord(double v) => v < 0 ? -1 : (int)v;

    private static int Floor(double v) => (int)Math.Floor(v);

    private static byte Bilinear(byte[] rgb, int width, int height, double xin, double yin, int c)
    {
        int x = Floor(xin), y = Floor(yin);
        double dx = xin - x, dy = yin - y;
        int x0 = Math.Clamp(x, 0, width - 1), x1 = Math.Clamp(x + 1, 0, width - 1);
        int row = Math.Clamp(y, 0, height - 1);
        double v1 = Lerp(rgb[(row * width + x0) * 3 + c], rgb[(row * width + x1) * 3 + c], dx);
        double v2 = v1;
        if (y + 1 >= 0 && y + 1 < height)
            v2 = Lerp(rgb[((y + 1) * width + x0) * 3 + c], rgb[((y + 1) * width + x1) * 3 + c], dx);
        return (byte)Lerp(v1, v2, dy);
    }

    private static double Lerp(double a, double b, double d) => a + (b - a) * d;

    private static double Cubic(double v1, double v2, double v3, double v4, double d)
    {
        double p1 = v2, p2 = -v1 + v3, p3 = 2 * (v1 - v2) + v3 - v4, p4 = -v1 + v2 - v3 + v4;
        return p1 + d * (p2 + d * (p3 + d * p4));
    }

    private static byte Bicubic(byte[] rgb, int width, int height, double xin, double yin, int c)
    {
        int x = Floor(xin), y = Floor(yin);
        double dx = xin - x, dy = yin - y;
        x--;
        y--;
        var xs = new int[4];
        for (int i = 0; i < 4; i++) xs[i] = Math.Clamp(x + i, 0, width - 1);
        double Row(int r) => Cubic(rgb[(r * width + xs[0]) * 3 + c], rgb[(r * width + xs[1]) * 3 + c],
            rgb[(r * width + xs[2]) * 3 + c], rgb[(r * width + xs[3]) * 3 + c], dx);
        double v1 = Row(Math.Clamp(y, 0, height - 1));
        double v2 = y + 1 >= 0 && y + 1 < height ? Row(y + 1) : v1;
        double v3 = y + 2 >= 0 && y + 2 < height ? Row(y + 2) : v2;
        double v4 = y + 3 >= 0 && y + 3 < height ? Row(y + 3) : v3;
        double v = Cubic(v1, v2, v3, v4, dy);
        return v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)v;
    }

    private static byte Clip8(float v) => v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)v;

    private static byte[] Identity()
    {
        var lut = new byte[256];
        for (int i = 0; i < 256; i++) lut[i] = (byte)i;
        return lut;
    }

    private static byte[] Map(byte[] rgb, Func<int, int> f)
    {
        var lut = new byte[256];
        for (int i = 0; i < 256; i++) lut[i] = (byte)f(i);
        var result = new byte[rgb.Length];
        for (int i = 0; i < rgb.Length; i++) result[i] = lut[rgb[i]];
        return result;
    }

    private static byte[] PerChannelLut(byte[] rgb, Func<int[], byte[]> makeLut)
    {
        var result = new byte[rgb.Length];
        for (int c = 0; c < 3; c++)
        {
            var histogram = new int[256];
            for (int i = c; i < rgb.Length; i += 3) histogram[rgb[i]]++;
            var lut = makeLut(histogram);
            for (int i = c; i < rgb.Length; i += 3) result[i] = lut[rgb[i]];
        }
        return result;
    }
}

/// <summary>The resampling filter of <see cref="PilOps.Affine"/> (Pillow's NEAREST, BILINEAR, BICUBIC).</summary>
public enum AffineFilter
{
    /// <summary>The pixel the sample point falls in.</summary>
    Nearest,
    /// <summary>Pillow's transform bilinear.</summary>
    Bilinear,
    /// <summary>Pillow's transform bicubic (a = −1).</summary>
    Bicubic,
}
