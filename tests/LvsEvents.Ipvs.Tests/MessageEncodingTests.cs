using System.Buffers.Binary;
using System.Net;

namespace LvsEvents.Ipvs.Tests;

public class MessageEncodingTests
{
    private const ushort Family = 0x23;

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    [Fact]
    public void GetFamilyRequestIsByteExact()
    {
        var writer = new NetlinkMessageWriter();
        IpvsMessages.WriteGetFamily(writer, 7);
        // nlmsghdr: len 32, type GENL_ID_CTRL, flags REQUEST|ACK, seq 7, pid 0; genlmsghdr: CTRL_CMD_GETFAMILY v1;
        // CTRL_ATTR_FAMILY_NAME "IPVS\0" padded to 4.
        Assert.Equal(Hex("20000000 1000 0500 07000000 00000000 03010000 0900 0200 49505653 00 000000"), writer.ToArray());
    }

    [Fact]
    public void FamilyIdIsReadFromTheControllerAnswer()
    {
        var writer = new NetlinkMessageWriter();
        writer.BeginMessage(0x10, 0, 1, 1, 2);
        writer.PutString(IpvsMessages.ControlAttrFamilyName, "IPVS");
        writer.PutU16(IpvsMessages.ControlAttrFamilyId, 0x1b);
        writer.PutU32(3, 1); // CTRL_ATTR_VERSION
        writer.EndMessage();
        Assert.Equal(0x1b, IpvsMessages.ReadFamilyId(writer.Written[16..]));
    }

    [Fact]
    public void NewServiceCarriesEveryServiceAttribute()
    {
        var service = IpvsService.Tcp(IPAddress.Parse("10.0.0.1"), 80, "wrr").WithPersistence(300, IpvsService.Ipv4Netmask(24)) with { PersistenceEngine = "sip" };
        var writer = new NetlinkMessageWriter();
        IpvsMessages.WriteRequest(writer, Family, IpvsCommand.NewService, 9, service);
        var bytes = writer.ToArray();

        Assert.Equal(bytes.Length, BinaryPrimitives.ReadInt32LittleEndian(bytes));
        Assert.Equal(Family, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(0x5, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6))); // REQUEST | ACK
        Assert.Equal(9u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(new byte[] { 1, 1, 0, 0 }, bytes[16..20]); // IPVS_CMD_NEW_SERVICE, version 1

        var top = Attributes(bytes[20..]);
        var (nestType, nested) = Assert.Single(top);
        Assert.Equal(0x8000 | IpvsMessages.CmdAttrService, nestType);
        var a = Attributes(nested).ToDictionary(x => x.Type, x => x.Value);
        Assert.Equal(Hex("0200"), a[IpvsMessages.SvcAttrAf]);
        Assert.Equal(Hex("0600"), a[IpvsMessages.SvcAttrProtocol]);
        Assert.Equal(Hex("0A000001 00000000 00000000 00000000"), a[IpvsMessages.SvcAttrAddr]);
        Assert.Equal(Hex("0050"), a[IpvsMessages.SvcAttrPort]); // network byte order
        Assert.Equal("wrr\0"u8.ToArray(), a[IpvsMessages.SvcAttrSchedName]);
        Assert.Equal("sip\0"u8.ToArray(), a[IpvsMessages.SvcAttrPeName]);
        Assert.Equal(Hex("01000000 FFFFFFFF"), a[IpvsMessages.SvcAttrFlags]); // persistent, mask all
        Assert.Equal(Hex("2C010000"), a[IpvsMessages.SvcAttrTimeout]);
        Assert.Equal(Hex("FFFFFF00"), a[IpvsMessages.SvcAttrNetmask]); // __be32 255.255.255.0
        Assert.False(a.ContainsKey(IpvsMessages.SvcAttrFwmark));
    }

    [Fact]
    public void DeleteServiceByFirewallMarkCarriesOnlyTheKey()
    {
        var writer = new NetlinkMessageWriter();
        IpvsMessages.WriteRequest(writer, Family, IpvsCommand.DeleteService, 1, IpvsService.Fwmark(7, IpvsAddressFamily.IPv6));
        var nested = Attributes(writer.ToArray()[20..]).Single().Value;
        var a = Attributes(nested).ToDictionary(x => x.Type, x => x.Value);
        Assert.Equal([IpvsMessages.SvcAttrAf, IpvsMessages.SvcAttrFwmark], a.Keys.Order().ToArray());
        Assert.Equal(Hex("0A00"), a[IpvsMessages.SvcAttrAf]);
        Assert.Equal(Hex("07000000"), a[IpvsMessages.SvcAttrFwmark]);
    }

    [Fact]
    public void Ipv6ServiceNetmaskIsAPrefixLength()
    {
        var service = IpvsService.Tcp(IPAddress.Parse("2001:db8::1"), 443, "mh").WithPersistence(60, 64);
        var writer = new NetlinkMessageWriter();
        IpvsMessages.WriteService(writer, service, full: true);
        var a = Attributes(Attributes(writer.ToArray()).Single().Value).ToDictionary(x => x.Type, x => x.Value);
        Assert.Equal(Hex("0A00"), a[IpvsMessages.SvcAttrAf]);
        Assert.Equal(IPAddress.Parse("2001:db8::1").GetAddressBytes(), a[IpvsMessages.SvcAttrAddr]);
        Assert.Equal(Hex("01BB"), a[IpvsMessages.SvcAttrPort]);
        Assert.Equal(Hex("40000000"), a[IpvsMessages.SvcAttrNetmask]);

        var defaults = new NetlinkMessageWriter();
        IpvsMessages.WriteService(defaults, IpvsService.Tcp(IPAddress.Parse("2001:db8::1"), 443), full: true);
        Assert.Equal(Hex("80000000"), Attributes(Attributes(defaults.ToArray()).Single().Value).Single(x => x.Type == IpvsMessages.SvcAttrNetmask).Value);
    }

    [Fact]
    public void NewDestinationCarriesServiceKeyAndEveryDestinationAttribute()
    {
        var service = IpvsService.Udp(IPAddress.Parse("10.0.0.1"), 53);
        var destination = new IpvsDestination
        {
            Address = IPAddress.Parse("10.0.1.20"), Port = 5353, ForwardMethod = IpvsForwardMethod.Tunnel, Weight = 3,
            UpperThreshold = 100, LowerThreshold = 10, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080,
            TunnelFlags = IpvsTunnelFlags.RemoteChecksum,
        };
        var writer = new NetlinkMessageWriter();
        IpvsMessages.WriteOperation(writer, Family, 3, IpvsOperation.AddDestination(service, destination));
        var bytes = writer.ToArray();
        Assert.Equal((byte)IpvsCommand.NewDestination, bytes[16]);
        var top = Attributes(bytes[20..]);
        Assert.Equal([0x8000 | IpvsMessages.CmdAttrService, 0x8000 | IpvsMessages.CmdAttrDestination], top.Select(x => (int)x.Type).ToArray());
        var svc = Attributes(top[0].Value).ToDictionary(x => x.Type, x => x.Value);
        Assert.False(svc.ContainsKey(IpvsMessages.SvcAttrSchedName)); // only the key
        var a = Attributes(top[1].Value).ToDictionary(x => x.Type, x => x.Value);
        Assert.Equal(Hex("0A000114 00000000 00000000 00000000"), a[IpvsMessages.DestAttrAddr]);
        Assert.Equal(Hex("14E9"), a[IpvsMessages.DestAttrPort]);
        Assert.Equal(Hex("02000000"), a[IpvsMessages.DestAttrFwdMethod]);
        Assert.Equal(Hex("03000000"), a[IpvsMessages.DestAttrWeight]);
        Assert.Equal(Hex("64000000"), a[IpvsMessages.DestAttrUThresh]);
        Assert.Equal(Hex("0A000000"), a[IpvsMessages.DestAttrLThresh]);
        Assert.Equal(Hex("0200"), a[IpvsMessages.DestAttrAddrFamily]);
        Assert.Equal(Hex("01"), a[IpvsMessages.DestAttrTunType]);
        Assert.Equal(Hex("17C0"), a[IpvsMessages.DestAttrTunPort]);
        Assert.Equal(Hex("0200"), a[IpvsMessages.DestAttrTunFlags]);
    }

    [Fact]
    public void DeleteDestinationCarriesOnlyAddressAndPort()
    {
        var writer = new NetlinkMessageWriter();
        IpvsMessages.WriteOperation(writer, Family, 3, IpvsOperation.DeleteDestination(IpvsService.Fwmark(5), new IpvsDestination { Address = IPAddress.Parse("10.0.1.2"), Port = 0 }));
        var top = Attributes(writer.ToArray()[20..]);
        Assert.Equal([IpvsMessages.DestAttrAddr, IpvsMessages.DestAttrPort], Attributes(top[1].Value).Select(x => x.Type).ToArray());
    }

    [Fact]
    public void NegativeWeightIsRefusedBeforeTheKernel()
    {
        var writer = new NetlinkMessageWriter();
        var e = Assert.Throws<ArgumentException>(() => IpvsMessages.WriteOperation(writer, Family, 1,
            IpvsOperation.AddDestination(IpvsService.Fwmark(1), new IpvsDestination { Address = IPAddress.Loopback, Weight = -1 })));
        Assert.Contains("weight -1 is negative", e.Message);
    }

    [Fact]
    public void TimeoutsAndDaemonRequests()
    {
        var writer = new NetlinkMessageWriter();
        IpvsMessages.WriteSetTimeouts(writer, Family, 1, new IpvsTimeouts(900, 120, 300));
        var a = Attributes(writer.ToArray()[20..]).ToDictionary(x => x.Type, x => x.Value);
        Assert.Equal(Hex("84030000"), a[IpvsMessages.CmdAttrTimeoutTcp]);
        Assert.Equal(Hex("78000000"), a[IpvsMessages.CmdAttrTimeoutTcpFin]);
        Assert.Equal(Hex("2C010000"), a[IpvsMessages.CmdAttrTimeoutUdp]);

        writer.Clear();
        IpvsMessages.WriteDaemon(writer, Family, 2, IpvsCommand.NewDaemon, new IpvsSyncDaemon
        {
            State = IpvsSyncState.Backup, Interface = "eth0", SyncId = 9, MaxLength = 1400,
            MulticastGroup = IPAddress.Parse("224.0.0.82"), MulticastPort = 8849, MulticastTtl = 2,
        });
        var d = Attributes(Attributes(writer.ToArray()[20..]).Single().Value).ToDictionary(x => x.Type, x => x.Value);
        Assert.Equal(Hex("02000000"), d[IpvsMessages.DaemonAttrState]);
        Assert.Equal("eth0\0"u8.ToArray(), d[IpvsMessages.DaemonAttrMcastIfn]);
        Assert.Equal(Hex("09000000"), d[IpvsMessages.DaemonAttrSyncId]);
        Assert.Equal(Hex("7805"), d[IpvsMessages.DaemonAttrSyncMaxLen]);
        Assert.Equal(Hex("E0000052"), d[IpvsMessages.DaemonAttrMcastGroup]);
        Assert.Equal(Hex("9122"), d[IpvsMessages.DaemonAttrMcastPort]); // host order, as the kernel's nla_get_u16
        Assert.Equal(Hex("02"), d[IpvsMessages.DaemonAttrMcastTtl]);

        writer.Clear();
        IpvsMessages.WriteDaemon(writer, Family, 3, IpvsCommand.DeleteDaemon, new IpvsSyncDaemon { State = IpvsSyncState.Master, Interface = "" });
        Assert.Equal([IpvsMessages.DaemonAttrState], Attributes(Attributes(writer.ToArray()[20..]).Single().Value).Select(x => x.Type).ToArray());
    }

    [Fact]
    public void DumpRequestsAskForADumpWithoutAck()
    {
        var writer = new NetlinkMessageWriter();
        IpvsMessages.WriteSimple(writer, Family, 4, IpvsCommand.GetService, dump: true);
        Assert.Equal(Hex("14000000 2300 0103 04000000 00000000 04010000"), writer.ToArray());
    }

    [Fact]
    public void BatchedMessagesFollowEachOther()
    {
        var writer = new NetlinkMessageWriter();
        IpvsMessages.WriteOperation(writer, Family, 1, IpvsOperation.DeleteService(IpvsService.Fwmark(1)));
        var first = writer.Length;
        IpvsMessages.WriteOperation(writer, Family, 2, IpvsOperation.DeleteService(IpvsService.Fwmark(2)));
        var bytes = writer.ToArray();
        Assert.Equal(first, BinaryPrimitives.ReadInt32LittleEndian(bytes));
        Assert.Equal(bytes.Length - first, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(first)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(first + 8)));
    }

    /// <summary>An independent reading of netlink attributes (type with flags, raw value), for checking the writer.</summary>
    internal static List<(ushort Type, byte[] Value)> Attributes(byte[] data)
    {
        var result = new List<(ushort, byte[])>();
        var position = 0;
        while (position < data.Length)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(position));
            var type = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(position + 2));
            Assert.True(length >= 4 && position + length <= data.Length, $"attribute at {position} has length {length}");
            result.Add((type, data[(position + 4)..(position + length)]));
            for (var pad = position + length; pad < Math.Min(data.Length, (position + length + 3) & ~3); pad++)
            {
                Assert.Equal(0, data[pad]);
            }
            position = (position + length + 3) & ~3;
        }
        return result;
    }
}
