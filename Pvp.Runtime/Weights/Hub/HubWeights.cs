using System.Collections.Concurrent;

namespace Pvp.Weights.Hub;

/// <summary>The files of a Hub model in the local cache.</summary>
/// <param name="Id">The model.</param>
/// <param name="Weights">The weights file (a snapshot path in the cache).</param>
/// <param name="WeightsFile">Its name in the repository: <c>model.safetensors</c> or <c>pytorch_model.bin</c>.</param>
/// <param name="Config">timm's or transformers' <c>config.json</c>, when the repository has one.</param>
/// <param name="PreprocessorConfig">transformers' <c>preprocessor_config.json</c>, when the repository has one.</param>
/// <param name="Commit">The commit the files are of, when known.</param>
public sealed record HubModelFiles(
    HubModelId Id, string Weights, string WeightsFile, string? Config, string? PreprocessorConfig, string? Commit);

/// <summary>
/// Turns <c>hf-hub:org/name[@revision]</c> into local files, from the Hugging Face cache or downloaded into it. The
/// weights file is chosen as timm's <c>load_state_dict_from_hf</c> and transformers' <c>from_pretrained</c> choose it:
/// <c>model.safetensors</c> first, then <c>pytorch_model.bin</c> (read by Pvp's pickle reader, which runs no code);
/// nothing that needs code to be run is ever fetched.
/// </summary>
public static class HubWeights
{
    /// <summary>The weights files tried, in order.</summary>
    public static IReadOnlyList<string> WeightFiles { get; } = new[] { "model.safetensors", "pytorch_model.bin" };

    /// <summary>
    /// The configuration files fetched beside the weights when the repository has them (for preprocessing).
    /// </summary>
    public static IReadOnlyList<string> ConfigFiles { get; } = new[] { "config.json", "preprocessor_config.json" };

    private static readonly ConcurrentDictionary<string, HubModelFiles> Resolved = new(StringComparer.Ordinal);

    /// <summary>
    /// The local path of <paramref name="pathOrId"/>: a Hub id is resolved
    /// (<see cref="Resolve(string, HubOptions?)"/>), anything else is returned as given.
    /// </summary>
    /// <exception cref="HubException">
    /// The id's files cannot be had; one line naming the id, URL or cache folder, and the fix.
    /// </exception>
    public static string LocalPath(string pathOrId, HubOptions? options = null) =>
        HubModelId.IsHubId(pathOrId) ? Resolve(pathOrId, options).Weights : pathOrId;

    /// <summary>
    /// The model's weights and configuration files in the cache (downloading what is missing unless offline). Once
    /// resolved in a process with the same settings, an id is not asked of the server again.
    /// </summary>
    /// <param name="id">A Hub id, <c>hf-hub:org/name[@revision]</c>.</param>
    /// <param name="options">Null: <see cref="HubOptions.FromEnvironment"/>.</param>
    /// <exception cref="ArgumentException">Not a Hub id.</exception>
    /// <exception cref="HubException">
    /// The files cannot be had; one line naming the id, URL or cache folder, and the fix.
    /// </exception>
    public static HubModelFiles Resolve(string id, HubOptions? options = null)
        => Resolve(HubModelId.Parse(id), options);

    /// <inheritdoc cref="Resolve(string, HubOptions?)"/>
    public static HubModelFiles Resolve(HubModelId id, HubOptions? options = null)
    {
        options ??= HubOptions.FromEnvironment();
        string key = $"{id}|{options.Endpoint}|{Path.GetFullPath(options.CacheFolder)}|{options.Offline}";
        if (Resolved.TryGetValue(key, out var known) && File.Exists(known.Weights)) return known;
        var files = ResolveNow(id, options);
        Resolved[key] = files;
        return files;
    }

    /// <summary>
    /// Forgets what this process resolved, so the next call asks the server (tests; a long-lived host).
    /// </summary>
    public static void Forget() => Resolved.Clear();

    private static HubModelFiles ResolveNow(HubModelId id, HubOptions options)
    {
        var client = new HubClient(id, options);
        string? weights = null, weightsFile = null, commit = null;
        foreach (string file in WeightFiles)
        {
            try
            {
                weights = client.Fetch(file, out commit);
            }
            catch (HubException e) when (e.StatusCode is null or >= 500)
            {
                // The server cannot be reached and this file is not cached: another candidate the cache holds will do.
                var cached = WeightFiles.Select(f => (File: f, Found: client.Cache.Find(id.Revision, f)))
                    .FirstOrDefault(c => c.Found.Path is not null);
                if (cached.File is null) throw;
                (weights, weightsFile, commit) = (cached.Found.Path, cached.File, cached.Found.Commit);
                break;
            }
            if (weights is null) continue;
            weightsFile = file;
            break;
        }
        if (weights is null)
        {
            string storage = client.Cache.Storage;
            if (options.Offline)
                throw new HubException(id.ToString(), storage,
                    $"{id}: neither {string.Join(" nor ", WeightFiles)} is in the cache folder '{storage}', " +
                    "and HF_HUB_OFFLINE forbids downloading; " +
                    $"download it once online (unset HF_HUB_OFFLINE), or with `huggingface-cli download {id.Repo}`, " +
                    "or set HF_HUB_CACHE to the cache that holds it.");
            throw new HubException(id.ToString(), client.Url(id.Revision, WeightFiles[0]),
                $"{id}: the repository has neither {string.Join(" nor ", WeightFiles)} at revision '{id.Revision}' " +
                $"({client.Url(id.Revision, WeightFiles[0])}); " +
                "Pvp loads only those (never files that need code to run): choose a repository that publishes them, " +
                "or convert the weights and give the file's path.");
        }
        // Configuration files are optional: absent ones are simply not used; at the weights' commit, so they match.
        var revisionOfWeights = commit is not null ? id with { Revision = commit } : id;
        var configs = new HubClient(revisionOfWeights, options);
        string? Optional(string file)
        {
            try
            {
                return configs.Fetch(file, out _);
            }
            catch (HubException e) when (e.StatusCode is null or >= 500)
            {
                return null; // the server went away after the weights were had (from it or the cache): run without its config
            }
        }
        return new HubModelFiles(id, weights, weightsFile!, Optional(ConfigFiles[0]), Optional(ConfigFiles[1]), commit);
    }
}
