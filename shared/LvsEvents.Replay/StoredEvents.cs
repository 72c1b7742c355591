using System.Runtime.CompilerServices;
using System.Text.Json;
using LvsEvents.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace LvsEvents.Replay;

/// <summary>One recorded event: store sequence, stream, and the event.</summary>
public sealed record StoredEvent(long Sequence, string StreamKey, LvsEvent Event);

/// <summary>
/// What to read from the store. Streams and types match exactly, or by prefix when they end in <c>*</c>
/// (<c>vrrp:*</c>, <c>health.*</c>).
/// </summary>
public sealed record EventFilter
{
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public IReadOnlyList<string> Streams { get; init; } = [];
    public IReadOnlyList<string> Types { get; init; } = [];
    public IReadOnlyList<string> ExcludedTypes { get; init; } = [];
    public string? Node { get; init; }
    public long? AfterSequence { get; init; }
    public long? UpToSequence { get; init; }
    /// <summary>Also events at or before <see cref="From"/> whose sequence is above this (recorded late).</summary>
    public long? OrLaterThanSequence { get; init; }
    public int? Limit { get; init; }
    /// <summary>Store order (sequence) instead of time order.</summary>
    public bool BySequence { get; init; }
}

/// <summary>
/// Reads Marten's mt_events directly with Npgsql: one streaming query, rows decoded as they come, time order
/// (timestamp, then sequence). The event type column picks the record type, so no polymorphic lookup is needed.
/// </summary>
public sealed class StoredEvents(NpgsqlDataSource dataSource, string schema)
{
    public string Schema { get; } = schema;

    public NpgsqlDataSource DataSource { get; } = dataSource;

    public async Task<long> CountAsync(EventFilter filter, CancellationToken cancellationToken)
    {
        await using var command = Build(filter, count: true);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L);
    }

    public async Task<long> MaxSequenceAsync(CancellationToken cancellationToken)
    {
        await using var command = DataSource.CreateCommand($"select coalesce(max(seq_id), 0) from {Schema}.mt_events");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L);
    }

    public async IAsyncEnumerable<StoredEvent> ReadAsync(EventFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = Build(filter, count: false);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var type = reader.GetString(2);
            if (!EventTypes.TryGetType(type, out var clr))
            {
                continue;
            }

            var json = reader.GetString(3);
            var e = (LvsEvent?)JsonSerializer.Deserialize(json, clr, EventJson.Options);
            if (e is not null)
            {
                yield return new StoredEvent(reader.GetInt64(0), reader.GetString(1), e);
            }
        }
    }

    /// <summary>The events with these ids (e.g. the probes that caused a health change), oldest first.</summary>
    public async Task<IReadOnlyList<StoredEvent>> ByIdsAsync(IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        var found = new List<StoredEvent>();
        if (ids.Count == 0)
        {
            return found;
        }

        await using var command = DataSource.CreateCommand($"select seq_id, stream_id, type, data::text from {Schema}.mt_events where id = any(@ids) order by timestamp, seq_id");
        command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = ids.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (EventTypes.TryGetType(reader.GetString(2), out var clr) && JsonSerializer.Deserialize(reader.GetString(3), clr, EventJson.Options) is LvsEvent e)
            {
                found.Add(new StoredEvent(reader.GetInt64(0), reader.GetString(1), e));
            }
        }

        return found;
    }

    private NpgsqlCommand Build(EventFilter filter, bool count)
    {
        var command = DataSource.CreateCommand();
        var where = new List<string>();
        var p = command.Parameters;
        if (filter.From is { } from)
        {
            p.AddWithValue("from", from.UtcDateTime);
            where.Add(filter.OrLaterThanSequence is { } late
                ? $"(timestamp >= @from or seq_id > {late})"
                : "timestamp >= @from");
        }

        if (filter.To is { } to)
        {
            p.AddWithValue("to", to.UtcDateTime);
            where.Add("timestamp < @to");
        }

        if (filter.AfterSequence is { } after)
        {
            where.Add($"seq_id > {after}");
        }

        if (filter.UpToSequence is { } upTo)
        {
            where.Add($"seq_id <= {upTo}");
        }

        AddMatch(where, p, "stream_id", "streams", filter.Streams);
        AddMatch(where, p, "type", "types", filter.Types);
        if (filter.ExcludedTypes.Count > 0)
        {
            // Literals, not a parameter: the planner then sees that the partial index without probe results applies.
            where.AddRange(filter.ExcludedTypes.Select(t => $"type <> '{t.Replace("'", "''", StringComparison.Ordinal)}'"));
        }

        if (filter.Node is { } node)
        {
            p.AddWithValue("node", node);
            where.Add("data->>'nodeId' = @node");
        }

        var condition = where.Count == 0 ? "" : " where " + string.Join(" and ", where);
        command.CommandText = count
            ? $"select count(*) from {Schema}.mt_events{condition}"
            : $"select seq_id, stream_id, type, data::text from {Schema}.mt_events{condition} order by {(filter.BySequence ? "seq_id" : "timestamp, seq_id")}"
              + (filter.Limit is { } limit ? $" limit {limit}" : "");
        return command;
    }

    private static void AddMatch(List<string> where, NpgsqlParameterCollection p, string column, string name, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        var exact = values.Where(v => !v.EndsWith('*')).ToArray();
        var prefixes = values.Where(v => v.EndsWith('*')).Select(v => Like(v[..^1]) + "%").ToArray();
        var any = new List<string>();
        if (exact.Length > 0)
        {
            p.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = exact });
            any.Add($"{column} = any(@{name})");
        }

        if (prefixes.Length > 0)
        {
            p.Add(new NpgsqlParameter(name + "_like", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = prefixes });
            any.Add($"{column} like any(@{name}_like)");
        }

        where.Add("(" + string.Join(" or ", any) + ")");
    }

    private static string Like(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
