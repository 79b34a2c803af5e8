using Pvp.Recipes;

namespace Pvp.Tests.Recipe;

/// <summary>A run reporter for tests: keeps the lines (stage headers prefixed "== "), shows no training progress.</summary>
internal sealed class Quiet : IRunReporter
{
    public readonly List<string> Lines = new();
    public void Stage(string title) => Lines.Add("== " + title);
    public void Info(string line) => Lines.Add(line);
    public Pvp.Training.ITrainingObserver Observer(string run, bool gridCell) => Pvp.Training.SilentObserver.Instance;
}
