namespace LvsEvents.Ipvs.Tests;

/// <summary>A real generic netlink socket on this machine's kernel (which has no IPVS; the qemu test covers one that has).</summary>
public class HostKernelTests
{
    private static bool HostHasIpvs =>
        File.Exists("/proc/net/ip_vs") || Directory.Exists($"/lib/modules/{File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}/kernel/net/netfilter/ipvs")
        || (File.Exists("/proc/modules") && File.ReadAllText("/proc/modules").Contains("ip_vs ", StringComparison.Ordinal));

    [Fact]
    public void TheGenericNetlinkControllerResolvesItself()
    {
        using var socket = GenericNetlinkSocket.Open();
        Assert.Equal((ushort)0x10, socket.ResolveFamily("nlctrl"));
        Assert.Null(socket.ResolveFamily("NoSuchFamily"));
    }

    [Fact]
    public void WithoutIpvsOpenSaysWhatToLoad()
    {
        if (HostHasIpvs)
        {
            using var client = IpvsClient.Open();
            Assert.True(client.FamilyId > 0x10);
            return;
        }
        Assert.False(IpvsClient.IsAvailable());
        var e = Assert.Throws<IpvsNotAvailableException>(() => IpvsClient.Open());
        Assert.Equal("IPVS is not available in this kernel (no generic netlink family IPVS): load ip_vs (modprobe ip_vs)", e.Message);
    }

    [Fact]
    public void OpenInNamespaceJoinsTheNamespaceAndReportsWhatItFinds()
    {
        Assert.Throws<FileNotFoundException>(() => IpvsClient.OpenInNamespace("lvsevents-no-such-namespace"));
        if (HostHasIpvs)
        {
            IpvsClient.OpenInNamespace("/proc/self/ns/net").Dispose();
            return;
        }
        var e = Assert.Throws<IpvsNotAvailableException>(() => IpvsClient.OpenInNamespace("/proc/self/ns/net"));
        Assert.StartsWith("IPVS is not available in this kernel", e.Message);
    }
}
