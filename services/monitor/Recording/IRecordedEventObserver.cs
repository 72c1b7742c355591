using LvsEvents.Contracts;

namespace LvsEvents.Monitor.Recording;

/// <summary>Something that looks at events once they are safely in the store (metrics, alert rules).</summary>
public interface IRecordedEventObserver
{
    void Observe(IReadOnlyList<LvsEvent> events);
}
