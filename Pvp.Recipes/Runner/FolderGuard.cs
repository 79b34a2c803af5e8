namespace Pvp.Recipes.Runner;

/// <summary>
/// Keeps every folder of a run to this recipe's work: a stage's or cell's folder is stamped with its fingerprint when
/// new, and work of another recipe found there (or upstream of stage 2) stops the run with the differences named —
/// or, with <see cref="PvpRunner.Force"/>, is moved aside.
/// </summary>
internal sealed class FolderGuard(RunContext run, RunFingerprints fingerprints)
{
    private bool upstreamChecked;

    /// <summary>
    /// Makes sure <paramref name="folder"/> holds only what <paramref name="current"/> describes: records it when the
    /// folder is new; when it holds another recipe's work, stops (naming each difference), or with
    /// <see cref="PvpRunner.Force"/> moves that work aside and starts the folder again.
    /// </summary>
    /// <param name="folder">The stage's or cell's folder.</param>
    /// <param name="current">What the recipe would record there now.</param>
    /// <param name="what">How messages name it.</param>
    /// <param name="keep">A file left in place when the folder is moved aside (the claim being held).</param>
    /// <param name="broken">
    /// Why the folder's outputs no longer match what its training wrote (see <see cref="CellSeal"/>), or null.
    /// </param>
    /// <exception cref="StaleRunException">Another recipe's work, or broken outputs, without <c>Force</c>.</exception>
    public void Guard(string folder, Fingerprint current, string what, string? keep = null, string? broken = null)
    {
        var recorded = Fingerprint.Load(folder);
        bool hasWork = Directory.Exists(folder) &&
                       Directory.EnumerateFileSystemEntries(folder).Any(e => Path.GetFileName(e) != keep);
        if (recorded is null && !hasWork)
        {
            current.Save(folder);
            return;
        }
        var differences = recorded is null
            ? new[] { "the folder holds work with no fingerprint (an older Pvp, or copied from elsewhere)" }
            : current.DifferencesFrom(recorded);
        if (differences.Count == 0 && broken is null) return;
        if (!run.Force)
        {
            string named = $"{char.ToUpperInvariant(what[0])}{what[1..]}";
            throw differences.Count == 0
                ? new StaleRunException($"{named} in '{folder}': {broken}, so it no longer matches what training " +
                                        "wrote. Run again with --force to redo it (the old folder is kept beside it, " +
                                        "renamed).")
                : new StaleRunException($"{named} in '{folder}' was made by a different recipe — " +
                                        $"{string.Join("; ", differences)}. Use a new output folder, or run again " +
                                        "with --force to redo it (the old folder is kept beside it, renamed).");
        }
        if (broken is not null) differences = differences.Append(broken).ToList();
        string aside = $"{folder}.replaced-{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}";
        Directory.CreateDirectory(aside);
        foreach (string entry in Directory.EnumerateFileSystemEntries(folder).Where(e => Path.GetFileName(e) != keep)
                     .ToList())
        {
            string target = Path.Combine(aside, Path.GetFileName(entry));
            if (Directory.Exists(entry)) Directory.Move(entry, target);
            else File.Move(entry, target);
        }
        run.Reporter.Info(
            $"--force: {what} changed ({string.Join("; ", differences)}); its old files moved to '{aside}'");
        current.Save(folder);
    }

    /// <summary>
    /// Stage 2 starts from the backbone and stage 1 in the run folder: they must be what this recipe would make (their
    /// recorded fingerprints match), or every cell would silently start from another recipe's work. Checked once per
    /// runner.
    /// </summary>
    /// <exception cref="StaleRunException">
    /// The backbone pre-training or stage 1 was made by a different recipe.
    /// </exception>
    public void CheckUpstream()
    {
        if (upstreamChecked) return;
        var layout = run.Layout;
        var stages = new List<(string Folder, Func<Fingerprint> Current, string What)>();
        if (run.Recipe.BackboneWeights is null)
            stages.Add((layout.BackboneFolder, () => fingerprints.Backbone(withSourceData: false),
                "the backbone pre-training"));
        stages.Add((layout.StageOneFolder, () => fingerprints.StageOne(withSourceData: false), "stage 1"));
        foreach (var (folder, current, what) in stages)
        {
            if (Fingerprint.Load(folder) is not { } recorded) continue; // not run yet: the cells that need it say so
            if (what == "stage 1" && !File.Exists(layout.BackbonePath)) continue;
            // Everything but the source's contents (checked when the stage ran), whose description is compared instead.
            var comparable = new Fingerprint(
                recorded.Components.Where(c => c.Key != RunFingerprints.SourceDataComponent));
            var differences = current().DifferencesFrom(comparable);
            if (differences.Count > 0)
                throw new StaleRunException(
                    $"Stage 2 starts from {what} in '{folder}', which a different recipe made — " +
                    $"{string.Join("; ", differences)}. Use a new output folder, or run 'pvp pretrain --force' " +
                    "(or 'pvp run --force') to redo it and what depends on it.");
        }
        upstreamChecked = true;
    }
}
