using System.Security.Cryptography;
using System.Text.RegularExpressions;
using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Table;
using Microsoft.Extensions.Logging;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>
/// The nftables backend's netlink write path (<see cref="NftablesNetlink"/>): a table written as nf_tables batches
/// encoded here must be, for the reader and for <c>nft list</c>, exactly what <c>nft -f</c> of
/// <see cref="NftablesRuleset"/>'s text makes. Two namespaces per test (<c>lvn-XXXXXX-ours</c>, <c>-peer</c>), deleted after.
/// </summary>
public sealed class NftablesNetlinkTests : IDisposable
{
    private readonly string _id = $"lvn-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
    private readonly List<string> _namespaces = [];
    private readonly LibNftables _nft;
    private readonly CapturingLogger _log = new();
    private readonly NftablesBackend _backend;
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"lvn-{Guid.NewGuid():N}.nft");

    public NftablesNetlinkTests()
    {
        try
        {
            Ours = Add("ours");
            Peer = Add("peer");
            _nft = new LibNftables(Ours);
            _backend = new NftablesBackend(_nft, logger: _log);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private string Ours { get; } = "";

    private string Peer { get; } = "";

    public void Dispose()
    {
        _backend?.Dispose();
        foreach (var ns in _namespaces)
        {
            try
            {
                WriterLab.Run("ip", $"netns del {ns}");
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        File.Delete(_file);
    }

    private string Add(string name)
    {
        var ns = $"{_id}-{name}";
        WriterLab.Run("ip", $"netns add {ns}");
        _namespaces.Add(ns);
        return ns;
    }

    private static string Nft(string ns, string arguments) => WriterLab.Run("ip", $"netns exec {ns} nft {arguments}");

    /// <summary><c>nft -f</c> of <paramref name="text"/> in <paramref name="ns"/>.</summary>
    private void NftFile(string ns, string text)
    {
        File.WriteAllText(_file, text);
        Nft(ns, $"-f {_file}");
    }

    private static string Listing(string ns) => Regex.Replace(Nft(ns, "list table ip lvsevents"), @"\s*# handle \d+", "");

    /// <summary>What the reader makes of <c>nft -j list table ip lvsevents</c> (nft's own process, not our context).</summary>
    private static KernelTable ReadJson(string ns) => NftablesReader.Parse(Nft(ns, "-j list table ip lvsevents"));

    private static KernelDestination D(string address, int port, int weight) => new(new DestinationKey(address, port), weight);

    private static KernelService S(string protocol, string vip, int port, string scheduler, int? persistence, params KernelDestination[] destinations) =>
        KernelService.Create(new ServiceKey(protocol, vip, port), scheduler, persistence, null, destinations);

    private static KernelService Mark(uint mark, string protocol, string scheduler, int? persistence, string? netmask, params KernelDestination[] destinations) =>
        KernelService.Create(ServiceKey.ForMark(mark, protocol), scheduler, persistence, netmask, destinations);

    public static TheoryData<string> Tables() => new(TableCases.Keys);

    private static readonly Dictionary<string, KernelTable> TableCases = new()
    {
        ["random and source-hash"] = KernelTable.Of(
        [
            S("TCP", "10.0.0.1", 80, "wrr", null, D("10.1.0.1", 80, 3), D("10.1.0.2", 8080, 2), D("10.1.0.3", 80, 1)),
            S("TCP", "10.0.0.2", 443, "sh", null, D("10.1.0.1", 443, 1), D("10.1.0.2", 443, 1)),
            S("TCP", "10.0.0.3", 80, "wlc", 300, D("10.1.0.5", 80, 5)),
            S("UDP", "10.0.0.5", 53, "rr", null, D("10.1.0.7", 53, 1)),
            S("SCTP", "10.0.0.6", 3868, "sh", null, D("10.1.0.7", 3868, 4), D("10.1.0.8", 3868, 1)),
        ]),
        ["fwmark and portless"] = KernelTable.Of(
        [
            Mark(7, "TCP", "wrr", 60, "255.255.255.0", D("10.1.0.8", 0, 2), D("10.1.0.9", 0, 1)),
            Mark(8, "UDP", "rr", null, null, D("10.1.0.8", 53, 1), D("10.1.0.9", 53, 1)),
            Mark(9, "TCP", "rr", null, null, D("10.1.0.8", 0, 1)),
            S("TCP", "10.0.0.7", 0, "rr", null, D("10.1.0.1", 0, 2), D("10.1.0.2", 0, 1)),
        ]),
        ["all-zero weights drop, idle sets"] = KernelTable.Of(
        [
            S("TCP", "10.0.0.4", 80, "rr", null, D("10.1.0.6", 80, 0)),
            S("TCP", "10.0.0.8", 80, "wrr", null, D("10.1.0.1", 80, 0), D("10.1.0.2", 80, 0), D("10.1.0.3", 80, 2)),
            Mark(10, "TCP", "rr", null, null, D("10.1.0.8", 0, 0)),
            Mark(11, "UDP", "sh", null, null, D("10.1.0.8", 53, 0), D("10.1.0.9", 53, 3)),
            S("UDP", "10.0.0.9", 53, "rr", null),
        ]),
        ["random, seed 1"] = RandomTable(1, 40),
        ["random, seed 2"] = RandomTable(2, 40),
        // 3,000 destinations in one service: its weight map and idle set span several element messages.
        ["one wide service"] = KernelTable.Of(
        [
            S("TCP", "10.0.0.10", 80, "wrr", null, [.. Enumerable.Range(0, 3000).Select(i => D($"10.2.{i / 250}.{1 + i % 250}", 80, i % 7))]),
            S("TCP", "10.0.0.11", 80, "sh", null, [.. Enumerable.Range(0, 2000).Select(i => D($"10.3.{i / 250}.{1 + i % 250}", 80, 1))]),
        ]),
        ["empty"] = KernelTable.Empty,
    };

    /// <summary>Services of every kind, weights 0–5 (a few services wholly idle), from a fixed seed.</summary>
    private static KernelTable RandomTable(int seed, int count)
    {
        var random = new Random(seed);
        var protocols = (string[])["TCP", "UDP", "SCTP"];
        var schedulers = (string[])["wrr", "rr", "sh", "wlc", "lc"];
        var services = new List<KernelService>();
        for (var s = 0; s < count; s++)
        {
            var protocol = protocols[random.Next(protocols.Length)];
            var portless = random.Next(4) == 0;
            var destinations = Enumerable.Range(0, random.Next(0, 30))
                .Select(d => D($"10.{50 + s}.{d / 200}.{1 + d % 200}", portless ? 0 : 1000 + random.Next(50), random.Next(6)))
                .ToArray();
            int? persistence = random.Next(3) == 0 ? 60 + random.Next(600) : null;
            var scheduler = schedulers[random.Next(schedulers.Length)];
            services.Add(random.Next(5) == 0
                ? Mark((uint)(100 + s), protocol, scheduler, persistence, persistence is null ? null : "255.255.255.0", destinations)
                : S(protocol, $"10.0.{s / 200}.{1 + s % 200}", portless ? 0 : 1 + random.Next(60000), scheduler, persistence, destinations));
        }

        return KernelTable.Of(services);
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task A_table_written_through_netlink_reads_back_as_desired_and_lists_as_nft_f_makes_it(string name)
    {
        var table = TableCases[name];
        Assert.Equal("netlink", _backend.WritePath);

        await _backend.ReplaceAsync(table, default);
        NftFile(Peer, NftablesRuleset.Replace(table));

        var json = ReadJson(Ours);
        Assert.Empty(json.Problems);
        Assert.Equal(table.SaveLines(), json.SaveLines());
        Assert.True(json.SameRules(table));
        var read = await _backend.ReadAsync(default);
        Assert.Equal(table.SaveLines(), read.SaveLines());
        Assert.Equal(Listing(Peer), Listing(Ours));
        Assert.Empty(_log.Messages);
    }

    [Fact]
    public async Task A_second_replace_swaps_the_whole_table_and_removes_what_is_gone()
    {
        var first = TableCases["random, seed 1"];
        var second = TableCases["fwmark and portless"];
        await _backend.ReplaceAsync(first, default);
        await _backend.ReplaceAsync(second, default);
        NftFile(Peer, NftablesRuleset.Replace(second));

        Assert.Equal(second.SaveLines(), ReadJson(Ours).SaveLines());
        Assert.Equal(Listing(Peer), Listing(Ours));
        var listing = Listing(Ours);
        Assert.All(first.Services.Keys.Where(k => !second.Services.ContainsKey(k)), k => Assert.DoesNotContain($"chain {NftablesRuleset.ChainName(k)} {{", listing));
    }

    [Fact]
    public async Task Patches_add_change_and_remove_services_as_the_nft_text_of_the_same_patch_does()
    {
        var before = TableCases["random and source-hash"].With(TableCases["fwmark and portless"].Services.Values.First());
        await _backend.ReplaceAsync(before, default);
        NftFile(Peer, NftablesRuleset.Replace(before));
        var current = await _backend.ReadAsync(default);

        var steps = new List<KernelTable>
        {
            // A weight change, a destination drained to 0 and one added.
            before.With(S("TCP", "10.0.0.1", 80, "wrr", null, D("10.1.0.1", 80, 1), D("10.1.0.2", 8080, 0), D("10.1.0.3", 80, 1), D("10.1.0.4", 80, 4))),
            // A service removed, a service and a fwmark service added.
            before.Without(new ServiceKey("TCP", "10.0.0.2", 443))
                .With(S("UDP", "10.0.0.20", 5353, "sh", null, D("10.1.0.1", 5353, 2)))
                .With(Mark(42, "UDP", "rr", null, null, D("10.1.0.9", 0, 1))),
            // Everything to weight 0 (drop), the fwmark service removed, then whole services removed.
            before.With(S("TCP", "10.0.0.3", 80, "wlc", 300, D("10.1.0.5", 80, 0))).Without(ServiceKey.ForMark(7)),
            KernelTable.Of([S("TCP", "10.0.0.3", 80, "wlc", 300, D("10.1.0.5", 80, 2))]),
        };
        foreach (var target in steps)
        {
            var operations = KernelTableDiff.Compute(target, current);
            Assert.NotEmpty(operations);
            await _backend.ApplyAsync(current, operations, target, default);
            NftFile(Peer, _backend.LastTransaction);

            current = await _backend.ReadAsync(default);
            Assert.Empty(current.Problems);
            Assert.Equal(target.SaveLines(), current.SaveLines());
            Assert.Equal(target.SaveLines(), ReadJson(Ours).SaveLines());
            Assert.Equal(Listing(Peer), Listing(Ours));
        }
    }

    [Fact]
    public async Task A_refused_patch_leaves_the_previous_table_intact_and_names_the_object_and_errno()
    {
        var table = TableCases["random and source-hash"];
        await _backend.ReplaceAsync(table, default);
        var read = await _backend.ReadAsync(default);
        var listing = Listing(Ours);

        // The first service's change is valid; the second service's idle set was deleted by hand, so flushing it fails.
        Nft(Ours, "delete set ip lvsevents s_tcp_10_0_0_2_443_q");
        var broken = Listing(Ours);
        var target = table
            .With(S("TCP", "10.0.0.1", 80, "wrr", null, D("10.1.0.1", 80, 9)))
            .With(S("TCP", "10.0.0.2", 443, "sh", null, D("10.1.0.1", 443, 1)));
        var operations = KernelTableDiff.Compute(target, read);

        var error = await Assert.ThrowsAsync<KernelTableException>(() => _backend.ApplyAsync(read, operations, target, default));

        Assert.Contains("nothing was changed", error.Message);
        Assert.Contains("flush set s_tcp_10_0_0_2_443_q (TCP 10.0.0.2:443)", error.Message);
        Assert.Contains("No such file or directory (ENOENT, errno 2)", error.Message);
        Assert.Equal(broken, Listing(Ours));
        Assert.NotEqual(listing, broken);
        Assert.Contains("3-4 : 10.1.0.2 . 8080", broken);
    }

    [Fact]
    public async Task Removing_a_service_that_is_not_there_is_refused_whole()
    {
        var table = TableCases["fwmark and portless"];
        await _backend.ReplaceAsync(table, default);
        var listing = Listing(Ours);
        var ghost = Mark(77, "TCP", "rr", null, null, D("10.1.0.1", 0, 1));
        var edited = table.With(Mark(9, "TCP", "rr", null, null, D("10.1.0.8", 0, 5)));
        var operations = KernelTableDiff.Compute(edited, table.With(ghost));

        var error = await Assert.ThrowsAsync<KernelTableException>(() => _backend.ApplyAsync(table.With(ghost), operations, edited, default));

        Assert.Contains("delete element FWM 77 from map fwmarks", error.Message);
        Assert.Contains("ENOENT", error.Message);
        Assert.Equal(listing, Listing(Ours));
        Assert.Equal(table.SaveLines(), (await _backend.ReadAsync(default)).SaveLines());
    }

    [Fact]
    public async Task A_service_the_encoder_does_not_handle_goes_through_libnftables_and_says_so_once()
    {
        var table = KernelTable.Of([S("DCCP", "10.0.0.30", 5004, "rr", null, D("10.1.0.1", 5004, 1)), S("TCP", "10.0.0.31", 80, "rr", null, D("10.1.0.2", 80, 1))]);

        await _backend.ReplaceAsync(table, default);
        await _backend.ReplaceAsync(table, default);
        NftFile(Peer, NftablesRuleset.Replace(table));

        Assert.Equal(table.SaveLines(), (await _backend.ReadAsync(default)).SaveLines());
        Assert.Equal(Listing(Peer), Listing(Ours));
        var message = Assert.Single(_log.Messages);
        Assert.Contains("protocol DCCP", message);
        Assert.Contains("libnftables", message);
    }

    [Fact]
    public void The_backend_writes_through_netlink_unless_told_otherwise()
    {
        // The traffic tests, the reconciler tests and the service construct it this way.
        using var plain = new NftablesBackend(new LibNftables(Peer));
        using var text = new NftablesBackend(new LibNftables(Peer), netlink: false);

        Assert.Equal("netlink", plain.WritePath);
        Assert.Equal("libnftables", text.WritePath);
    }

    [Fact]
    public async Task Disposing_the_backend_twice_is_harmless()
    {
        // The service's DI container and the statistics poller may both dispose a backend they hold.
        var backend = new NftablesBackend(new LibNftables(Peer));
        await backend.ReplaceAsync(TableCases["random and source-hash"], default);
        backend.Dispose();
        backend.Dispose();

        await Assert.ThrowsAnyAsync<ObjectDisposedException>(() => backend.ReadAsync(default));
    }

    private sealed class CapturingLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
