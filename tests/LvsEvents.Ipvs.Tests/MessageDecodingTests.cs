using System.Net;

namespace LvsEvents.Ipvs.Tests;

/// <summary>Answers built the way the kernel's ip_vs_genl_fill_* functions build them, decoded into records.</summary>
public class MessageDecodingTests
{
    private static byte[] Payload(Action<NetlinkMessageWriter> attributes, byte command = 1)
    {
        var writer = new NetlinkMessageWriter();
        writer.BeginMessage(0x23, 2, 1, command, 1);
        attributes(writer);
        writer.EndMessage();
        return writer.ToArray()[16..];
    }

    private static void Stats(NetlinkMessageWriter w, ushort type, bool wide, ulong baseValue)
    {
        var nest = w.BeginNested(type);
        for (ushort attribute = 1; attribute <= 10; attribute++)
        {
            var value = baseValue + attribute;
            if (wide || attribute is IpvsMessages.StatsInBytes or IpvsMessages.StatsOutBytes)
            {
                w.PutU64(attribute, value);
            }
            else
            {
                w.PutU32(attribute, (uint)value);
            }
        }
        w.EndNested(nest);
    }

    [Fact]
    public void ServiceAnswerDecodesEveryAttributeAndPrefersStats64()
    {
        var payload = Payload(w =>
        {
            var nest = w.BeginNested(IpvsMessages.CmdAttrService);
            w.PutU16(IpvsMessages.SvcAttrAf, 2);
            w.PutU16(IpvsMessages.SvcAttrProtocol, 6);
            w.PutBytes(IpvsMessages.SvcAttrAddr, Convert.FromHexString("0A00000100000000000000000000000000"[..32]));
            w.PutBe16(IpvsMessages.SvcAttrPort, 80);
            w.PutString(IpvsMessages.SvcAttrSchedName, "wrr");
            w.PutString(IpvsMessages.SvcAttrPeName, "sip");
            w.PutBytes(IpvsMessages.SvcAttrFlags, Convert.FromHexString("03000000FFFFFFFF")); // persistent | hashed
            w.PutU32(IpvsMessages.SvcAttrTimeout, 300);
            w.PutBytes(IpvsMessages.SvcAttrNetmask, Convert.FromHexString("FFFFFF00"));
            Stats(w, IpvsMessages.SvcAttrStats, wide: false, 100);
            Stats(w, IpvsMessages.SvcAttrStats64, wide: true, 5_000_000_000);
            w.EndNested(nest);
        });
        var service = IpvsMessages.ReadServiceMessage(payload);
        Assert.Equal(IpvsAddressFamily.IPv4, service.Family);
        Assert.Equal(IpvsProtocol.Tcp, service.Protocol);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), service.Address);
        Assert.Equal(80, service.Port);
        Assert.Equal("wrr", service.Scheduler);
        Assert.Equal("sip", service.PersistenceEngine);
        Assert.Equal(IpvsServiceFlags.Persistent | IpvsServiceFlags.Hashed, service.Flags);
        Assert.Equal(300u, service.PersistenceTimeout);
        Assert.Equal(0xFFFFFF00u, service.Netmask);
        Assert.Equal(new IpvsStatistics(5_000_000_001, 5_000_000_002, 5_000_000_003, 5_000_000_004, 5_000_000_005,
            5_000_000_006, 5_000_000_007, 5_000_000_008, 5_000_000_009, 5_000_000_010), service.Statistics);

        var written = IpvsService.Tcp(IPAddress.Parse("10.0.0.1"), 80, "wrr").WithPersistence(300, IpvsService.Ipv4Netmask(24)) with { PersistenceEngine = "sip" };
        Assert.True(written.ConfigurationEquals(service));
        Assert.Equal("TCP 10.0.0.1:80 wrr persistent 300 mask 255.255.255.0 pe sip", service.Describe());
    }

    [Fact]
    public void DefaultNetmaskReadsAsNullSoWrittenAndReadRecordsCompare()
    {
        var payload = Payload(w =>
        {
            var nest = w.BeginNested(IpvsMessages.CmdAttrService);
            w.PutU16(IpvsMessages.SvcAttrAf, 10);
            w.PutU32(IpvsMessages.SvcAttrFwmark, 8);
            w.PutString(IpvsMessages.SvcAttrSchedName, "lc");
            w.PutBytes(IpvsMessages.SvcAttrFlags, Convert.FromHexString("00000000FFFFFFFF"));
            w.PutU32(IpvsMessages.SvcAttrTimeout, 0);
            w.PutU32(IpvsMessages.SvcAttrNetmask, 128);
            w.EndNested(nest);
        });
        var service = IpvsMessages.ReadServiceMessage(payload);
        Assert.Null(service.Netmask);
        Assert.Null(service.Statistics);
        Assert.Null(service.Address);
        Assert.Equal(IpvsProtocol.None, service.Protocol);
        Assert.Equal(IpvsService.Fwmark(8, IpvsAddressFamily.IPv6, "lc"), service);
        Assert.Equal("FWM 8 IPv6", service.ToString());
    }

    [Fact]
    public void DestinationAnswerWith32BitStatsAndNoAddressFamilyUsesTheServiceFamily()
    {
        var payload = Payload(w =>
        {
            var nest = w.BeginNested(IpvsMessages.CmdAttrDestination);
            w.PutBytes(IpvsMessages.DestAttrAddr, IPAddress.Parse("2001:db8::10").GetAddressBytes());
            w.PutBe16(IpvsMessages.DestAttrPort, 443);
            w.PutU32(IpvsMessages.DestAttrFwdMethod, 0);
            w.PutU32(IpvsMessages.DestAttrWeight, 4);
            w.PutU32(IpvsMessages.DestAttrUThresh, 100);
            w.PutU32(IpvsMessages.DestAttrLThresh, 10);
            w.PutU32(IpvsMessages.DestAttrActiveConns, 7);
            w.PutU32(IpvsMessages.DestAttrInactConns, 8);
            w.PutU32(IpvsMessages.DestAttrPersistConns, 9);
            Stats(w, IpvsMessages.DestAttrStats, wide: false, 0);
            w.EndNested(nest);
        }, command: 5);
        var d = IpvsMessages.ReadDestinationMessage(payload, IpvsAddressFamily.IPv6);
        Assert.Equal(IPAddress.Parse("2001:db8::10"), d.Address);
        Assert.Equal(IpvsAddressFamily.IPv6, d.Family);
        Assert.Equal(443, d.Port);
        Assert.Equal(IpvsForwardMethod.Masquerade, d.ForwardMethod);
        Assert.Equal((4, 100u, 10u, 7u, 8u, 9u), (d.Weight, d.UpperThreshold, d.LowerThreshold, d.ActiveConnections, d.InactiveConnections, d.PersistentConnections));
        Assert.Equal(new IpvsStatistics(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), d.Statistics);
        Assert.Equal("[2001:db8::10]:443 Masq weight 4 thresholds 100/10", d.Describe());
    }

    [Fact]
    public void ForwardMethodIsMaskedFromTheConnectionFlags()
    {
        var payload = Payload(w =>
        {
            var nest = w.BeginNested(IpvsMessages.CmdAttrDestination);
            w.PutBytes(IpvsMessages.DestAttrAddr, new byte[16]);
            w.PutU16(IpvsMessages.DestAttrAddrFamily, 2);
            w.PutU32(IpvsMessages.DestAttrFwdMethod, 0x0100 | 3); // another IP_VS_CONN_F_* bit + DROUTE
            w.PutU8(IpvsMessages.DestAttrTunType, 2);
            w.PutBe16(IpvsMessages.DestAttrTunPort, 0);
            w.PutU16(IpvsMessages.DestAttrTunFlags, 1);
            w.EndNested(nest);
        }, command: 5);
        var d = IpvsMessages.ReadDestinationMessage(payload, IpvsAddressFamily.IPv6);
        Assert.Equal(IpvsForwardMethod.DirectRoute, d.ForwardMethod);
        Assert.Equal(IPAddress.Any, d.Address);
        Assert.Equal(IpvsTunnelType.Gre, d.TunnelType);
        Assert.Equal(IpvsTunnelFlags.Checksum, d.TunnelFlags);
    }

    [Fact]
    public void ConfigAnswerInfoAnswerAndDaemonAnswer()
    {
        Assert.Equal(new IpvsTimeouts(900, 120, 300), IpvsMessages.ReadTimeouts(Payload(w =>
        {
            w.PutU32(IpvsMessages.CmdAttrTimeoutTcp, 900);
            w.PutU32(IpvsMessages.CmdAttrTimeoutTcpFin, 120);
            w.PutU32(IpvsMessages.CmdAttrTimeoutUdp, 300);
        })));
        var info = IpvsMessages.ReadInfo(Payload(w =>
        {
            w.PutU32(IpvsMessages.InfoAttrVersion, 0x010201);
            w.PutU32(IpvsMessages.InfoAttrConnTabSize, 4096);
        }));
        Assert.Equal("1.2.1", info.VersionText);
        Assert.Equal(4096u, info.ConnectionTableSize);

        var daemon = IpvsMessages.ReadDaemonMessage(Payload(w =>
        {
            var nest = w.BeginNested(IpvsMessages.CmdAttrDaemon);
            w.PutU32(IpvsMessages.DaemonAttrState, 1);
            w.PutString(IpvsMessages.DaemonAttrMcastIfn, "lo");
            w.PutU32(IpvsMessages.DaemonAttrSyncId, 5);
            w.PutU16(IpvsMessages.DaemonAttrSyncMaxLen, 1472);
            w.PutU16(IpvsMessages.DaemonAttrMcastPort, 8848);
            w.PutU8(IpvsMessages.DaemonAttrMcastTtl, 1);
            w.PutBytes(IpvsMessages.DaemonAttrMcastGroup, IPAddress.Parse("224.0.0.81").GetAddressBytes());
            w.EndNested(nest);
        }));
        Assert.Equal(new IpvsSyncDaemon
        {
            State = IpvsSyncState.Master, Interface = "lo", SyncId = 5, MaxLength = 1472,
            MulticastGroup = IPAddress.Parse("224.0.0.81"), MulticastPort = 8848, MulticastTtl = 1,
        }, daemon);
        Assert.Equal("master sync daemon (mcast=lo, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n", IpvsFormatter.Daemons([daemon]));
    }

    [Fact]
    public void MalformedAttributesAreRefused()
    {
        var payload = new byte[] { 1, 1, 0, 0, 0x20, 0, 1, 0, 0, 0, 0, 0 }; // attribute claims 32 bytes, 8 present
        Assert.Throws<InvalidDataException>(() => IpvsMessages.ReadServiceMessage(payload));
        Assert.Throws<InvalidDataException>(() => IpvsMessages.ReadServiceMessage(new byte[] { 1, 1, 0, 0 }));
    }

    [Fact]
    public void EncodedServiceAndDestinationDecodeToTheSameConfiguration()
    {
        var service = IpvsService.Udp(IPAddress.Parse("192.0.2.1"), 53, "sh") with { Flags = IpvsServiceFlags.Scheduler1 | IpvsServiceFlags.OnePacket };
        var destination = new IpvsDestination { Address = IPAddress.Parse("192.0.2.10"), Port = 5353, ForwardMethod = IpvsForwardMethod.Masquerade, Weight = 0, UpperThreshold = 3 };
        var writer = new NetlinkMessageWriter();
        writer.BeginMessage(0x23, 0, 1, 1, 1);
        IpvsMessages.WriteService(writer, service, full: true);
        IpvsMessages.WriteDestination(writer, destination, full: true);
        writer.EndMessage();
        var payload = writer.ToArray()[16..];
        Assert.True(service.ConfigurationEquals(IpvsMessages.ReadServiceMessage(payload)));
        Assert.True(destination.ConfigurationEquals(IpvsMessages.ReadDestinationMessage(payload, IpvsAddressFamily.IPv4)));
    }
}
