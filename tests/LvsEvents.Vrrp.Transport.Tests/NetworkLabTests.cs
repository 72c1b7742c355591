namespace LvsEvents.Vrrp.Transport.Tests;

public sealed class NetworkLabTests
{
    [Fact] // bounded by NetworkLab's 10 s limit per command and 6 s per process at teardown
    public void Nodes_are_bridged_and_dispose_removes_namespaces_and_processes()
    {
        string[] namespaces;
        LabProcess sleeper;
        using (var lab = new NetworkLab())
        {
            var a = lab.AddNode("a", 1);
            var b = lab.AddNode("b", 2);
            namespaces = [lab.LanNamespace, a.Namespace, b.Namespace];
            Assert.All(namespaces, ns => Assert.StartsWith(NetworkLab.Prefix, ns));
            Assert.Equal([a.Address], a.Addresses());

            // Both nodes' veths are ports of the LAN bridge (traffic across it is what the keepalived tests show).
            var ports = NetworkLab.Run("ip", $"-n {lab.LanNamespace} -o link show master br0");
            Assert.Contains("va@", ports);
            Assert.Contains("vb@", ports);
            sleeper = b.Start("sleep", "60");
        }

        Assert.True(sleeper.HasExited, "the process started in the lab outlived it");
        var left = NetworkLab.Run("ip", "netns list");
        Assert.All(namespaces, ns => Assert.DoesNotContain(ns, left));
    }
}
