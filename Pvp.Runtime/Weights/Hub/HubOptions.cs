using System.Globalization;

namespace Pvp.Weights.Hub;

/// <summary>
/// Where and how Hub files are found and downloaded. <see cref="FromEnvironment"/> reads the variables
/// <c>huggingface_hub</c> reads (its <c>constants.py</c>), so Pvp and Python share one cache and one configuration.
/// </summary>
public sealed record HubOptions
{
    /// <summary>The Hub's address when <c>HF_ENDPOINT</c> is not set.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>
    /// The server: <c>HF_ENDPOINT</c>, else <see cref="DefaultEndpoint"/>;
    /// files are at <c>{endpoint}/{repo}/resolve/{revision}/{file}</c>.
    /// </summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>
    /// The cache root holding <c>models--org--name/{blobs,refs,snapshots}</c>:
    /// <c>HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else <c>~/.cache/huggingface/hub</c>.
    /// </summary>
    public string CacheFolder { get; init; } = DefaultCacheFolder(Environment.GetEnvironmentVariable);

    /// <summary>
    /// Never touch the network (<c>HF_HUB_OFFLINE=1</c>): only the cache is read; a file not there is an error.
    /// </summary>
    public bool Offline { get; init; }

    /// <summary>
    /// A user access token for gated or private repositories (<c>HF_TOKEN</c>, else the token file); never printed.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>
    /// Where the token came from, for messages (e.g. <c>HF_TOKEN</c> or the token file's path); never the token itself.
    /// </summary>
    public string? TokenSource { get; init; }

    /// <summary>The token file a message suggests: <c>HF_TOKEN_PATH</c>, else <c>$HF_HOME/token</c>.</summary>
    public string TokenFile { get; init; } = DefaultTokenFile(Environment.GetEnvironmentVariable);

    /// <summary>
    /// How long to wait for the server's answer to a request, and between
    /// two reads of a download (<c>HF_HUB_DOWNLOAD_TIMEOUT</c>, 10 s).
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often a download cut off mid-way is resumed (with a
    /// <c>Range</c> request) within one call before it fails. Default 3.
    /// </summary>
    public int Retries { get; init; } = 3;

    /// <summary>
    /// How long to wait for another process that holds the download lock of the same file. Default 10 minutes.
    /// </summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Receives download progress (null: none). <see cref="HubProgress.Console"/> draws a line on standard error.
    /// </summary>
    public Action<HubProgress>? Progress { get; init; }

    /// <summary>
    /// The settings of this process's environment: <c>HF_ENDPOINT</c>, <c>HF_HUB_CACHE</c> / <c>HF_HOME</c>,
    /// <c>HF_HUB_OFFLINE</c>, <c>HF_TOKEN</c> / <c>HF_TOKEN_PATH</c> / <c>$HF_HOME/token</c>,
    /// <c>HF_HUB_DOWNLOAD_TIMEOUT</c>; progress on the console.
    /// </summary>
    /// <param name="variable">Reads a variable (null: the process environment).</param>
    /// <exception cref="ArgumentException">A variable's value is malformed; the message names it.</exception>
    public static HubOptions FromEnvironment(Func<string, string?>? variable = null)
    {
        variable ??= Environment.GetEnvironmentVariable;
        string endpoint = (NonEmpty(variable("HF_ENDPOINT")) ?? DefaultEndpoint).TrimEnd('/');
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"HF_ENDPOINT '{endpoint}' is not an http(s) address; " +
                                        $"unset it or give one such as {DefaultEndpoint}.");
        string tokenFile = DefaultTokenFile(variable);
        string? token = NonEmpty(variable("HF_TOKEN")) ?? NonEmpty(variable("HUGGING_FACE_HUB_TOKEN"));
        string? tokenSource = token is null ? null
            : variable("HF_TOKEN") is { Length: > 0 } ? "HF_TOKEN"
            : "HUGGING_FACE_HUB_TOKEN";
        if (token is null && File.Exists(tokenFile))
        {
            token = NonEmpty(File.ReadAllText(tokenFile).Trim());
            tokenSource = token is null ? null : $"the token file '{tokenFile}'";
        }
        var timeout = TimeSpan.FromSeconds(10);
        if (NonEmpty(variable("HF_HUB_DOWNLOAD_TIMEOUT")) is { } seconds)
        {
            if (!double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out double s)
                || !(s > 0) || s > 86_400)
                throw new ArgumentException($"HF_HUB_DOWNLOAD_TIMEOUT '{seconds}' is not a number of seconds " +
                                            "(0 to 86400); unset it or give e.g. 30.");
            timeout = TimeSpan.FromSeconds(s);
        }
        return new HubOptions
        {
            Endpoint = endpoint,
            CacheFolder = DefaultCacheFolder(variable),
            Offline = IsTrue(variable("HF_HUB_OFFLINE")),
            Token = token,
            TokenSource = tokenSource,
            TokenFile = tokenFile,
            Timeout = timeout,
            Progress = HubProgress.Console,
        };
    }

    /// <summary>
    /// huggingface_hub's rule: <c>HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else
    /// <c>$XDG_CACHE_HOME/huggingface/hub</c>, else <c>~/.cache/huggingface/hub</c>.
    /// </summary>
    private static string DefaultCacheFolder(Func<string, string?> variable) =>
        ExpandHome(NonEmpty(variable("HF_HUB_CACHE")) ?? NonEmpty(variable("HUGGINGFACE_HUB_CACHE"))
                   ?? Path.Combine(HfHome(variable), "hub"));

    private static string DefaultTokenFile(Func<string, string?> variable) =>
        ExpandHome(NonEmpty(variable("HF_TOKEN_PATH")) ?? Path.Combine(HfHome(variable), "token"));

    private static string HfHome(Func<string, string?> variable) =>
        ExpandHome(NonEmpty(variable("HF_HOME")) ?? Path.Combine(
            NonEmpty(variable("XDG_CACHE_HOME"))
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
            "huggingface"));

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
                path.Length > 2 ? path[2..] : "")
            : path;

    /// <summary>huggingface_hub's <c>_is_true</c>: 1, ON, YES, TRUE (any case).</summary>
    private static bool IsTrue(string? value) =>
        value is not null && value.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
