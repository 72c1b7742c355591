using System.Text;
using LvsEvents.Eventing.Spool;
using Microsoft.Extensions.Logging.Abstractions;

namespace LvsEvents.Pipeline.Tests;

public sealed class DurableEventSpoolTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "lvs-spool-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private DurableEventSpool Open(long segmentBytes = 16 * 1024 * 1024) => DurableEventSpool.Open(_directory, NullLogger.Instance, segmentBytes);

    private static byte[] Payload(int i) => Encoding.UTF8.GetBytes($"{{\"n\":{i}}}");

    private static int Number(SpoolRecord r) => int.Parse(Encoding.UTF8.GetString(r.Payload.Span)[5..^1]);

    private static async Task<List<SpoolRecord>> ReadAll(DurableEventSpool spool, int expected)
    {
        var records = new List<SpoolRecord>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (records.Count < expected)
        {
            records.AddRange(await spool.ReadAsync(1000, timeout.Token));
        }

        return records;
    }

    [Fact]
    public async Task Appends_are_read_back_in_order_with_consecutive_sequences()
    {
        await using var spool = Open();
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(i + 1, await spool.AppendAsync(Payload(i)));
        }

        var records = await ReadAll(spool, 100);

        Assert.Equal(Enumerable.Range(0, 100), records.Select(Number));
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), records.Select(r => r.Sequence));
        Assert.Equal(100, spool.Depth);
    }

    [Fact]
    public async Task Concurrent_appends_get_unique_sequences_and_all_survive()
    {
        await using var spool = Open();

        var sequences = await Task.WhenAll(Enumerable.Range(0, 5000).Select(i => spool.AppendAsync(Payload(i)).AsTask()));

        Assert.Equal(Enumerable.Range(1, 5000).Select(i => (long)i), sequences.Order());
        var records = await ReadAll(spool, 5000);
        Assert.Equal(Enumerable.Range(0, 5000), records.Select(Number).Order());
    }

    [Fact]
    public async Task Unacknowledged_records_survive_reopening_and_acknowledged_ones_do_not_come_back()
    {
        await using (var spool = Open())
        {
            for (var i = 0; i < 50; i++)
            {
                await spool.AppendAsync(Payload(i));
            }

            await ReadAll(spool, 50);
            spool.Acknowledge(20);
        }

        await using (var reopened = Open())
        {
            Assert.Equal(30, reopened.Depth);
            var records = await ReadAll(reopened, 30);
            Assert.Equal(Enumerable.Range(20, 30), records.Select(Number));

            Assert.Equal(51, await reopened.AppendAsync(Payload(50)));
            var next = await ReadAll(reopened, 1);
            Assert.Equal(50, Number(next.Single()));
        }
    }

    [Fact]
    public async Task A_torn_write_at_the_end_is_cut_off_and_appending_continues()
    {
        await using (var spool = Open())
        {
            for (var i = 0; i < 10; i++)
            {
                await spool.AppendAsync(Payload(i));
            }
        }

        var segment = Directory.GetFiles(_directory, "*.seg").Single();
        await using (var file = new FileStream(segment, FileMode.Append))
        {
            // Half a header and some payload: what a crash in the middle of a write leaves.
            file.Write([42, 0, 0, 0, 1, 2, 3]);
        }

        await using var reopened = Open();
        Assert.Equal(11, await reopened.AppendAsync(Payload(10)));
        var records = await ReadAll(reopened, 11);
        Assert.Equal(Enumerable.Range(0, 11), records.Select(Number));
    }

    [Fact]
    public async Task A_flipped_bit_is_never_taken_for_an_event()
    {
        await using (var spool = Open())
        {
            for (var i = 0; i < 10; i++)
            {
                await spool.AppendAsync(Payload(i));
            }
        }

        var segment = Directory.GetFiles(_directory, "*.seg").Single();
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[^3] ^= 0x10; // inside the last record's payload
        await File.WriteAllBytesAsync(segment, bytes);

        await using var reopened = Open();
        var records = await ReadAll(reopened, 9);
        Assert.Equal(Enumerable.Range(0, 9), records.Select(Number));
        Assert.Equal(9, reopened.Depth);
    }

    [Fact]
    public async Task Segments_rotate_and_delivered_ones_are_deleted()
    {
        await using var spool = Open(segmentBytes: 2000);
        for (var i = 0; i < 500; i++)
        {
            await spool.AppendAsync(Payload(i));
        }

        Assert.True(Directory.GetFiles(_directory, "*.seg").Length > 5);
        var records = await ReadAll(spool, 500);
        Assert.Equal(Enumerable.Range(0, 500), records.Select(Number));

        spool.Acknowledge(500);

        Assert.Single(Directory.GetFiles(_directory, "*.seg"));
        Assert.Equal(0, spool.Depth);
    }

    [Fact]
    public async Task Reading_across_segments_after_reopening_starts_right_after_the_mark()
    {
        await using (var spool = Open(segmentBytes: 1000))
        {
            for (var i = 0; i < 300; i++)
            {
                await spool.AppendAsync(Payload(i));
            }

            spool.Acknowledge(123);
        }

        await using var reopened = Open(segmentBytes: 1000);
        var records = await ReadAll(reopened, 177);
        Assert.Equal(Enumerable.Range(123, 177), records.Select(Number));
    }

    [Fact]
    public async Task Rewind_reads_again_from_the_acknowledged_mark()
    {
        await using var spool = Open();
        for (var i = 0; i < 10; i++)
        {
            await spool.AppendAsync(Payload(i));
        }

        await ReadAll(spool, 10);
        spool.Acknowledge(4);
        spool.Rewind();

        var again = await ReadAll(spool, 6);
        Assert.Equal(Enumerable.Range(4, 6), again.Select(Number));
    }

    [Fact]
    public async Task A_second_owner_of_the_same_spool_is_refused_with_a_clear_message()
    {
        await using var spool = Open();

        var error = Assert.Throws<SpoolUnavailableException>(() => Open());

        Assert.Contains(_directory, error.Message);
        Assert.Contains("another instance", error.Message);
    }

    [Fact]
    public async Task Reading_waits_for_the_next_append()
    {
        await using var spool = Open();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var read = spool.ReadAsync(10, timeout.Token);
        await Task.Delay(100);
        Assert.False(read.IsCompleted);
        await spool.AppendAsync(Payload(7));

        Assert.Equal(7, Number((await read).Single()));
    }
}
