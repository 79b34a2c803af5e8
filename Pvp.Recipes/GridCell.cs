using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pvp.Recipes;

/// <summary>One (learning rate, weight decay) pair of a stage-2 search.</summary>
public sealed record SearchSetting(double LearningRate, double WeightDecay)
{
    /// <summary>
    /// The epochs this run trains for when a successive-halving round gives it fewer than the stage's (its warm-up
    /// scaled by the same share); null: the stage's epochs.
    /// </summary>
    public int? Epochs { get; init; }

    /// <summary>e.g. <c>lr0.5-wd0.0001</c>, or <c>lr0.5-wd0.0001-ep11</c> for an 11-epoch halving round: a folder name.</summary>
    public string Id
        => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"lr{LearningRate:R}-wd{WeightDecay:R}{(Epochs is { } e ? $"-ep{e}" : "")}");

    /// <summary>This setting at the stage's own epochs (no round budget).</summary>
    public SearchSetting Unbudgeted => this with { Epochs = null };
}

/// <summary>
/// One independent stage-2 run: a task, a shot count, a seed, and whether the PETuning modules start from stage 1 (PVP)
/// or at random; with <see cref="Search"/>, one setting of that cell's hyper-parameter search, scored on validation
/// images. Its <see cref="Id"/> is deterministic, so cells can be spread over machines and merged by copying their
/// folders into one run folder.
/// </summary>
public sealed record GridCell(string Task, int Shots, int Seed, bool PvpInit, SearchSetting? Search = null)
{
    /// <summary>"pvp" or "random".</summary>
    public string Init => PvpInit ? "pvp" : "random";

    /// <summary>
    /// The variant the cell tunes, in a recipe that names its variants with <c>variants:</c>
    /// (<see cref="PvpRecipe.NamesVariants"/>); null in a one-variant (<c>variant:</c>) recipe, whose ids name none.
    /// </summary>
    public string? Variant { get; init; }

    /// <summary>
    /// e.g. <c>shapes/4shot-seed1-pvp</c>, or <c>shapes/4shot-seed1-pvp-search/lr0.5-wd0.001</c>; also the cell's folder
    /// under <c>stage2/</c>. A cell of a task that trains on its whole list (shots 0: VTAB-1k) is <c>cifar/all-seed0-pvp</c>.
    /// A cell of a <c>variants:</c> recipe starts with its variant: <c>LoraMicro/shapes/4shot-seed1-pvp</c>.
    /// </summary>
    public string Id => (Variant is null ? "" : $"{Variant}/") +
                        (Search is null ? $"{Task}/{Name}" : $"{Task}/{Name}-search/{Search.Id}");

    /// <summary>The cell's folder name under its task: <c>4shot-seed1-pvp</c>, or <c>all-seed0-pvp</c> for a whole-list cell.</summary>
    public string Name => $"{(Shots == 0 ? "all" : $"{Shots}shot")}-seed{Seed}-{Init}";

    /// <summary>The final cell a search cell belongs to (itself for a final cell).</summary>
    public GridCell Final => this with { Search = null };

    /// <summary>Parses an <see cref="Id"/>.</summary>
    /// <exception cref="FormatException">Not a cell id; the message shows the form.</exception>
    public static GridCell Parse(string id)
    {
        var match = System.Text.RegularExpressions.Regex.Match(id,
            @"^((?<variant>[A-Za-z_][A-Za-z0-9_]{0,127})/)?" +
            @"(?<task>[^/]+)/((?<shots>\d{1,9})shot|(?<all>all))-seed(?<seed>\d{1,9})-(?<init>pvp|random)" +
            @"(-search/lr(?<lr>[0-9.Ee+-]+?)-wd(?<wd>[0-9.Ee+-]+?)(-ep(?<ep>\d{1,9}))?)?$");
        if (!match.Success)
            throw new FormatException($"'{id}' is not a cell id; expected TASK/<k>shot-seed<s>-pvp or -random, " +
                                      "or TASK/all-seed<s>-… for a whole-list task (a search cell adds -search/lr<x>-wd<y>, " +
                                      "and -ep<e> in a halving round; a recipe with variants: starts it with VARIANT/), " +
                                      "e.g. shapes/4shot-seed1-pvp or LoraMicro/shapes/4shot-seed1-pvp.");
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        if (match.Groups["shots"].Success && int.Parse(match.Groups["shots"].Value, invariant) == 0)
            throw new FormatException($"'{id}': a cell without shot counts (a whole-list task) is TASK/all-seed<s>-…, not 0shot.");
        SearchSetting? search = null;
        if (match.Groups["lr"].Success)
        {
            if (!double.TryParse(match.Groups["lr"].Value, System.Globalization.NumberStyles.Float, invariant, out double lr) ||
                !double.TryParse(match.Groups["wd"].Value, System.Globalization.NumberStyles.Float, invariant,
                    out double wd))
                throw new FormatException($"'{id}': the search setting's numbers do not parse.");
            search = new SearchSetting(lr, wd)
            {
                Epochs = match.Groups["ep"].Success ? int.Parse(match.Groups["ep"].Value, invariant) : null,
            };
        }
        return new GridCell(match.Groups["task"].Value, match.Groups["all"].Success ? 0 : int.Parse(match.Groups["shots"].Value, invariant),
            int.Parse(match.Groups["seed"].Value, invariant), match.Groups["init"].Value == "pvp", search)
        {
            Variant = match.Groups["variant"].Success ? match.Groups["variant"].Value : null,
        };
    }
}

/// <summary>
/// A finished cell's outcome (its <c>result.json</c>); <c>Precision</c> is the frozen backbone's ("bf16" or "float32").
/// </summary>
public sealed record CellResult(
    [property: JsonPropertyName("task")] string Task,
    [property: JsonPropertyName("shots")] int Shots,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("init")] string Init,
    [property: JsonPropertyName("top1")] double Top1,
    [property: JsonPropertyName("top5")] double Top5,
    [property: JsonPropertyName("loss")] double Loss,
    [property: JsonPropertyName("steps")] long Steps,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("precision")] string Precision = "float32")
{
    /// <summary>
    /// The variant the cell tuned, recorded by the cells of a <c>variants:</c> recipe (<see cref="GridCell.Variant"/>);
    /// null (and absent from the file) for a one-variant recipe's.
    /// </summary>
    [JsonPropertyName("variant")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Variant { get; init; }

    /// <summary>What the images went through (<see cref="Pvp.Training.Data.Preprocessing.Describe"/>).</summary>
    [JsonPropertyName("preprocessing")]
    public string? Preprocessing { get; init; }

    /// <summary>The optimizer, learning rate applied and weight decay the reported model trained with.</summary>
    [JsonPropertyName("optimizer")]
    public string? Optimizer { get; init; }

    /// <summary>The learning rate applied (after any batch scaling).</summary>
    [JsonPropertyName("lr")]
    public double? LearningRate { get; init; }

    /// <summary>The weight decay.</summary>
    [JsonPropertyName("weight_decay")]
    public double? WeightDecay { get; init; }

    /// <summary>
    /// A search cell: its validation top-1 (and Top1 is that too).
    /// A final cell after a search: the chosen setting's id.
    /// </summary>
    [JsonPropertyName("chosen")]
    public string? Chosen { get; init; }

    /// <summary>After a search: every setting's validation top-1, by setting id.</summary>
    [JsonPropertyName("search")]
    public IReadOnlyDictionary<string, double>? SearchScores { get; init; }

    /// <summary>
    /// A search cell whose loss stopped being finite: why (its top-1
    /// is then not a measurement, and the search passes it over).
    /// </summary>
    [JsonPropertyName("diverged")]
    public string? Diverged { get; init; }

    /// <summary>After a search: the settings that diverged, by setting id.</summary>
    [JsonPropertyName("search_diverged")]
    public IReadOnlyList<string>? SearchDiverged { get; init; }

    /// <summary>
    /// Parameters that trained in the cell's model, its head included (null in results of an older Pvp); with
    /// <see cref="HeadParameters"/>, what the report's methods table gives.
    /// </summary>
    [JsonPropertyName("trainable_params")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? TrainableParameters { get; init; }

    /// <summary>The head's share of <see cref="TrainableParameters"/> (null in results of an older Pvp).</summary>
    [JsonPropertyName("head_params")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? HeadParameters { get; init; }

    /// <summary>What the accuracy was measured on: <c>test</c>, or <c>validation</c> for a search cell.</summary>
    [JsonPropertyName("evaluated_on")]
    public string EvaluatedOn { get; init; } = "test";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Writes the result atomically.</summary>
    public void Save(string path)
        => Checkpoints.AtomicFile.Write(path, temp => File.WriteAllBytes(temp, ToJsonBytes()));

    /// <summary>The result as its file holds it (indented JSON, UTF-8).</summary>
    internal byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads a result file, checking that every value is one a training run can produce.</summary>
    /// <exception cref="InvalidDataException">
    /// The file is empty, not a cell result, or holds an impossible value; the message names the file and key.
    /// </exception>
    public static CellResult Load(string path)
    {
        CellResult? result;
        try
        {
            result = JsonSerializer.Deserialize<CellResult>(File.ReadAllText(path));
            if (result is not { Task.Length: > 0, Init: "pvp" or "random" })
                throw new JsonException("fields are missing");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a readable cell result ({e.Message}); " +
                                           "delete it to run that cell again.", e);
        }
        if (result.Impossible() is { } what)
            throw new InvalidDataException($"'{path}' holds an impossible {what}: training never writes that, " +
                                           "so the file was changed by hand or damaged. " +
                                           "Run the cell again with --force (or delete its folder).");
        return result;
    }

    /// <summary>The first value no run can produce ("top1 7.5 (a fraction in [0, 1])"), or null.</summary>
    private string? Impossible()
    {
        static bool Fraction(double v) => double.IsFinite(v) && v is >= 0 and <= 1;
        static bool NonNegative(double v) => double.IsFinite(v) && v >= 0;
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        string Show(double v) => v.ToString("R", invariant);
        if (!Fraction(Top1)) return $"top1 {Show(Top1)} (a fraction in [0, 1])";
        if (!Fraction(Top5)) return $"top5 {Show(Top5)} (a fraction in [0, 1])";
        if (Diverged is null && Top5 < Top1) return $"top5 {Show(Top5)} below its top1 {Show(Top1)}";
        if (!NonNegative(Loss)) return $"loss {Show(Loss)} (finite, at least 0)";
        if (!NonNegative(Seconds)) return $"seconds {Show(Seconds)} (finite, at least 0)";
        if (Steps < 0) return $"steps {Steps} (at least 0)";
        if (TrainableParameters is < 0) return $"trainable_params {TrainableParameters} (at least 0)";
        if (HeadParameters is { } head && (head < 0 || TrainableParameters is { } all && head > all))
            return $"head_params {head} (at least 0, at most trainable_params)";
        if (Shots < 0) return $"shots {Shots} (at least 0; 0 is a whole-list cell)";
        if (LearningRate is { } lr && !NonNegative(lr)) return $"lr {Show(lr)} (finite, at least 0)";
        if (WeightDecay is { } wd && !NonNegative(wd)) return $"weight_decay {Show(wd)} (finite, at least 0)";
        if (SearchScores?.FirstOrDefault(p => !Fraction(p.Value)) is { Key: not null } score)
            return $"search score {score.Key} {Show(score.Value)} (a fraction in [0, 1])";
        if (EvaluatedOn is not ("test" or "validation")) return $"evaluated_on '{EvaluatedOn}' (test or validation)";
        if (Precision is not ("float32" or "bf16" or "n/a")) return $"precision '{Precision}' (float32 or bf16)";
        return null;
    }
}
