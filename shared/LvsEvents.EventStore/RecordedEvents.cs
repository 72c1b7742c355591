using JasperFx.Events;
using LvsEvents.Contracts;
using Marten;

namespace LvsEvents.EventStore;

/// <summary>One stored event with where and when the store put it.</summary>
public sealed record RecordedEvent(long Sequence, string StreamKey, long Version, LvsEvent Event);

/// <summary>Reads recorded events back: by time range, optionally narrowed to one stream, in store order.</summary>
public sealed class RecordedEvents(IDocumentStore store)
{
    public async Task<IReadOnlyList<RecordedEvent>> ReadAsync(
        DateTimeOffset from,
        DateTimeOffset to,
        string? streamKey = null,
        int limit = 10_000,
        CancellationToken cancellationToken = default)
    {
        await using var session = store.QuerySession();
        var query = session.Events.QueryAllRawEvents().Where(e => e.Timestamp >= from && e.Timestamp < to);
        if (streamKey is not null)
        {
            query = query.Where(e => e.StreamKey == streamKey);
        }

        var events = await query.OrderBy(e => e.Sequence).Take(limit).ToListAsync(cancellationToken).ConfigureAwait(false);
        return events.Select(ToRecorded).ToList();
    }

    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsync(string streamKey, CancellationToken cancellationToken = default)
    {
        await using var session = store.QuerySession();
        var events = await session.Events.FetchStreamAsync(streamKey, token: cancellationToken).ConfigureAwait(false);
        return events.Select(ToRecorded).ToList();
    }

    private static RecordedEvent ToRecorded(IEvent e) =>
        new(e.Sequence, e.StreamKey ?? "", e.Version, (LvsEvent)e.Data);
}
