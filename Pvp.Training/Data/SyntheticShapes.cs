using SkiaSharp;

namespace Pvp.Training.Data;

/// <summary>Which part of the built-in dataset.</summary>
public enum SyntheticSplit
{
    /// <summary>Training images.</summary>
    Train = 0,
    /// <summary>Held-out test images (drawn from other seeds).</summary>
    Test = 1,
}

/// <summary>One class of the built-in dataset: a shape, a fill pattern and a hue.</summary>
/// <param name="Shape">0–7: circle, square, triangle, diamond, star, cross, ring, hexagon.</param>
/// <param name="Pattern">0–4: solid, stripes, dots, checker, outline.</param>
/// <param name="Hue">0–5: red, yellow, green, cyan, blue, magenta (60° apart).</param>
public sealed record ShapeClass(int Shape, int Pattern, int Hue)
{
    internal static readonly string[] Shapes = { "circle", "square", "triangle", "diamond", "star", "cross", "ring",
        "hexagon" };
    internal static readonly string[] Patterns = { "solid", "striped", "dotted", "checkered", "outlined" };
    internal static readonly string[] Hues = { "red", "yellow", "green", "cyan", "blue", "magenta" };

    /// <summary>e.g. <c>star-striped-cyan</c>.</summary>
    public string Name => $"{Shapes[Shape]}-{Patterns[Pattern]}-{Hues[Hue]}";
}

/// <summary>
/// The built-in dataset: procedurally rendered images whose classes differ in fine details (shape, fill pattern, hue:
/// 240 combinations, neighbouring classes differ in one of the three) under random nuisances (position, scale,
/// rotation, colour jitter, a gradient background with distractors). A seeded permutation of the 240 classes gives a
/// source set and a disjoint target set, so stage 1 of PVP never sees a target class. Deterministic by seed; nothing
/// is downloaded. It can be written out as an ImageFolder tree.
/// </summary>
public sealed class SyntheticShapes : IImageDataset
{
    /// <summary>All class combinations.</summary>
    public const int UniverseSize = 8 * 5 * 6;

    private readonly ShapeClass[] classes;
    private readonly int imagesPerClass;
    private readonly int seed;
    private readonly SyntheticSplit split;

    private SyntheticShapes(ShapeClass[] classes, int imagesPerClass, int imageSize, int seed, SyntheticSplit split)
    {
        if (imagesPerClass <= 0)
            throw new ArgumentOutOfRangeException(nameof(imagesPerClass), imagesPerClass,
                "Images per class must be positive.");
        if (imageSize < 8)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize,
                "Images must be at least 8 pixels wide.");
        this.classes = classes;
        this.imagesPerClass = imagesPerClass;
        ImageSize = imageSize;
        this.seed = seed;
        this.split = split;
        Classes = classes.Select(c => c.Name).ToList();
    }

    /// <summary>Side of the rendered images.</summary>
    public int ImageSize { get; }

    /// <summary>The classes' definitions.</summary>
    public IReadOnlyList<ShapeClass> ClassDefinitions => classes;

    /// <inheritdoc />
    public IReadOnlyList<string> Classes { get; }

    /// <inheritdoc />
    public int Count => classes.Length * imagesPerClass;

    /// <summary>
    /// The source classes (for stage 1): the first <paramref name="classCount"/> of the seeded permutation.
    /// </summary>
    public static SyntheticShapes Source(
        SyntheticSplit split, int imagesPerClass, int classCount = 40, int imageSize = 32, int seed = 0) =>
        new(Universe(seed).Take(Check(classCount, 0)).ToArray(), imagesPerClass, imageSize, seed, split);

    /// <summary>
    /// The target classes (for stage 2): the <paramref name="classCount"/> after the source's 40, disjoint from them.
    /// </summary>
    public static SyntheticShapes Target(SyntheticSplit split, int imagesPerClass, int classCount = 10,
        int imageSize = 32, int seed = 0, int sourceClassCount = 40) =>
        new(Universe(seed).Skip(sourceClassCount).Take(Check(classCount, sourceClassCount)).ToArray(), imagesPerClass,
            imageSize, seed, split);

    /// <inheritdoc />
    public int LabelOf(int index) => index / imagesPerClass;

    /// <inheritdoc />
    public string NameOf(int index)
        => $"{classes[LabelOf(index)].Name}/{split.ToString().ToLowerInvariant()}_{index % imagesPerClass:D5}.png";

    /// <inheritdoc />
    public SKBitmap Read(int index)
    {
        var definition = classes[LabelOf(index)];
        int classId = (definition.Shape * 5 + definition.Pattern) * 6 + definition.Hue;
        var random = new Random(Seeds.Mix(seed * 2 + (int)split, classId, index % imagesPerClass));
        return Render(definition, ImageSize, random);
    }

    /// <summary>Writes every image as PNG under <paramref name="root"/>/class-name/, an ImageFolder tree.</summary>
    public void WriteImageFolder(string root)
    {
        Parallel.For(0, Count, i =>
        {
            using var bitmap = Read(i);
            ImageCodec.Save(bitmap, Path.Combine(root, NameOf(i)));
        });
    }

    private static int Check(int classCount, int offset)
    {
        if (classCount <= 0 || offset + classCount > UniverseSize)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount,
                $"Between 1 and {UniverseSize - offset} classes are available here.");
        return classCount;
    }

    private static ShapeClass[] Universe(int seed)
    {
        var all = new List<ShapeClass>();
        for (int s = 0; s < 8; s++)
            for (int p = 0; p < 5; p++)
                for (int h = 0; h < 6; h++)
                    all.Add(new ShapeClass(s, p, h));
        var shuffled = all.ToArray();
        new Random(Seeds.Mix(seed, 7919, 0)).Shuffle(shuffled);
        return shuffled;
    }

    private static SKBitmap Render(ShapeClass c, int size, Random random)
    {
        float F() => (float)random.NextDouble();
        var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using var canvas = new SKCanvas(bitmap);

        // Nuisance: a low-saturation gradient background in a random direction, and faint distractor strokes.
        var backA = SKColor.FromHsv(F() * 360, 10 + F() * 25, 25 + F() * 60);
        var backB = SKColor.FromHsv(F() * 360, 10 + F() * 25, 25 + F() * 60);
        using (var background = new SKPaint())
        {
            background.Shader = SKShader.CreateLinearGradient(new SKPoint(F() * size, 0), new SKPoint(F() * size, size),
                new[] { backA, backB }, SKShaderTileMode.Clamp);
            canvas.DrawRect(0, 0, size, size, background);
        }
        using (var distractor = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1, size / 32f) })
        {
            for (int i = 0; i < 3; i++)
            {
                distractor.Color = SKColor.FromHsv(F() * 360, 20 + F() * 30, 40 + F() * 40).WithAlpha((byte)(60 + F() * 60));
                canvas.DrawLine(F() * size, F() * size, F() * size, F() * size, distractor);
            }
        }

        // The object: the class's shape, pattern and hue, with jittered position, scale, rotation and colour.
        float hue = (c.Hue * 60 + (F() - 0.5f) * 24 + 360) % 360;
        var color = SKColor.FromHsv(hue, 60 + F() * 35, 65 + F() * 33);
        var dark = SKColor.FromHsv(hue, 80 + F() * 20, 20 + F() * 20);
        float radius = size * (0.24f + F() * 0.14f);
        float cx = size / 2f + (F() - 0.5f) * size * 0.3f, cy = size / 2f + (F() - 0.5f) * size * 0.3f;
        canvas.Save();
        canvas.Translate(cx, cy);
        canvas.RotateDegrees(F() * 360);
        using var path = ShapePath(c.Shape, radius);
        using var fill = new SKPaint { IsAntialias = true, Color = color };
        if (c.Pattern == 4)
        {
            fill.Style = SKPaintStyle.Stroke;
            fill.StrokeWidth = Math.Max(1.5f, radius * 0.28f);
            canvas.DrawPath(path, fill);
        }
        else
        {
            canvas.DrawPath(path, fill);
            canvas.ClipPath(path, antialias: true);
            DrawPattern(canvas, c.Pattern, radius, dark);
        }
        canvas.Restore();
        return bitmap;
    }

    private static void DrawPattern(SKCanvas canvas, int pattern, float radius, SKColor dark)
    {
        using var paint = new SKPaint { IsAntialias = true, Color = dark };
        float step = Math.Max(2f, radius / 2.2f);
        switch (pattern)
        {
            case 1: // stripes
                for (float y = -radius; y <= radius; y += step)
                    canvas.DrawRect(-radius, y, 2 * radius, step / 2, paint);
                break;
            case 2: // dots
                for (float y = -radius; y <= radius; y += step)
                    for (float x = -radius; x <= radius; x += step)
                        canvas.DrawCircle(x, y, step / 4, paint);
                break;
            case 3: // checker
                int row = 0;
                for (float y = -radius; y <= radius; y += step, row++)
                {
                    int col = 0;
                    for (float x = -radius; x <= radius; x += step, col++)
                        if ((row + col) % 2 == 0) canvas.DrawRect(x, y, step, step, paint);
                }
                break;
        }
    }

    private static SKPath ShapePath(int shape, float r)
    {
        var path = new SKPath();
        switch (shape)
        {
            case 0: path.AddCircle(0, 0, r); break;
            case 1: path.AddRect(new SKRect(-r * 0.85f, -r * 0.85f, r * 0.85f, r * 0.85f)); break;
            case 2: Polygon(path, 3, r, 0); break;
            case 3: Polygon(path, 4, r, 0); break;
            case 4: Star(path, 5, r, r * 0.45f); break;
            case 5:
                path.AddRect(new SKRect(-r, -r * 0.3f, r, r * 0.3f));
                path.AddRect(new SKRect(-r * 0.3f, -r, r * 0.3f, r));
                break;
            case 6:
                path.AddCircle(0, 0, r);
                path.AddCircle(0, 0, r * 0.55f, SKPathDirection.CounterClockwise);
                break;
            default: Polygon(path, 6, r, 0); break;
        }
        return path;
    }

    private static void Polygon(SKPath path, int sides, float r, float phase)
    {
        for (int i = 0; i < sides; i++)
        {
            double a = phase + 2 * Math.PI * i / sides - Math.PI / 2;
            var p = new SKPoint((float)(r * Math.Cos(a)), (float)(r * Math.Sin(a)));
            if (i == 0) path.MoveTo(p); else path.LineTo(p);
        }
        path.Close();
    }

    private static void Star(SKPath path, int points, float outer, float inner)
    {
        for (int i = 0; i < 2 * points; i++)
        {
            double a = Math.PI * i / points - Math.PI / 2;
            float r = i % 2 == 0 ? outer : inner;
            var p = new SKPoint((float)(r * Math.Cos(a)), (float)(r * Math.Sin(a)));
            if (i == 0) path.MoveTo(p); else path.LineTo(p);
        }
        path.Close();
    }
}
