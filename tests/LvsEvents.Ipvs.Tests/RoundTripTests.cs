using System.Net;

namespace LvsEvents.Ipvs.Tests;

/// <summary>Random services and destinations: what is encoded for NEW_* decodes to the same configuration.</summary>
public class RoundTripTests
{
    private static readonly string[] Schedulers = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"];

    private static IPAddress RandomAddress(Random random, bool v6)
    {
        var bytes = new byte[v6 ? 16 : 4];
        random.NextBytes(bytes);
        return new IPAddress(bytes);
    }

    [Fact]
    public void RandomServicesAndDestinationsSurviveEncodeDecode()
    {
        var random = new Random(20261125);
        for (var i = 0; i < 2000; i++)
        {
            var v6 = random.Next(2) == 0;
            var fwmark = random.Next(4) == 0;
            var service = fwmark
                ? IpvsService.Fwmark((uint)random.Next(1, int.MaxValue), v6 ? IpvsAddressFamily.IPv6 : IpvsAddressFamily.IPv4, Schedulers[random.Next(Schedulers.Length)])
                : new IpvsService
                {
                    Protocol = new[] { IpvsProtocol.Tcp, IpvsProtocol.Udp, IpvsProtocol.Sctp }[random.Next(3)],
                    Address = RandomAddress(random, v6),
                    Port = (ushort)random.Next(65536),
                    Scheduler = Schedulers[random.Next(Schedulers.Length)],
                };
            service = service with { Flags = (IpvsServiceFlags)(random.Next(64) & ~(int)IpvsServiceFlags.Hashed) };
            if (service.Flags.HasFlag(IpvsServiceFlags.Persistent))
            {
                service = service with
                {
                    PersistenceTimeout = (uint)random.Next(1, 100000),
                    Netmask = v6 ? (uint)random.Next(1, 128) : IpvsService.Ipv4Netmask(random.Next(0, 32)),
                    PersistenceEngine = random.Next(3) == 0 ? "sip" : null,
                };
            }
            var method = (IpvsForwardMethod)random.Next(4);
            var destination = new IpvsDestination
            {
                Address = RandomAddress(random, random.Next(5) == 0 ? !v6 : v6),
                Port = (ushort)random.Next(65536),
                ForwardMethod = method,
                Weight = random.Next(0, 65536),
                UpperThreshold = (uint)random.Next(),
                LowerThreshold = (uint)random.Next(),
                TunnelType = method == IpvsForwardMethod.Tunnel ? (IpvsTunnelType)random.Next(3) : IpvsTunnelType.IpIp,
                TunnelPort = method == IpvsForwardMethod.Tunnel ? (ushort)random.Next(65536) : (ushort)0,
                TunnelFlags = method == IpvsForwardMethod.Tunnel ? (IpvsTunnelFlags)random.Next(3) : IpvsTunnelFlags.NoChecksum,
            };

            var writer = new NetlinkMessageWriter();
            IpvsMessages.WriteOperation(writer, 0x20, (uint)i, IpvsOperation.AddDestination(service, destination));
            var payload = writer.ToArray()[16..];
            // AddDestination carries only the service's key; decode the destination with the service's family.
            Assert.Equal(service.Key, IpvsMessages.ReadServiceMessage(payload).Key);
            var decoded = IpvsMessages.ReadDestinationMessage(payload, service.Family);
            Assert.True(destination.ConfigurationEquals(decoded), $"{destination.Describe()} came back as {decoded.Describe()}");

            writer.Clear();
            IpvsMessages.WriteOperation(writer, 0x20, (uint)i, IpvsOperation.AddService(service));
            var decodedService = IpvsMessages.ReadServiceMessage(writer.ToArray()[16..]);
            Assert.True(service.ConfigurationEquals(decodedService), $"{service.Describe()} came back as {decodedService.Describe()}");
        }
    }
}
