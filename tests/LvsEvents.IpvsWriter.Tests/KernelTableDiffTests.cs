using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Reconciliation;
using LvsEvents.IpvsWriter.Table;

namespace LvsEvents.IpvsWriter.Tests;

public sealed class KernelTableDiffTests
{
    private static KernelTable RandomTable(Random random)
    {
        var services = new List<KernelService>();
        for (var s = 0; s < random.Next(0, 6); s++)
        {
            var key = new ServiceKey("TCP", $"10.0.0.{random.Next(1, 5)}", 80);
            var destinations = Enumerable.Range(0, random.Next(0, 5))
                .Select(_ => new KernelDestination(new DestinationKey($"10.1.0.{random.Next(1, 6)}", 80), random.Next(0, 4)));
            services.Add(KernelService.Create(key, random.Next(2) == 0 ? "wrr" : "rr", random.Next(3) == 0 ? 300 : null, null, destinations));
        }

        return KernelTable.Of(services);
    }

    [Fact]
    public void Applying_the_diff_to_the_actual_table_gives_the_desired_one_and_nothing_is_left_to_do()
    {
        var random = new Random(20261125);
        for (var i = 0; i < 2000; i++)
        {
            var desired = RandomTable(random);
            var actual = RandomTable(random);

            var operations = KernelTableDiff.Compute(desired, actual);
            var result = KernelTableDiff.Apply(actual, operations);

            Assert.Equal(desired.SaveLines(), result.SaveLines());
            Assert.Empty(KernelTableDiff.Compute(desired, result));
            // Minimal: at most one operation per service and per destination that differs.
            Assert.True(operations.Count <= desired.Services.Count + actual.Services.Count + desired.DestinationCount + actual.DestinationCount);
        }
    }

    [Fact]
    public void Order_adds_before_deletes_so_a_service_never_passes_through_empty()
    {
        var key = new ServiceKey("TCP", "10.0.0.1", 80);
        var actual = KernelTable.Of([KernelService.Create(key, "wrr", null, null, [new KernelDestination(new DestinationKey("10.1.0.1", 80), 1)]),
            KernelService.Create(new ServiceKey("UDP", "10.0.0.9", 53), "rr", null, null, [])]);
        var desired = KernelTable.Of([KernelService.Create(key, "rr", null, null, [new KernelDestination(new DestinationKey("10.1.0.2", 80), 1)])]);

        var operations = KernelTableDiff.Compute(desired, actual);

        Assert.Equal([KernelOperation.EditService, KernelOperation.AddDestination, KernelOperation.DeleteDestination, KernelOperation.DeleteService], operations.Select(o => o.Kind));
        Assert.Equal(["differs: -A -t 10.0.0.1:80 -s wrr (want -A -t 10.0.0.1:80 -s rr)", "missing: -a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 1",
            "unexpected: -a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 1", "unexpected: -A -u 10.0.0.9:53 -s rr"], operations.Select(o => o.Describe()));
    }

    [Fact]
    public void Save_format_matches_ipvsadm()
    {
        var table = KernelTable.Of(
        [
            KernelService.Create(new ServiceKey("TCP", "192.168.1.100", 80), "wlc", 50, "255.255.255.0",
                [new KernelDestination(new DestinationKey("192.168.1.20", 80), 1, Keepalived.Model.ForwardingMethod.DirectRouting, 100, 10)]),
            KernelService.Create(new ServiceKey("SCTP", "2001:db8::1", 9), "sh", null, null, [new KernelDestination(new DestinationKey("2001:db8::2", 9), 2, Keepalived.Model.ForwardingMethod.Tunnel)]),
            KernelService.Create(ServiceKey.ForMark(3, "UDP"), "rr", 360, "255.255.255.255", []),
        ]);

        Assert.Equal(
            [
                "-A --sctp-service [2001:db8::1]:9 -s sh",
                "-a --sctp-service [2001:db8::1]:9 -r [2001:db8::2]:9 -i -w 2 --tun-type ipip",
                "-A -t 192.168.1.100:80 -s wlc -p 50 -M 255.255.255.0",
                "-a -t 192.168.1.100:80 -r 192.168.1.20:80 -g -w 1 -x 100 -y 10",
                "-A -f 3 -s rr -p 360",
            ],
            table.SaveLines());
    }

    [Fact]
    public void The_writer_takes_its_own_node_health_and_everyone_s_commands()
    {
        var server = RealServerRef.Parse("TCP/10.0.0.1:80->10.1.0.1:80");
        Assert.True(WriterEventConsumer.Relevant(Config.Down("TCP/10.0.0.1:80", "10.1.0.1:80") with { NodeId = "d1" }, "d1"));
        Assert.False(WriterEventConsumer.Relevant(Config.Down("TCP/10.0.0.1:80", "10.1.0.1:80") with { NodeId = "d2" }, "d1"));
        Assert.True(WriterEventConsumer.Relevant(new DrainCommand { RealServer = server, Timeout = TimeSpan.FromSeconds(1), RequestedBy = "ops", NodeId = "d2" }, "d1"));
        Assert.False(WriterEventConsumer.Relevant(new KernelRuleApplied { Backend = "nftables", Operation = KernelOperation.AddService, VirtualService = server.VirtualService, NodeId = "d1" }, "d1"));
    }
}
