using LvsEvents.Contracts;
using Marten;
using Npgsql;

namespace LvsEvents.EventStore;

/// <summary>
/// Appends events to their streams, once each: events whose id the store already has are skipped, so a
/// redelivered message changes nothing. A race between two recorders on the same id is caught by the
/// unique index and the caller retries.
/// </summary>
public sealed class EventRecorder(IDocumentStore store)
{
    /// <summary>Records what is new among <paramref name="events"/>; returns how many were new.</summary>
    public async Task<int> RecordAsync(IReadOnlyCollection<LvsEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        await using var session = store.LightweightSession();
        var ids = events.Select(e => e.EventId).Distinct().ToArray();
        var known = await KnownIdsAsync(session, ids, cancellationToken).ConfigureAwait(false);
        var fresh = 0;
        var seen = new HashSet<Guid>(known);
        foreach (var group in events.Where(e => seen.Add(e.EventId)).GroupBy(e => e.StreamKey))
        {
            var appended = group.Select(e =>
            {
                var wrapped = session.Events.BuildEvent(e);
                wrapped.Id = e.EventId;
                wrapped.Timestamp = e.OccurredAt;
                wrapped.CorrelationId = e.CorrelationId.ToString();
                wrapped.CausationId = e.CausationId?.ToString();
                return (object)wrapped;
            }).ToArray();
            session.Events.Append(group.Key, appended);
            fresh += appended.Length;
        }

        if (fresh > 0)
        {
            await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }

        return fresh;
    }

    private static async Task<List<Guid>> KnownIdsAsync(IDocumentSession session, Guid[] ids, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)session.Connection!;
        await using var command = new NpgsqlCommand($"select id from {EventStoreSchema.SchemaName}.mt_events where id = any(@ids)", connection);
        command.Parameters.AddWithValue("ids", ids);
        var known = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            known.Add(reader.GetGuid(0));
        }

        return known;
    }
}
