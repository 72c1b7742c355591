using System.Diagnostics;
using LvsEvents.Contracts;
using LvsEvents.EventStore;
using Npgsql;
using NpgsqlTypes;

namespace LvsEvents.Replay;

/// <summary>A cluster view as of an instant, and what it took to answer.</summary>
public sealed record StateAt(DateTimeOffset AsOf, ClusterView View, DateTimeOffset? SnapshotAt, long EventsReplayed, TimeSpan Took);

/// <summary>
/// The cluster view kept in PostgreSQL next to the events, in the event store's schema:
/// <list type="bullet">
/// <item><c>lvs_replay_snapshots</c>: the view at aligned instants (every <see cref="SnapshotInterval"/> of event
/// time). Snapshot (B, W) holds every event with timestamp &lt; B and sequence ≤ W; the view at T is the newest
/// snapshot with B ≤ T plus the events with timestamp in [B, T] or sequence &gt; W (recorded late).</item>
/// <item><c>lvs_replay_live</c>: the current view with its sequence watermark, kept by <see cref="CatchUpAsync"/>.</item>
/// <item>An index on mt_events (timestamp, seq_id) for time windows, and a partial one of the same columns
/// without probe results, which the view never needs: a rebuild or an instant reads only the few events
/// that change state, however many probes the store holds.</item>
/// </list>
/// </summary>
public sealed class ClusterProjection
{
    /// <summary>Types the view does not depend on; skipped in SQL (the partial index leaves probe results out).</summary>
    public static readonly IReadOnlyList<string> SkippedTypes =
        [EventTypes.ProbeCompleted, EventTypes.GratuitousArpSent, EventTypes.SetWeightCommand, EventTypes.DrainCommand, EventTypes.RestoreCommand, EventTypes.KernelStatisticsReported];

    private readonly StoredEvents _events;
    private readonly string _schema;

    // Live state: everything read so far, and the part settled into snapshots.
    private ClusterView? _live;
    private long _liveWatermark;
    private ClusterView _settled = new();
    private DateTimeOffset? _settledBoundary;
    private readonly List<StoredEvent> _pending = [];

    public ClusterProjection(NpgsqlDataSource dataSource, string schema)
    {
        _schema = schema;
        _events = new StoredEvents(dataSource, schema);
    }

    public TimeSpan SnapshotInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Live snapshots wait this long behind the newest event, so that stragglers still land in them.</summary>
    public TimeSpan SettleLag { get; init; } = TimeSpan.FromMinutes(1);

    public StoredEvents Events => _events;

    /// <summary>
    /// A hole in the sequence older than this is taken as a rolled-back or failed append; a younger one may be a
    /// transaction still in flight, and the live view waits for it rather than skip its event forever.
    /// </summary>
    public TimeSpan GapTimeout { get; init; } = TimeSpan.FromSeconds(5);

    private readonly Dictionary<long, DateTime> _gapsSeen = [];

    /// <summary>
    /// Creates the replay tables and the time indexes on mt_events. The indexes are built CONCURRENTLY, one
    /// statement each (that form cannot share a transaction), so that building them on a large store never blocks
    /// the recorder's appends; Marten leaves them alone (<see cref="EventStoreSchema.ReplayIndexes"/>).
    /// </summary>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await ExecuteAsync($"""
            create table if not exists {_schema}.lvs_replay_snapshots (at timestamptz not null, watermark bigint not null, data jsonb not null, primary key (at));
            create table if not exists {_schema}.lvs_replay_live (id int primary key, watermark bigint not null, settled_at timestamptz, data jsonb not null, settled jsonb not null, updated timestamptz not null default now());
            """, cancellationToken).ConfigureAwait(false);
        string[] definitions =
        [
            "(timestamp, seq_id)",
            $"(timestamp, seq_id) where type <> '{EventTypes.ProbeCompleted}'",
        ];
        for (var i = 0; i < definitions.Length; i++)
        {
            var name = EventStoreSchema.ReplayIndexes[i];
            // A concurrent build that was interrupted leaves an invalid index behind, which "if not exists" would keep.
            switch (await IndexStateAsync(name, cancellationToken).ConfigureAwait(false))
            {
                case true:
                    continue;
                case false:
                    await ExecuteAsync($"drop index concurrently if exists {_schema}.{name}", cancellationToken).ConfigureAwait(false);
                    break;
            }

            await ExecuteAsync($"create index concurrently if not exists {name} on {_schema}.mt_events {definitions[i]}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>True: the index exists and is valid; false: it exists but is invalid; null: it does not exist.</summary>
    private async Task<bool?> IndexStateAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = _events.DataSource.CreateCommand(
            "select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2");
        command.Parameters.AddWithValue(_schema);
        command.Parameters.AddWithValue(name);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is bool valid ? valid : null;
    }

    /// <summary>Throws the snapshots and the live view away and folds every event again; returns the view at the end.</summary>
    public async Task<ClusterView> RebuildAsync(CancellationToken cancellationToken, IProgress<long>? progress = null)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var max = await _events.MaxSequenceAsync(cancellationToken).ConfigureAwait(false);
        // Holes from appends still in flight can only be near the head.
        var watermark = await SafeSequenceAsync(Math.Max(0, max - 100_000), cancellationToken).ConfigureAwait(false);
        await ExecuteAsync($"truncate {_schema}.lvs_replay_snapshots; delete from {_schema}.lvs_replay_live", cancellationToken).ConfigureAwait(false);
        var view = new ClusterView();
        DateTimeOffset? boundary = null;
        var snapshots = new List<(DateTimeOffset At, string Json)>();
        long n = 0;
        await foreach (var stored in _events.ReadAsync(new EventFilter { UpToSequence = watermark, ExcludedTypes = SkippedTypes }, cancellationToken).ConfigureAwait(false))
        {
            var at = Floor(stored.Event.OccurredAt);
            if (boundary is null)
            {
                boundary = at;
            }
            else if (at > boundary)
            {
                boundary = at;
                snapshots.Add((at, view.ToJson()));
            }

            view.Apply(stored.Event);
            if (++n % 10_000 == 0)
            {
                progress?.Report(n);
            }
        }

        await SaveSnapshotsAsync(snapshots, watermark, cancellationToken).ConfigureAwait(false);
        // Settled and live are both complete up to the watermark; live snapshots continue after the last boundary.
        _live = view;
        _liveWatermark = watermark;
        _settled = view.Clone();
        _settledBoundary = view.At is { } last ? Floor(last) + SnapshotInterval : null;
        _pending.Clear();
        await SaveLiveAsync(cancellationToken).ConfigureAwait(false);
        return view;
    }

    /// <summary>
    /// Folds the events recorded since the last call into the live view (loaded from the store on first use, built
    /// from scratch if there is none), writes snapshots for intervals that are settled, and saves the live view.
    /// </summary>
    public async Task<ClusterView> CatchUpAsync(CancellationToken cancellationToken, int batch = 50_000)
    {
        if (_live is null && !await LoadLiveAsync(cancellationToken).ConfigureAwait(false))
        {
            return await RebuildAsync(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            var safe = await SafeSequenceAsync(_liveWatermark, cancellationToken).ConfigureAwait(false);
            if (safe <= _liveWatermark)
            {
                break;
            }

            var fresh = new List<StoredEvent>();
            await foreach (var stored in _events.ReadAsync(new EventFilter { AfterSequence = _liveWatermark, UpToSequence = safe, ExcludedTypes = SkippedTypes, BySequence = true, Limit = batch }, cancellationToken).ConfigureAwait(false))
            {
                fresh.Add(stored);
            }

            if (fresh.Count == 0)
            {
                _liveWatermark = safe;
                await SaveLiveAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            fresh.Sort(ByTime);
            foreach (var stored in fresh)
            {
                _live!.Apply(stored.Event);
                _pending.Add(stored);
            }

            _liveWatermark = fresh.Count < batch ? safe : fresh.Max(e => e.Sequence);
            await SettleAsync(cancellationToken).ConfigureAwait(false);
            await SaveLiveAsync(cancellationToken).ConfigureAwait(false);
        }

        return _live!;
    }

    /// <summary>The view at <paramref name="at"/>: the newest snapshot before it plus the events after the snapshot.</summary>
    public async Task<StateAt> StateAtAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var view = new ClusterView();
        DateTimeOffset? snapshotAt = null;
        long? watermark = null;
        await using (var command = _events.DataSource.CreateCommand($"select at, watermark, data::text from {_schema}.lvs_replay_snapshots where at <= @at order by at desc limit 1"))
        {
            command.Parameters.AddWithValue("at", at.UtcDateTime);
            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    snapshotAt = new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero);
                    watermark = reader.GetInt64(1);
                    view = ClusterView.FromJson(reader.GetString(2));
                }
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                // Never projected: fold from the beginning.
            }
        }

        var filter = new EventFilter
        {
            From = snapshotAt,
            OrLaterThanSequence = snapshotAt is null ? null : watermark,
            To = at.AddTicks(10), // timestamps are microseconds: T itself is included
            ExcludedTypes = SkippedTypes,
        };
        long n = 0;
        await foreach (var stored in _events.ReadAsync(filter, cancellationToken).ConfigureAwait(false))
        {
            view.Apply(stored.Event);
            n++;
        }

        return new StateAt(at, view, snapshotAt, n, clock.Elapsed);
    }

    /// <summary>The live view as saved, without reading events.</summary>
    public async Task<(ClusterView View, long Watermark)?> ReadLiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _events.DataSource.CreateCommand($"select data::text, watermark from {_schema}.lvs_replay_live where id = 1");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? (ClusterView.FromJson(reader.GetString(0)), reader.GetInt64(1)) : null;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // No live view has been kept in this store yet (the monitor creates the table on its first pass).
            return null;
        }
    }

    /// <summary>
    /// The highest sequence up to which every event above <paramref name="after"/> is either stored or known never to
    /// come (a hole older than <see cref="GapTimeout"/>). Sequences are taken before commit, so a higher one can be
    /// visible while a lower one is still being written.
    /// </summary>
    private async Task<long> SafeSequenceAsync(long after, CancellationToken cancellationToken)
    {
        await using var command = _events.DataSource.CreateCommand($"select seq_id from {_schema}.mt_events where seq_id > @after order by seq_id limit 200000");
        command.Parameters.AddWithValue("after", after);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var expected = after + 1;
        var now = DateTime.UtcNow;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var seq = reader.GetInt64(0);
            if (expected < seq)
            {
                // A hole [expected, seq): wait for it on first sight and while young; skip it whole once old.
                if (!_gapsSeen.TryGetValue(expected, out var seen))
                {
                    _gapsSeen[expected] = now;
                    return expected - 1;
                }

                if (now - seen < GapTimeout)
                {
                    return expected - 1;
                }

                _gapsSeen.Remove(expected);
            }

            expected = seq + 1;
        }

        return expected - 1;
    }

    private async Task SettleAsync(CancellationToken cancellationToken)
    {
        if (_live?.At is not { } newest || _pending.Count == 0)
        {
            return;
        }

        _settledBoundary ??= Floor(_pending.Min(e => e.Event.OccurredAt));
        var snapshots = new List<(DateTimeOffset At, string Json)>();
        while (_settledBoundary + SnapshotInterval <= newest - SettleLag)
        {
            var boundary = _settledBoundary.Value + SnapshotInterval;
            var due = _pending.Where(e => e.Event.OccurredAt < boundary).ToList();
            due.Sort(ByTime);
            foreach (var stored in due)
            {
                _settled.Apply(stored.Event);
            }

            _pending.RemoveAll(e => e.Event.OccurredAt < boundary);
            snapshots.Add((boundary, _settled.ToJson()));
            _settledBoundary = boundary;
        }

        await SaveSnapshotsAsync(snapshots, _liveWatermark, cancellationToken).ConfigureAwait(false);
    }

    private async Task SaveSnapshotsAsync(List<(DateTimeOffset At, string Json)> snapshots, long watermark, CancellationToken cancellationToken)
    {
        if (snapshots.Count == 0)
        {
            return;
        }

        await using var command = _events.DataSource.CreateCommand($"""
            insert into {_schema}.lvs_replay_snapshots (at, watermark, data)
            select a, @watermark, d from unnest(@ats, @datas) as u(a, d)
            on conflict (at) do update set watermark = excluded.watermark, data = excluded.data
            """);
        command.Parameters.AddWithValue("watermark", watermark);
        command.Parameters.Add(new NpgsqlParameter("ats", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = snapshots.Select(s => s.At.UtcDateTime).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("datas", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = snapshots.Select(s => s.Json).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task SaveLiveAsync(CancellationToken cancellationToken)
    {
        // The pending events are re-read on load (they are above the settled watermark in time), so only the
        // settled view and its boundary need keeping besides the live view.
        await using var command = _events.DataSource.CreateCommand($"""
            insert into {_schema}.lvs_replay_live (id, watermark, settled_at, data, settled, updated) values (1, @watermark, @settled_at, @data, @settled, now())
            on conflict (id) do update set watermark = excluded.watermark, settled_at = excluded.settled_at, data = excluded.data, settled = excluded.settled, updated = now()
            """);
        command.Parameters.AddWithValue("watermark", _liveWatermark);
        command.Parameters.AddWithValue("settled_at", NpgsqlDbType.TimestampTz, (object?)_settledBoundary?.UtcDateTime ?? DBNull.Value);
        command.Parameters.AddWithValue("data", NpgsqlDbType.Jsonb, _live!.ToJson());
        command.Parameters.AddWithValue("settled", NpgsqlDbType.Jsonb, _settled.ToJson());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> LoadLiveAsync(CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _events.DataSource.CreateCommand($"select watermark, settled_at, data::text, settled::text from {_schema}.lvs_replay_live where id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        _liveWatermark = reader.GetInt64(0);
        _settledBoundary = reader.IsDBNull(1) ? null : new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero);
        _live = ClusterView.FromJson(reader.GetString(2));
        _settled = ClusterView.FromJson(reader.GetString(3));
        await reader.CloseAsync().ConfigureAwait(false);
        _pending.Clear();
        if (_settledBoundary is { } boundary)
        {
            await foreach (var stored in _events.ReadAsync(new EventFilter { From = boundary, UpToSequence = _liveWatermark, ExcludedTypes = SkippedTypes }, cancellationToken).ConfigureAwait(false))
            {
                _pending.Add(stored);
            }
        }

        return true;
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = _events.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private DateTimeOffset Floor(DateTimeOffset at) =>
        new(at.UtcTicks - at.UtcTicks % SnapshotInterval.Ticks, TimeSpan.Zero);

    private static int ByTime(StoredEvent a, StoredEvent b)
    {
        var byTime = a.Event.OccurredAt.CompareTo(b.Event.OccurredAt);
        return byTime != 0 ? byTime : a.Sequence.CompareTo(b.Sequence);
    }
}
