using LvsEvents.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace LvsEvents.EventStore;

/// <summary>
/// Appends events to their Marten streams, once each. Marten's own quick append calls a function per
/// stream, which caps out near 6,000 events/s when a batch touches a thousand real-server streams; this
/// writes Marten's tables (mt_streams, mt_events) in one set-based statement per batch instead, with the
/// same columns Marten writes, so everything Marten reads (FetchStream, QueryAllRawEvents, projections)
/// works unchanged. The event's own id and time are stored as Marten's id and timestamp.
/// Events whose id the store already has are skipped, so a redelivered message changes nothing; two
/// recorders racing on the same id hit the unique index and the caller's retry skips it.
/// </summary>
public sealed class EventRecorder
{

    private const int MinimumPerPartition = 1000;

    private static readonly int Parallelism = Math.Clamp(Environment.ProcessorCount, 1, 4);

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _knownIdsSql;
    private readonly string _appendSql;

    public EventRecorder(NpgsqlDataSource dataSource, string schema = EventStoreSchema.SchemaName)
    {
        _dataSource = dataSource;
        _knownIdsSql = $"select id from {schema}.mt_events where id = any(@ids)";
        _appendSql = AppendSql.Replace("{Schema}", schema, StringComparison.Ordinal);
    }

    // Each stream's version goes up by the number of its events in the batch; every event gets
    // (new version - its stream's count + its place in the stream), placed by the caller. Stream rows are
    // locked in key order, so concurrent recorders never deadlock. seq_id follows the batch order.
    private const string AppendSql = """
        with streams as (
            insert into {Schema}.mt_streams as s (id, type, version, timestamp, created, tenant_id, is_archived)
            select k, null, n, now(), now(), '*DEFAULT*', false
            from unnest(@stream_keys, @stream_counts) as u(k, n)
            order by k
            on conflict (id) do update set version = s.version + excluded.version, timestamp = now()
            returning s.id, s.version
        )
        insert into {Schema}.mt_events
            (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, correlation_id, causation_id, is_archived)
        select nextval('{Schema}.mt_events_sequence'), i.id, i.stream_id, st.version - i.n + i.k,
               i.data, i.type, i.ts, '*DEFAULT*', i.dotnet_type, i.correlation_id, i.causation_id, false
        from unnest(@ids, @streams, @places, @counts, @types, @dotnet_types, @bodies, @timestamps, @correlations, @causations)
            with ordinality as i(id, stream_id, k, n, type, dotnet_type, data, ts, correlation_id, causation_id, ord)
        join streams st on st.id = i.stream_id
        order by i.ord
        """;

    /// <summary>A recorder with its own connection pool.</summary>
    public static EventRecorder Create(string connectionString, string schema = EventStoreSchema.SchemaName) =>
        new(NpgsqlDataSource.Create(EventStoreSchema.Validate(connectionString)), schema);

    /// <summary>Records what is new among events that come with their JSON (from the bus); returns how many were new.</summary>
    public async Task<int> RecordAsync(IReadOnlyList<JsonEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var seen = await KnownIdsAsync(connection, events, cancellationToken).ConfigureAwait(false);
        var fresh = new List<JsonEvent>(events.Count);
        foreach (var e in events)
        {
            if (seen.Add(e.Event.EventId))
            {
                fresh.Add(e);
            }
        }

        if (fresh.Count == 0)
        {
            return 0;
        }

        // Streams never span partitions, so the partitions' writes share no stream row and run in parallel
        // on their own connections (one PostgreSQL backend each); per-stream order is kept within each.
        var partitions = fresh.Count < MinimumPerPartition * 2
            ? [fresh]
            : fresh.GroupBy(e => (e.Event.StreamKey.GetHashCode() & int.MaxValue) % Parallelism).Select(g => g.ToList()).ToList();
        if (partitions.Count == 1)
        {
            return await AppendAsync(connection, partitions[0], cancellationToken).ConfigureAwait(false);
        }

        var written = await Task.WhenAll(partitions.Select(async partition =>
        {
            await using var own = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await AppendAsync(own, partition, cancellationToken).ConfigureAwait(false);
        })).ConfigureAwait(false);
        return written.Sum();
    }

    private async Task<int> AppendAsync(NpgsqlConnection connection, List<JsonEvent> fresh, CancellationToken cancellationToken)
    {
        var n = fresh.Count;
        var ids = new Guid[n];
        var streams = new string[n];
        var places = new int[n];
        var counts = new int[n];
        var types = new string[n];
        var dotnetTypes = new string[n];
        var bodies = new string[n];
        var timestamps = new DateTime[n];
        var correlations = new string?[n];
        var causations = new string?[n];
        var perStream = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var e = fresh[i].Event;
            var type = e.GetType();
            ids[i] = e.EventId;
            streams[i] = e.StreamKey;
            places[i] = perStream[streams[i]] = perStream.GetValueOrDefault(streams[i]) + 1;
            types[i] = e.EventType;
            dotnetTypes[i] = $"{type.FullName}, {type.Assembly.GetName().Name}";
            bodies[i] = fresh[i].Json;
            timestamps[i] = e.OccurredAt.UtcDateTime;
            correlations[i] = e.CorrelationId.ToString();
            causations[i] = e.CausationId?.ToString();
        }

        for (var i = 0; i < n; i++)
        {
            counts[i] = perStream[streams[i]];
        }

        await using var command = new NpgsqlCommand(_appendSql, connection);
        var parameters = command.Parameters;
        parameters.Add(new NpgsqlParameter("stream_keys", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = perStream.Keys.ToArray() });
        parameters.Add(new NpgsqlParameter("stream_counts", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = perStream.Values.Select(v => (long)v).ToArray() });
        parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = ids });
        parameters.Add(new NpgsqlParameter("streams", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = streams });
        parameters.Add(new NpgsqlParameter("places", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = places });
        parameters.Add(new NpgsqlParameter("counts", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = counts });
        parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = types });
        parameters.Add(new NpgsqlParameter("dotnet_types", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = dotnetTypes });
        parameters.Add(new NpgsqlParameter("bodies", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = bodies });
        parameters.Add(new NpgsqlParameter("timestamps", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = timestamps });
        parameters.Add(new NpgsqlParameter("correlations", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = correlations });
        parameters.Add(new NpgsqlParameter("causations", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = causations });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<HashSet<Guid>> KnownIdsAsync(NpgsqlConnection connection, IReadOnlyList<JsonEvent> events, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(_knownIdsSql, connection);
        command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = events.Select(e => e.Event.EventId).ToArray() });
        var known = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            known.Add(reader.GetGuid(0));
        }

        return known;
    }
}

/// <summary>An event with the JSON it is stored as.</summary>
public readonly record struct JsonEvent(LvsEvent Event, string Json)
{
    public static JsonEvent From(ReadOnlyMemory<byte> json) =>
        new(EventJson.Deserialize(json.Span), ForJsonb(System.Text.Encoding.UTF8.GetString(json.Span)));

    /// <summary>
    /// PostgreSQL's jsonb cannot hold U+0000 (a script's output can carry one): it would refuse the whole
    /// batch forever. The character is stored as U+FFFD instead.
    /// </summary>
    public static string ForJsonb(string json) => json.Contains("\\u0000", StringComparison.Ordinal) ? json.Replace("\\u0000", "\\uFFFD", StringComparison.Ordinal) : json;
}
