using System.Security.Cryptography;
using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>A bare network namespace of our own, for nftables tables that must never touch the host's ruleset.</summary>
public sealed class NftNamespace : IDisposable
{
    public NftNamespace()
    {
        Name = $"{WriterLab.Prefix}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}-nft";
        WriterLab.Run("ip", $"netns add {Name}");
        Nft = new LibNftables(Name);
    }

    public string Name { get; }

    public LibNftables Nft { get; }

    public string Cli(string arguments) => WriterLab.Run("ip", $"netns exec {Name} nft {arguments}");

    public void Dispose()
    {
        Nft.Dispose();
        WriterLab.Run("ip", $"netns del {Name}");
    }
}

public sealed class NftablesBackendTests : IDisposable
{
    private readonly NftNamespace _ns = new();
    private readonly NftablesBackend _backend;

    public NftablesBackendTests() => _backend = new NftablesBackend(_ns.Nft);

    public void Dispose() => _ns.Dispose();

    private static KernelService Service(string address, int port, string scheduler, int? persistence, params (string Address, int Port, int Weight)[] destinations) =>
        KernelService.Create(new ServiceKey("TCP", address, port), scheduler, persistence, null,
            destinations.Select(d => new KernelDestination(new DestinationKey(d.Address, d.Port), d.Weight)));

    private static readonly KernelTable Sample = KernelTable.Of(
    [
        Service("10.0.0.1", 80, "wrr", null, ("10.1.0.1", 80, 3), ("10.1.0.2", 8080, 2), ("10.1.0.3", 80, 1), ("10.1.0.4", 80, 0)),
        Service("10.0.0.2", 443, "sh", null, ("10.1.0.1", 443, 1), ("10.1.0.2", 443, 1)),
        Service("10.0.0.3", 80, "wlc", 300, ("10.1.0.5", 80, 5)),
        Service("10.0.0.4", 80, "rr", null, ("10.1.0.6", 80, 0)),
        KernelService.Create(new ServiceKey("UDP", "10.0.0.5", 53), "rr", null, null, [new KernelDestination(new DestinationKey("10.1.0.7", 53), 1)]),
        KernelService.Create(ServiceKey.ForMark(7), "wrr", 60, "255.255.255.0",
            [new KernelDestination(new DestinationKey("10.1.0.8", 0), 2), new KernelDestination(new DestinationKey("10.1.0.9", 0), 1)]),
    ]);

    [Fact]
    public async Task A_replaced_table_reads_back_identical_and_nft_lists_the_weighted_maps()
    {
        Assert.Empty((await _backend.ReadAsync(default)).Services);

        await _backend.ReplaceAsync(Sample, default);
        var read = await _backend.ReadAsync(default);

        Assert.Empty(read.Problems);
        Assert.Equal(Sample.SaveLines(), read.SaveLines());
        var listing = _ns.Cli("list table ip lvsevents");
        Assert.Contains("dnat ip to numgen random mod 6 map { 0-2 : 10.1.0.1 . 80, 3-4 : 10.1.0.2 . 8080, 5 : 10.1.0.3 . 80 }", listing);
        Assert.Contains("dnat ip to jhash ip saddr mod 2 seed 0x0 map { 0 : 10.1.0.1 . 443, 1 : 10.1.0.2 . 443 }", listing);
        Assert.Contains("elements = { 10.1.0.4 . 80 }", listing);
        // Each translating chain ends with its fallback to the heaviest destination; a dropping chain has none.
        Assert.Contains("meta l4proto tcp dnat to 10.1.0.1:80 comment \"lvs-fallback\"", listing);
        Assert.Contains("meta l4proto tcp dnat to 10.1.0.5:80 comment \"lvs-fallback\"", listing);
        Assert.Contains("dnat to 10.1.0.8 comment \"lvs-fallback\"", listing);
        Assert.DoesNotContain("lvs-fallback", _ns.Cli("list chain ip lvsevents s_tcp_10_0_0_4_80"));
    }

    [Fact]
    public async Task A_fallback_rule_that_names_a_server_without_weight_is_damage_the_next_apply_rewrites()
    {
        await _backend.ReplaceAsync(Sample, default);

        // Without its fallback (as earlier versions wrote it) the chain reads as it is.
        _ns.Cli("flush chain ip lvsevents s_tcp_10_0_0_3_80");
        _ns.Cli("add rule ip lvsevents s_tcp_10_0_0_3_80 meta l4proto tcp counter dnat to jhash ip saddr mod 5 seed 0x0 map { 0-4 : 10.1.0.5 . 80 } comment \\\"lvs s=wlc p=300\\\"");
        var read = await _backend.ReadAsync(default);
        Assert.Empty(read.Problems);
        Assert.Empty(KernelTableDiff.Compute(Sample, read));

        // A fallback to a server with weight 0 would send a connection where the table sends none.
        _ns.Cli("add rule ip lvsevents s_tcp_10_0_0_3_80 meta l4proto tcp dnat to 10.1.0.4:80 comment \\\"lvs-fallback\\\"");
        read = await _backend.ReadAsync(default);
        Assert.Contains("nftables: TCP 10.0.0.3:80: the fallback rule sends to 10.1.0.4:80, which has no weight", read.Problems);
        var repair = KernelTableDiff.Compute(Sample, read);
        Assert.NotEmpty(repair);
        await _backend.ApplyAsync(read, repair, Sample, default);
        read = await _backend.ReadAsync(default);
        Assert.Empty(read.Problems);
        Assert.Equal(Sample.SaveLines(), read.SaveLines());
        Assert.Contains("dnat to 10.1.0.5:80 comment \"lvs-fallback\"", _ns.Cli("list chain ip lvsevents s_tcp_10_0_0_3_80"));
    }

    [Fact]
    public async Task Incremental_operations_rewrite_only_the_services_they_touch()
    {
        await _backend.ReplaceAsync(Sample, default);
        var before = await _backend.ReadAsync(default);
        var target = Sample
            .With(Sample.Services[new ServiceKey("TCP", "10.0.0.1", 80)].WithDestinations(
                [new KernelDestination(new DestinationKey("10.1.0.1", 80), 1), new KernelDestination(new DestinationKey("10.1.0.9", 80), 4)]))
            .Without(new ServiceKey("TCP", "10.0.0.4", 80))
            .With(Service("10.0.0.6", 25, "rr", null, ("10.1.0.1", 25, 1)));
        var operations = KernelTableDiff.Compute(target, before);

        await _backend.ApplyAsync(before, operations, target, default);

        Assert.Equal(target.SaveLines(), (await _backend.ReadAsync(default)).SaveLines());
        Assert.DoesNotContain("10.0.0.2", _backend.LastTransaction);
        Assert.Contains(KernelOperation.DeleteService, operations.Select(o => o.Kind));
        Assert.DoesNotContain("s_tcp_10_0_0_4_80", _ns.Cli("list table ip lvsevents"));
    }

    [Fact]
    public async Task A_refused_transaction_changes_nothing_and_says_why()
    {
        await _backend.ReplaceAsync(Sample, default);
        var listing = _ns.Cli("list table ip lvsevents");

        // Removing a service that is not there: the kernel refuses the whole batch, the first service's edit included.
        var ghost = new ServiceKey("TCP", "10.9.9.9", 80);
        var edited = Sample.With(Sample.Services[new ServiceKey("TCP", "10.0.0.1", 80)].WithDestinations([new KernelDestination(new DestinationKey("10.1.0.1", 80), 9)]));
        var operations = KernelTableDiff.Compute(edited, Sample.With(Service("10.9.9.9", 80, "rr", null)));
        var error = await Assert.ThrowsAsync<KernelTableException>(() => _backend.ApplyAsync(Sample.With(Service("10.9.9.9", 80, "rr", null)), operations, edited, default));

        Assert.Contains("nothing was changed", error.Message);
        Assert.Contains("No such file or directory", error.Message);
        Assert.Equal(listing, _ns.Cli("list table ip lvsevents"));
        Assert.Contains(ghost, operations.Select(o => o.Service));
    }

    [Fact]
    public async Task Hand_edits_read_back_as_differences()
    {
        await _backend.ReplaceAsync(Sample, default);

        // Someone rewrites a weighted map by hand (10.1.0.3 gets weight 4) and adds a service of their own.
        _ns.Cli("flush chain ip lvsevents s_tcp_10_0_0_1_80");
        _ns.Cli("add rule ip lvsevents s_tcp_10_0_0_1_80 meta l4proto tcp counter dnat to numgen random mod 9 map { 0-2 : 10.1.0.1 . 80, 3-4 : 10.1.0.2 . 8080, 5-8 : 10.1.0.3 . 80 } comment \\\"lvs s=wrr\\\"");
        var read = await _backend.ReadAsync(default);
        var differences = KernelTableDiff.Compute(Sample, read).Select(o => o.Describe()).ToList();

        Assert.Equal(["differs: -a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 4 (want -a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 1)"], differences);

        // A broken dispatch rule is a damaged skeleton: reported, and the next apply rebuilds the table whole.
        _ns.Cli("flush chain ip lvsevents prerouting");
        read = await _backend.ReadAsync(default);
        Assert.Contains(read.Problems, p => p.Contains("chain prerouting", StringComparison.Ordinal));
        await _backend.ApplyAsync(read, KernelTableDiff.Compute(Sample, read), Sample, default);
        read = await _backend.ReadAsync(default);
        Assert.Empty(read.Problems);
        Assert.Equal(Sample.SaveLines(), read.SaveLines());
    }

    [Fact]
    public void Services_nftables_cannot_program_are_named_with_the_reason()
    {
        var dr = KernelService.Create(new ServiceKey("TCP", "10.0.0.1", 80), "rr", null, null,
            [new KernelDestination(new DestinationKey("10.1.0.1", 80), 1, ForwardingMethod.DirectRouting)]);
        var v6 = KernelService.Create(new ServiceKey("TCP", "2001:db8::1", 80), "rr", null, null, []);

        Assert.Equal("TCP 10.0.0.1:80: real server 10.1.0.1:80 uses Route; the nftables backend does NAT only (lb_kind NAT), use IPVS for DR/TUN", _backend.Unsupported(dr));
        Assert.Contains("IPv6", _backend.Unsupported(v6));
        Assert.Null(_backend.Unsupported(Sample.Services.Values.First()));
    }
}
