using LvsEvents.Contracts;
using LvsEvents.Ipvs;
using LvsEvents.IpvsWriter.Backends;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>
/// The IPVS adapter's mapping, checked against the IPVS library's own <c>ipvsadm -S -n</c> formatter (written and
/// checked against real ipvsadm by the library): two independent renderings of the same table must agree. This
/// kernel has no IPVS, so the adapter's kernel round trip runs only under the qemu harness.
/// </summary>
public sealed class IpvsBackendMappingTests
{
    private static readonly KernelTable Table = KernelTable.Of(
    [
        KernelService.Create(new ServiceKey("TCP", "192.168.1.100", 80), "wrr", 300, "255.255.255.0",
        [
            new KernelDestination(new DestinationKey("192.168.1.21", 80), 3, ForwardingMethod.DirectRouting),
            new KernelDestination(new DestinationKey("192.168.1.22", 8080), 0, ForwardingMethod.Nat, 100, 10),
            new KernelDestination(new DestinationKey("192.168.1.23", 80), 1, ForwardingMethod.Tunnel),
        ]),
        KernelService.Create(new ServiceKey("UDP", "10.0.0.53", 53), "sh", null, null, [new KernelDestination(new DestinationKey("10.1.0.1", 53), 2)]),
        KernelService.Create(new ServiceKey("SCTP", "2001:db8::1", 9), "rr", 60, "64", [new KernelDestination(new DestinationKey("2001:db8::2", 9), 1, ForwardingMethod.DirectRouting)]),
        KernelService.Create(ServiceKey.ForMark(7, "UDP"), "lc", null, null, [new KernelDestination(new DestinationKey("10.1.0.9", 0), 5, ForwardingMethod.DirectRouting)]),
    ]);

    private static List<IpvsTableEntry> AsIpvs(KernelTable table) =>
        table.Services.Values.Select(s => new IpvsTableEntry(IpvsBackend.ToService(s), s.Destinations.Values.Select(IpvsBackend.ToDestination).ToList())).ToList();

    [Fact]
    public void Our_save_lines_and_the_ipvs_library_s_formatter_agree()
    {
        var theirs = IpvsFormatter.Save(AsIpvs(Table), thresholds: true).Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal);

        Assert.Equal(theirs, Table.SaveLines().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_table_read_back_from_ipvs_structures_is_the_table_written()
    {
        var read = IpvsBackend.ToTable(AsIpvs(Table), new Dictionary<uint, string> { [7] = "UDP" });

        Assert.Equal(Table.SaveLines(), read.SaveLines());
        Assert.Empty(KernelTableDiff.Compute(Table, read));
    }

    [Fact]
    public void Each_operation_becomes_the_matching_ipvs_request()
    {
        var service = Table.Services[new ServiceKey("TCP", "192.168.1.100", 80)];
        var destination = service.Destinations.Values.First();
        var edited = destination with { Weight = 9 };

        var request = IpvsBackend.ToOperation(new TableOperation(KernelOperation.EditDestination, service.Key, service, service, destination, edited));

        Assert.Equal(IpvsOperationKind.UpdateDestination, request.Kind);
        Assert.Equal(9, request.Destination!.Weight);
        Assert.Equal(IpvsForwardMethod.DirectRoute, request.Destination.ForwardMethod);
        Assert.Equal(0xFFFFFF00u, request.Service.Netmask);
        Assert.True(request.Service.Flags.HasFlag(IpvsServiceFlags.Persistent));
        Assert.Equal(IpvsOperationKind.DeleteService, IpvsBackend.ToOperation(new TableOperation(KernelOperation.DeleteService, service.Key, service, null)).Kind);
    }
}

public sealed class IpvsListingCrossCheckTests
{
    [Fact]
    public void Our_ipvsadm_Ln_layouts_match_the_ipvs_library_s_for_a_table_read_from_ipvs()
    {
        var service = IpvsService.Tcp(System.Net.IPAddress.Parse("192.168.1.100"), 80, "wrr").WithPersistence(300, 0xFFFFFF00) with
        {
            Statistics = new IpvsStatistics(5, 1_234, 0, 123_456_789_012, 7, 0, 0, 0, 0, 0),
        };
        var destinations = new List<IpvsDestination>
        {
            new() { Address = System.Net.IPAddress.Parse("192.168.1.21"), Port = 80, Weight = 3, ForwardMethod = IpvsForwardMethod.Masquerade, ActiveConnections = 12, InactiveConnections = 3,
                Statistics = new IpvsStatistics(4, 10, 20, 300, 400, 0, 0, 0, 0, 0) },
            new() { Address = System.Net.IPAddress.Parse("192.168.1.22"), Port = 80, Weight = 1, ForwardMethod = IpvsForwardMethod.DirectRoute,
                Statistics = new IpvsStatistics(1, 2, 3, 4, 5, 0, 0, 0, 0, 0) },
        };
        var entries = new List<IpvsTableEntry> { new(service, destinations) };
        var info = new IpvsInfo(0x010201, 4096);
        var ours = IpvsBackend.ToTable(entries);
        const string Header = "IP Virtual Server version 1.2.1 (size=4096)";

        Assert.Equal(IpvsFormatter.List(info, entries), IpvsadmListing.Format(ours, IpvsadmListing.Mode.Plain, Header));
        Assert.Equal(IpvsFormatter.List(info, entries, IpvsListFormat.Stats), IpvsadmListing.Format(ours, IpvsadmListing.Mode.Stats, Header));
    }
}
