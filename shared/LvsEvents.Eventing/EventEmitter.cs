using System.Buffers;
using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Eventing.Spool;

namespace LvsEvents.Eventing;

/// <summary>Stamps events with who and when, and spools them.</summary>
public sealed class EventEmitter(DurableEventSpool spool, ServiceIdentity identity, TimeProvider clock) : IEventEmitter
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = EventJson.Options.Encoder,
        Indented = EventJson.Options.WriteIndented,
        MaxDepth = EventJson.Options.MaxDepth,
    };

    private readonly EventStamper _stamper = new(identity, clock);
    private GroupBuffer? _spare;

    public async ValueTask<LvsEvent> EmitAsync(LvsEvent e, CancellationToken cancellationToken = default)
    {
        var stamped = _stamper.Stamp(e);
        await spool.AppendAsync(EventJson.Serialize(stamped), cancellationToken).ConfigureAwait(false);
        return stamped;
    }

    /// <summary>
    /// Each event stamped and serialized (the same JSON as <see cref="EmitAsync"/>) into one reused buffer, then appended
    /// as one group: one spool record per event, one write and one fsync for all.
    /// </summary>
    public async ValueTask EmitManyAsync(IReadOnlyList<LvsEvent> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0)
        {
            return;
        }

        var group = Interlocked.Exchange(ref _spare, null) ?? new GroupBuffer();
        try
        {
            var records = group.Serialize(events, _stamper);
            await spool.AppendManyAsync(records, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            group.Clear();
            Volatile.Write(ref _spare, group);
        }
    }

    private sealed class GroupBuffer
    {
        private readonly ArrayBufferWriter<byte> _bytes = new(64 * 1024);
        private readonly Utf8JsonWriter _writer;
        private readonly List<int> _ends = [];
        private readonly List<ReadOnlyMemory<byte>> _records = [];

        public GroupBuffer() => _writer = new Utf8JsonWriter(_bytes, WriterOptions);

        public List<ReadOnlyMemory<byte>> Serialize(IReadOnlyList<LvsEvent> events, EventStamper stamper)
        {
            foreach (var e in events)
            {
                _writer.Reset(_bytes);
                JsonSerializer.Serialize(_writer, stamper.Stamp(e), EventJson.Options);
                _writer.Flush();
                _ends.Add(_bytes.WrittenCount);
            }

            // Slices only once everything is written: the buffer may have moved while it grew.
            var written = _bytes.WrittenMemory;
            var start = 0;
            foreach (var end in _ends)
            {
                _records.Add(written[start..end]);
                start = end;
            }

            return _records;
        }

        public void Clear()
        {
            _bytes.ResetWrittenCount();
            _ends.Clear();
            _records.Clear();
        }
    }
}
