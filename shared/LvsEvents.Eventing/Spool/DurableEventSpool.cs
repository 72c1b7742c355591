using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace LvsEvents.Eventing.Spool;

/// <summary>
/// An append-only, fsync'd queue of events on local disk: what a service emits is here before it is
/// anywhere else, so a broker outage or a crash loses nothing. One writer task commits appends in groups
/// (one fsync for all appends waiting at that moment); one reader hands records to the publisher in order;
/// <see cref="Acknowledge"/> moves the confirmed mark and deletes segments it has passed.
/// One process owns a spool directory at a time.
/// </summary>
public sealed class DurableEventSpool : IAsyncDisposable
{
    private const int ReadChunkBytes = 256 * 1024;

    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly ILogger _logger;
    private readonly FileStream _lock;
    private readonly SpoolAcknowledgement _acknowledgement;
    private readonly Channel<PendingAppend> _appends = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly object _gate = new();
    private readonly List<SpoolSegment> _segments;

    // Writer state (writer task only).
    private SafeFileHandle _activeHandle;
    private long _activeLength;
    private long _nextSequence;

    // Shared state (under _gate).
    private long _committedSequence;
    private long _acknowledgedSequence;
    private long _writtenAcknowledgedSequence;
    private long _acknowledgementWrittenAt = long.MinValue / 2;
    private TaskCompletionSource _committedSignal = NewSignal();

    // Reader state (one reader at a time).
    private long _nextToRead;
    private SpoolSegment? _readSegment;
    private long _readOffset;
    private byte[]? _readBuffer;

    private DurableEventSpool(string directory, long segmentBytes, ILogger logger, FileStream lockFile)
    {
        _directory = directory;
        _segmentBytes = segmentBytes;
        _logger = logger;
        _lock = lockFile;
        _acknowledgement = new SpoolAcknowledgement(directory);
        _acknowledgedSequence = _acknowledgement.Read();
        _writtenAcknowledgedSequence = _acknowledgedSequence;
        _segments = Recover(out var lastSequence).ToList();
        _nextSequence = Math.Max(lastSequence, _acknowledgedSequence) + 1;
        _committedSequence = _nextSequence - 1;
        _nextToRead = _acknowledgedSequence + 1;
        DeleteAcknowledgedSegments();

        var last = _segments.Count > 0 ? _segments[^1] : null;
        if (last is null || new FileInfo(last.Path).Length >= _segmentBytes || lastSequence + 1 != _nextSequence)
        {
            last = SpoolSegment.For(_directory, _nextSequence);
            _segments.Add(last);
        }

        _activeHandle = File.OpenHandle(last.Path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read | FileShare.Delete);
        _activeLength = RandomAccess.GetLength(_activeHandle);
        _writer = Task.Run(WriteLoop);
    }

    /// <summary>Opens (creating if needed) the spool in <paramref name="directory"/> and recovers what it holds.</summary>
    /// <exception cref="SpoolUnavailableException">The directory cannot be used or another process owns it.</exception>
    public static DurableEventSpool Open(string directory, ILogger logger, long segmentBytes = 16 * 1024 * 1024)
    {
        FileStream lockFile;
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpoolUnavailableException($"event spool {directory}: cannot create the folder ({e.Message}); set Eventing:SpoolDirectory to a writable folder.", e);
        }

        try
        {
            // FileShare.None takes an exclusive flock: a second process on the same spool fails here.
            lockFile = new FileStream(Path.Combine(directory, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new SpoolUnavailableException($"event spool {directory}: cannot take its lock ({e.Message}); is another instance of this service running?", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new SpoolUnavailableException($"event spool {directory}: permission denied; set Eventing:SpoolDirectory to a writable folder.", e);
        }

        try
        {
            return new DurableEventSpool(directory, segmentBytes, logger, lockFile);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    public string Location => _directory;

    /// <summary>Events appended but not yet confirmed by the broker.</summary>
    public long Depth
    {
        get
        {
            lock (_gate)
            {
                return _committedSequence - _acknowledgedSequence;
            }
        }
    }

    /// <summary>Appends one record; completes once it is on disk (fsync'd), with its sequence.</summary>
    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (payload.Length > SpoolRecordFormat.MaxPayloadBytes)
        {
            throw new ArgumentException($"an event of {payload.Length} bytes is larger than the spool takes ({SpoolRecordFormat.MaxPayloadBytes})", nameof(payload));
        }

        var pending = new PendingAppend(payload);
        if (!_appends.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(DurableEventSpool));
        }

        return new ValueTask<long>(pending.Completion.Task.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// Appends <paramref name="payloads"/> as consecutive records, committed together (one write, one fsync); completes
    /// once all are on disk, with the last one's sequence. The payloads must stay unchanged until then.
    /// </summary>
    public ValueTask<long> AppendManyAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, CancellationToken cancellationToken = default)
    {
        var bytes = 0L;
        foreach (var payload in payloads)
        {
            if (payload.Length > SpoolRecordFormat.MaxPayloadBytes)
            {
                throw new ArgumentException($"an event of {payload.Length} bytes is larger than the spool takes ({SpoolRecordFormat.MaxPayloadBytes})", nameof(payloads));
            }

            bytes += SpoolRecordFormat.HeaderBytes + payload.Length;
        }

        if (payloads.Count == 0)
        {
            throw new ArgumentException("nothing to append", nameof(payloads));
        }

        var pending = new PendingAppend(payloads, bytes);
        if (!_appends.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(DurableEventSpool));
        }

        return new ValueTask<long>(pending.Completion.Task.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// Waits until at least one record past the read position is durable, then returns up to
    /// <paramref name="maxRecords"/> of them in order. The read position moves past them: a caller that
    /// fails to deliver them keeps them and retries, and <see cref="Rewind"/> starts over from the mark.
    /// </summary>
    public async Task<IReadOnlyList<SpoolRecord>> ReadAsync(int maxRecords, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task signal;
            long committed;
            lock (_gate)
            {
                signal = _committedSignal.Task;
                committed = _committedSequence;
            }

            if (committed >= _nextToRead)
            {
                return ReadCommitted(maxRecords, committed);
            }

            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts reading again right after the acknowledged mark.</summary>
    public void Rewind()
    {
        lock (_gate)
        {
            _nextToRead = _acknowledgedSequence + 1;
            _readSegment = null;
            _readOffset = 0;
        }
    }

    /// <summary>
    /// Marks every record up to <paramref name="sequence"/> as delivered; their segments go. The mark is written to disk
    /// at most every <see cref="AcknowledgementWriteInterval"/> (a file write and a rename each), before any segment is
    /// deleted, and when the spool is disposed: a crash in between re-publishes at most that much, which the store
    /// de-duplicates by event id (as after a power cut, see <see cref="SpoolAcknowledgement"/>).
    /// </summary>
    public void Acknowledge(long sequence)
    {
        lock (_gate)
        {
            if (sequence <= _acknowledgedSequence)
            {
                return;
            }

            _acknowledgedSequence = Math.Min(sequence, _committedSequence);
            var now = Environment.TickCount64;
            var freesSegment = _segments.Count > 1 && _segments[1].FirstSequence <= _acknowledgedSequence + 1;
            if (freesSegment || now - _acknowledgementWrittenAt >= AcknowledgementWriteInterval.TotalMilliseconds)
            {
                WriteAcknowledgement(now);
            }

            DeleteAcknowledgedSegments();
        }
    }

    /// <summary>How often at most <see cref="Acknowledge"/> writes the mark to disk.</summary>
    public static readonly TimeSpan AcknowledgementWriteInterval = TimeSpan.FromSeconds(1);

    // Caller holds _gate.
    private void WriteAcknowledgement(long now)
    {
        _acknowledgement.Write(_acknowledgedSequence);
        _writtenAcknowledgedSequence = _acknowledgedSequence;
        _acknowledgementWrittenAt = now;
    }

    public async ValueTask DisposeAsync()
    {
        _appends.Writer.TryComplete();
        try
        {
            await _writer.ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                if (_writtenAcknowledgedSequence != _acknowledgedSequence)
                {
                    WriteAcknowledgement(Environment.TickCount64);
                }
            }

            _activeHandle.Dispose();
            await _lock.DisposeAsync().ConfigureAwait(false);
        }
    }

    private IReadOnlyList<SpoolRecord> ReadCommitted(int maxRecords, long committed)
    {
        var records = new List<SpoolRecord>(Math.Min(maxRecords, (int)Math.Min(committed - _nextToRead + 1, 4096)));
        // Reused by the one reader (records are copies): a fresh 256 KiB buffer per read was a large-object allocation per commit.
        var buffer = _readBuffer ??= new byte[ReadChunkBytes];
        while (records.Count < maxRecords && _nextToRead <= committed)
        {
            SpoolSegment segment;
            lock (_gate)
            {
                _readSegment ??= SegmentHolding(_nextToRead);
                segment = _readSegment;
            }

            using var handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var read = RandomAccess.Read(handle, buffer, _readOffset);
            if (read == 0)
            {
                // End of this file: the record we want starts the next segment.
                lock (_gate)
                {
                    _readSegment = SegmentHolding(_nextToRead);
                    if (_readSegment == segment)
                    {
                        throw new InvalidDataException($"event spool {_directory}: record {_nextToRead} is missing from {segment.Path}");
                    }
                }

                _readOffset = 0;
                continue;
            }

            var span = buffer.AsSpan(0, read);
            var consumed = 0;
            while (records.Count < maxRecords && _nextToRead <= committed)
            {
                var outcome = SpoolRecordFormat.TryRead(span[consumed..], out var sequence, out var length);
                if (outcome == SpoolRecordFormat.ReadOutcome.Incomplete)
                {
                    if (consumed == 0)
                    {
                        buffer = _readBuffer = new byte[Math.Max(buffer.Length * 2, SpoolRecordFormat.HeaderBytes + length)];
                    }

                    break;
                }

                if (outcome == SpoolRecordFormat.ReadOutcome.Corrupt)
                {
                    throw new InvalidDataException($"event spool {segment.Path}: corrupt record at offset {_readOffset + consumed}");
                }

                var total = SpoolRecordFormat.HeaderBytes + length;
                if (sequence >= _nextToRead)
                {
                    records.Add(new SpoolRecord(sequence, span.Slice(consumed + SpoolRecordFormat.HeaderBytes, length).ToArray()));
                    _nextToRead = sequence + 1;
                }

                consumed += total;
            }

            _readOffset += consumed;
        }

        return records;
    }

    private SpoolSegment SegmentHolding(long sequence)
    {
        for (var i = _segments.Count - 1; i >= 0; i--)
        {
            if (_segments[i].FirstSequence <= sequence)
            {
                if (_segments[i] != _readSegment)
                {
                    _readOffset = 0;
                }

                return _segments[i];
            }
        }

        throw new InvalidDataException($"event spool {_directory}: no segment holds record {sequence}");
    }

    private async Task WriteLoop()
    {
        var batch = new List<PendingAppend>();
        var buffer = new byte[1024 * 1024];
        while (await _appends.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            var bytes = 0L;
            while (batch.Count < 8192 && bytes < 8 * 1024 * 1024 && _appends.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
                bytes += pending.Bytes;
            }

            try
            {
                var last = Commit(batch, ref buffer);
                TaskCompletionSource signal;
                lock (_gate)
                {
                    _committedSequence = last;
                    signal = _committedSignal;
                    _committedSignal = NewSignal();
                }

                signal.TrySetResult();
            }
            catch (Exception e)
            {
                // A failed write (disk full, I/O error) fails only the appends of this group; the caller logs it.
                _logger.LogError(e, "Event spool {SpoolDirectory}: writing {EventCount} events failed", _directory, batch.Count);
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetException(e);
                }

                continue;
            }
        }
    }

    private long Commit(List<PendingAppend> batch, ref byte[] buffer)
    {
        var sequence = _nextSequence;
        var length = 0;
        var startSequence = sequence;
        foreach (var pending in batch)
        {
            var needed = length + pending.Bytes;
            if (needed > buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Max(buffer.Length * 2L, needed));
            }

            if (pending.Payloads is { } payloads)
            {
                foreach (var payload in payloads)
                {
                    length += SpoolRecordFormat.Write(buffer.AsSpan(length), sequence++, payload.Span);
                }
            }
            else
            {
                length += SpoolRecordFormat.Write(buffer.AsSpan(length), sequence++, pending.Payload.Span);
            }
        }

        if (_activeLength >= _segmentBytes)
        {
            StartSegment(startSequence);
        }

        RandomAccess.Write(_activeHandle, buffer.AsSpan(0, length), _activeLength);
        RandomAccess.FlushToDisk(_activeHandle);
        _activeLength += length;
        _nextSequence = sequence;

        var assigned = startSequence;
        foreach (var pending in batch)
        {
            assigned += pending.Records;
            pending.Completion.TrySetResult(assigned - 1);
        }

        return sequence - 1;
    }

    private void StartSegment(long firstSequence)
    {
        var segment = SpoolSegment.For(_directory, firstSequence);
        var handle = File.OpenHandle(segment.Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete);
        lock (_gate)
        {
            _segments.Add(segment);
        }

        _activeHandle.Dispose();
        _activeHandle = handle;
        _activeLength = 0;
        DeleteAcknowledgedSegmentsLocked();
    }

    private void DeleteAcknowledgedSegmentsLocked()
    {
        lock (_gate)
        {
            DeleteAcknowledgedSegments();
        }
    }

    // Caller holds _gate (or is the constructor). A segment goes when the next one starts at or before the mark + 1: the
    // mark on disk, so that a restart never looks for records in a deleted segment.
    private void DeleteAcknowledgedSegments()
    {
        while (_segments.Count > 1 && _segments[1].FirstSequence <= _writtenAcknowledgedSequence + 1)
        {
            var gone = _segments[0];
            _segments.RemoveAt(0);
            if (_readSegment == gone)
            {
                _readSegment = null;
                _readOffset = 0;
            }

            try
            {
                File.Delete(gone.Path);
            }
            catch (IOException e)
            {
                _logger.LogWarning(e, "Event spool: could not delete delivered segment {SegmentPath}", gone.Path);
            }
        }
    }

    /// <summary>
    /// Validates every segment. A torn tail (a crash mid-write) is cut off; a corrupt record elsewhere keeps
    /// its file aside as <c>.corrupt</c> for inspection, and the spool goes on from the next segment.
    /// </summary>
    private IEnumerable<SpoolSegment> Recover(out long lastSequence)
    {
        lastSequence = 0;
        var segments = SpoolSegment.List(_directory);
        var kept = new List<SpoolSegment>();
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var bytes = File.ReadAllBytes(segment.Path);
            var offset = 0;
            var expected = segment.FirstSequence;
            var outcome = SpoolRecordFormat.ReadOutcome.Whole;
            while (offset < bytes.Length)
            {
                outcome = SpoolRecordFormat.TryRead(bytes.AsSpan(offset), out var sequence, out var length);
                if (outcome != SpoolRecordFormat.ReadOutcome.Whole || sequence != expected)
                {
                    outcome = outcome == SpoolRecordFormat.ReadOutcome.Whole ? SpoolRecordFormat.ReadOutcome.Corrupt : outcome;
                    break;
                }

                offset += SpoolRecordFormat.HeaderBytes + length;
                expected++;
            }

            if (offset < bytes.Length)
            {
                var isLast = i == segments.Count - 1;
                if (isLast)
                {
                    _logger.LogWarning(
                        "Event spool {SpoolDirectory}: cut {Bytes} bytes of an unfinished write at the end of {SegmentPath}",
                        _directory, bytes.Length - offset, segment.Path);
                    using var handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Write);
                    RandomAccess.SetLength(handle, offset);
                }
                else
                {
                    var aside = segment.Path + ".corrupt";
                    File.Move(segment.Path, aside, overwrite: true);
                    _logger.LogError(
                        "Event spool {SpoolDirectory}: {SegmentPath} is corrupt after record {Sequence}; kept as {Aside}",
                        _directory, segment.Path, expected - 1, aside);
                    if (offset == 0)
                    {
                        continue;
                    }

                    // Keep the valid prefix readable under the original name.
                    File.WriteAllBytes(segment.Path, bytes.AsSpan(0, offset).ToArray());
                }
            }

            if (offset == 0 && i == segments.Count - 1)
            {
                // An empty last file: a fresh one is started at the right sequence.
                File.Delete(segment.Path);
                continue;
            }

            kept.Add(segment);
            if (expected - 1 >= segment.FirstSequence)
            {
                lastSequence = expected - 1;
            }
        }

        return kept;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class PendingAppend
    {
        public PendingAppend(ReadOnlyMemory<byte> payload)
        {
            Payload = payload;
            Records = 1;
            Bytes = SpoolRecordFormat.HeaderBytes + payload.Length;
        }

        public PendingAppend(IReadOnlyList<ReadOnlyMemory<byte>> payloads, long bytes)
        {
            Payloads = payloads;
            Records = payloads.Count;
            Bytes = bytes;
        }

        public ReadOnlyMemory<byte> Payload { get; }

        /// <summary>A group's records (<see cref="Payload"/> unused).</summary>
        public IReadOnlyList<ReadOnlyMemory<byte>>? Payloads { get; }

        public int Records { get; }

        public long Bytes { get; }

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
