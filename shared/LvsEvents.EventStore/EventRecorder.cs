using LvsEvents.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace LvsEvents.EventStore;

/// <summary>
/// Appends events to their Marten streams, once each. Marten's own quick append calls a function per
/// stream, which caps out near 4,000 events/s when a batch touches a thousand real-server streams; this
/// writes Marten's tables (mt_streams, mt_events) in one set-based statement per batch instead, with the
/// same columns Marten writes, so everything Marten reads (FetchStream, QueryAllRawEvents, projections)
/// works unchanged. The event's own id and time are stored as Marten's id and timestamp.
/// Events whose id the store already has are skipped, so a redelivered message changes nothing; two
/// recorders racing on the same id hit the unique index and the caller's retry skips it.
/// </summary>
public sealed class EventRecorder(NpgsqlDataSource dataSource)
{
    private const string Schema = EventStoreSchema.SchemaName;

    private static readonly string AppendSql = $"""
        with input as (
            select t.*
            from unnest(@ids, @streams, @types, @dotnet_types, @bodies, @timestamps, @correlations, @causations)
                with ordinality as t(id, stream_id, type, dotnet_type, data, ts, correlation_id, causation_id, ord)
            where not exists (select 1 from {Schema}.mt_events e where e.id = t.id)
        ),
        counts as (
            select stream_id, count(*) as n from input group by stream_id
        ),
        streams as (
            insert into {Schema}.mt_streams as s (id, type, version, timestamp, created, tenant_id, is_archived)
            select stream_id, null, n, now(), now(), '*DEFAULT*', false from counts order by stream_id
            -- rows are locked in key order, so concurrent recorders never deadlock
            on conflict (id) do update set version = s.version + excluded.version, timestamp = now()
            returning s.id, s.version
        )
        insert into {Schema}.mt_events
            (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, correlation_id, causation_id, is_archived)
        select nextval('{Schema}.mt_events_sequence'), i.id, i.stream_id,
               st.version - c.n + row_number() over (partition by i.stream_id order by i.ord),
               i.data, i.type, i.ts, '*DEFAULT*', i.dotnet_type, i.correlation_id, i.causation_id, false
        from input i
        join counts c on c.stream_id = i.stream_id
        join streams st on st.id = i.stream_id
        order by i.ord
        """;

    /// <summary>
    /// A recorder with its own connection pool. Its sessions get enough work_mem that sorting a batch of
    /// ten thousand events stays in memory (the default 4 MB spills to disk).
    /// </summary>
    public static EventRecorder Create(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(EventStoreSchema.Validate(connectionString))
        {
            Options = "-c work_mem=64MB",
        };
        return new EventRecorder(NpgsqlDataSource.Create(builder.ConnectionString));
    }

    /// <summary>Records what is new among <paramref name="events"/>; returns how many were new.</summary>
    public Task<int> RecordAsync(IReadOnlyCollection<LvsEvent> events, CancellationToken cancellationToken) =>
        RecordAsync(events.Select(e => new JsonEvent(e, System.Text.Encoding.UTF8.GetString(EventJson.Serialize(e)))).ToList(), cancellationToken);

    /// <summary>Records what is new among events that come with their JSON already (from the bus).</summary>
    public async Task<int> RecordAsync(IReadOnlyList<JsonEvent> events, CancellationToken cancellationToken)
    {
        var unique = new List<JsonEvent>(events.Count);
        var seen = new HashSet<Guid>();
        foreach (var e in events)
        {
            if (seen.Add(e.Event.EventId))
            {
                unique.Add(e);
            }
        }

        if (unique.Count == 0)
        {
            return 0;
        }

        var n = unique.Count;
        var ids = new Guid[n];
        var streams = new string[n];
        var types = new string[n];
        var dotnetTypes = new string[n];
        var bodies = new string[n];
        var timestamps = new DateTime[n];
        var correlations = new string?[n];
        var causations = new string?[n];
        for (var i = 0; i < n; i++)
        {
            var e = unique[i].Event;
            var type = e.GetType();
            ids[i] = e.EventId;
            streams[i] = e.StreamKey;
            types[i] = e.EventType;
            dotnetTypes[i] = $"{type.FullName}, {type.Assembly.GetName().Name}";
            bodies[i] = unique[i].Json;
            timestamps[i] = e.OccurredAt.UtcDateTime;
            correlations[i] = e.CorrelationId.ToString();
            causations[i] = e.CausationId?.ToString();
        }

        await using var command = dataSource.CreateCommand(AppendSql);
        command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = ids });
        command.Parameters.Add(new NpgsqlParameter("streams", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = streams });
        command.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = types });
        command.Parameters.Add(new NpgsqlParameter("dotnet_types", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = dotnetTypes });
        command.Parameters.Add(new NpgsqlParameter("bodies", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = bodies });
        command.Parameters.Add(new NpgsqlParameter("timestamps", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = timestamps });
        command.Parameters.Add(new NpgsqlParameter("correlations", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = correlations });
        command.Parameters.Add(new NpgsqlParameter("causations", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = causations });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>An event with the JSON it is stored as.</summary>
public readonly record struct JsonEvent(LvsEvent Event, string Json)
{
    public static JsonEvent From(ReadOnlyMemory<byte> json) =>
        new(EventJson.Deserialize(json.Span), System.Text.Encoding.UTF8.GetString(json.Span));
}
