using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LvsEvents.Ipvs;

/// <summary>Generic netlink commands of the IPVS family (include/uapi/linux/ip_vs.h).</summary>
public enum IpvsCommand : byte
{
    NewService = 1,
    SetService = 2,
    DeleteService = 3,
    GetService = 4,
    NewDestination = 5,
    SetDestination = 6,
    DeleteDestination = 7,
    GetDestination = 8,
    NewDaemon = 9,
    DeleteDaemon = 10,
    GetDaemon = 11,
    SetConfig = 12,
    GetConfig = 13,
    SetInfo = 14,
    GetInfo = 15,
    Zero = 16,
    Flush = 17,
}

/// <summary>
/// Pure encoding and decoding of IPVS generic netlink messages (no socket): requests are written into a
/// <see cref="NetlinkMessageWriter"/>, answers (the bytes after nlmsghdr) are decoded into records.
/// </summary>
public static class IpvsMessages
{
    public const string FamilyName = "IPVS";
    public const byte FamilyVersion = 1;

    public const ushort FlagRequest = 0x1;
    public const ushort FlagAck = 0x4;
    public const ushort FlagDump = 0x300;

    // nlctrl
    public const ushort ControlFamilyId = 0x10;
    public const byte ControlGetFamily = 3;
    public const ushort ControlAttrFamilyId = 1;
    public const ushort ControlAttrFamilyName = 2;

    // IPVS_CMD_ATTR_*
    public const ushort CmdAttrService = 1;
    public const ushort CmdAttrDestination = 2;
    public const ushort CmdAttrDaemon = 3;
    public const ushort CmdAttrTimeoutTcp = 4;
    public const ushort CmdAttrTimeoutTcpFin = 5;
    public const ushort CmdAttrTimeoutUdp = 6;

    // IPVS_SVC_ATTR_*
    public const ushort SvcAttrAf = 1;
    public const ushort SvcAttrProtocol = 2;
    public const ushort SvcAttrAddr = 3;
    public const ushort SvcAttrPort = 4;
    public const ushort SvcAttrFwmark = 5;
    public const ushort SvcAttrSchedName = 6;
    public const ushort SvcAttrFlags = 7;
    public const ushort SvcAttrTimeout = 8;
    public const ushort SvcAttrNetmask = 9;
    public const ushort SvcAttrStats = 10;
    public const ushort SvcAttrPeName = 11;
    public const ushort SvcAttrStats64 = 12;

    // IPVS_DEST_ATTR_*
    public const ushort DestAttrAddr = 1;
    public const ushort DestAttrPort = 2;
    public const ushort DestAttrFwdMethod = 3;
    public const ushort DestAttrWeight = 4;
    public const ushort DestAttrUThresh = 5;
    public const ushort DestAttrLThresh = 6;
    public const ushort DestAttrActiveConns = 7;
    public const ushort DestAttrInactConns = 8;
    public const ushort DestAttrPersistConns = 9;
    public const ushort DestAttrStats = 10;
    public const ushort DestAttrAddrFamily = 11;
    public const ushort DestAttrStats64 = 12;
    public const ushort DestAttrTunType = 13;
    public const ushort DestAttrTunPort = 14;
    public const ushort DestAttrTunFlags = 15;

    // IPVS_DAEMON_ATTR_*
    public const ushort DaemonAttrState = 1;
    public const ushort DaemonAttrMcastIfn = 2;
    public const ushort DaemonAttrSyncId = 3;
    public const ushort DaemonAttrSyncMaxLen = 4;
    public const ushort DaemonAttrMcastGroup = 5;
    public const ushort DaemonAttrMcastGroup6 = 6;
    public const ushort DaemonAttrMcastPort = 7;
    public const ushort DaemonAttrMcastTtl = 8;

    // IPVS_STATS_ATTR_*
    public const ushort StatsConns = 1;
    public const ushort StatsInPkts = 2;
    public const ushort StatsOutPkts = 3;
    public const ushort StatsInBytes = 4;
    public const ushort StatsOutBytes = 5;
    public const ushort StatsCps = 6;
    public const ushort StatsInPps = 7;
    public const ushort StatsOutPps = 8;
    public const ushort StatsInBps = 9;
    public const ushort StatsOutBps = 10;

    // IPVS_INFO_ATTR_*
    public const ushort InfoAttrVersion = 1;
    public const ushort InfoAttrConnTabSize = 2;

    private const int AddressLength = 16; // union nf_inet_addr
    private const int ScratchLength = 64;

    /// <summary>CTRL_CMD_GETFAMILY for <paramref name="name"/>.</summary>
    public static void WriteGetFamily(NetlinkMessageWriter writer, uint sequence, string name = FamilyName)
    {
        writer.BeginMessage(ControlFamilyId, FlagRequest | FlagAck, sequence, ControlGetFamily, 1);
        writer.PutString(ControlAttrFamilyName, name);
        writer.EndMessage();
    }

    /// <summary>The family id in a CTRL_CMD_NEWFAMILY answer (payload after nlmsghdr).</summary>
    public static ushort ReadFamilyId(ReadOnlySpan<byte> payload)
    {
        var attributes = NetlinkAttributes.Parse(payload[NetlinkMessageWriter.GenericHeaderLength..], stackalloc int[ScratchLength]);
        if (!attributes.Has(ControlAttrFamilyId))
        {
            throw new InvalidDataException("the generic netlink controller's answer has no family id");
        }
        return attributes.U16(ControlAttrFamilyId);
    }

    /// <summary>Writes one IPVS request: a service, a destination (with its service), or neither.</summary>
    public static void WriteRequest(NetlinkMessageWriter writer, ushort familyId, IpvsCommand command, uint sequence,
        IpvsService? service = null, IpvsDestination? destination = null, bool dump = false)
    {
        writer.BeginMessage(familyId, (ushort)(FlagRequest | (dump ? FlagDump : FlagAck)), sequence, (byte)command, FamilyVersion);
        if (service is not null)
        {
            var full = command is IpvsCommand.NewService or IpvsCommand.SetService;
            WriteService(writer, service, full);
        }
        if (destination is not null)
        {
            var full = command is IpvsCommand.NewDestination or IpvsCommand.SetDestination;
            WriteDestination(writer, destination, full);
        }
        writer.EndMessage();
    }

    /// <summary>The operation's request (NEW/SET/DEL of a service or destination).</summary>
    public static void WriteOperation(NetlinkMessageWriter writer, ushort familyId, uint sequence, IpvsOperation operation)
    {
        var command = operation.Kind switch
        {
            IpvsOperationKind.AddService => IpvsCommand.NewService,
            IpvsOperationKind.UpdateService => IpvsCommand.SetService,
            IpvsOperationKind.DeleteService => IpvsCommand.DeleteService,
            IpvsOperationKind.AddDestination => IpvsCommand.NewDestination,
            IpvsOperationKind.UpdateDestination => IpvsCommand.SetDestination,
            IpvsOperationKind.DeleteDestination => IpvsCommand.DeleteDestination,
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };
        var destination = operation.Kind is IpvsOperationKind.AddDestination or IpvsOperationKind.UpdateDestination or IpvsOperationKind.DeleteDestination
            ? operation.Destination ?? throw new ArgumentException($"{operation.Kind} needs a destination", nameof(operation))
            : null;
        WriteRequest(writer, familyId, command, sequence, operation.Service, destination);
    }

    /// <summary>
    /// IPVS_CMD_ATTR_SERVICE. The key (af + protocol/address/port, or fwmark) always; with <paramref name="full"/>
    /// also scheduler, flags, timeout, netmask and persistence engine, which NEW/SET_SERVICE require.
    /// </summary>
    public static void WriteService(NetlinkMessageWriter writer, IpvsService service, bool full)
    {
        var nest = writer.BeginNested(CmdAttrService);
        writer.PutU16(SvcAttrAf, (ushort)service.Family);
        if (service.IsFirewallMark)
        {
            writer.PutU32(SvcAttrFwmark, service.FirewallMark);
        }
        else
        {
            if (service.Address is null)
            {
                throw new ArgumentException($"virtual service {service} needs an address or a firewall mark");
            }
            CheckFamily(service.Address, service.Family, "virtual service");
            writer.PutU16(SvcAttrProtocol, (ushort)service.Protocol);
            WriteAddress(writer, SvcAttrAddr, service.Address);
            writer.PutBe16(SvcAttrPort, service.Port);
        }
        if (full)
        {
            writer.PutString(SvcAttrSchedName, service.Scheduler);
            if (!string.IsNullOrEmpty(service.PersistenceEngine))
            {
                writer.PutString(SvcAttrPeName, service.PersistenceEngine);
            }
            Span<byte> flags = stackalloc byte[8];
            // struct ip_vs_flags { flags; mask }: every flag is ours to set (the kernel keeps Hashed itself).
            BitConverter.TryWriteBytes(flags, (uint)(service.Flags & ~IpvsServiceFlags.Hashed));
            BitConverter.TryWriteBytes(flags[4..], uint.MaxValue);
            writer.PutBytes(SvcAttrFlags, flags);
            writer.PutU32(SvcAttrTimeout, service.PersistenceTimeout);
            // The kernel keeps an IPv4 netmask as a __be32: 255.255.255.0 travels as bytes ff ff ff 00.
            writer.PutU32(SvcAttrNetmask, service.Family == IpvsAddressFamily.IPv4
                ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(service.EffectiveNetmask)
                : service.EffectiveNetmask);
        }
        writer.EndNested(nest);
    }

    /// <summary>
    /// IPVS_CMD_ATTR_DEST. Address and port always; with <paramref name="full"/> also forwarding method, weight,
    /// thresholds, address family and tunnel settings, which NEW/SET_DEST require.
    /// </summary>
    public static void WriteDestination(NetlinkMessageWriter writer, IpvsDestination destination, bool full)
    {
        var nest = writer.BeginNested(CmdAttrDestination);
        WriteAddress(writer, DestAttrAddr, destination.Address);
        writer.PutBe16(DestAttrPort, destination.Port);
        if (full)
        {
            if (destination.Weight < 0)
            {
                throw new ArgumentException($"real server {destination}: weight {destination.Weight} is negative");
            }
            writer.PutU16(DestAttrAddrFamily, (ushort)destination.Family);
            writer.PutU32(DestAttrFwdMethod, (uint)destination.ForwardMethod);
            writer.PutU32(DestAttrWeight, (uint)destination.Weight);
            writer.PutU32(DestAttrUThresh, destination.UpperThreshold);
            writer.PutU32(DestAttrLThresh, destination.LowerThreshold);
            if (destination.ForwardMethod == IpvsForwardMethod.Tunnel)
            {
                writer.PutU8(DestAttrTunType, (byte)destination.TunnelType);
                writer.PutBe16(DestAttrTunPort, destination.TunnelPort);
                writer.PutU16(DestAttrTunFlags, (ushort)destination.TunnelFlags);
            }
        }
        writer.EndNested(nest);
    }

    public static void WriteSetTimeouts(NetlinkMessageWriter writer, ushort familyId, uint sequence, IpvsTimeouts timeouts)
    {
        writer.BeginMessage(familyId, FlagRequest | FlagAck, sequence, (byte)IpvsCommand.SetConfig, FamilyVersion);
        writer.PutU32(CmdAttrTimeoutTcp, timeouts.Tcp);
        writer.PutU32(CmdAttrTimeoutTcpFin, timeouts.TcpFin);
        writer.PutU32(CmdAttrTimeoutUdp, timeouts.Udp);
        writer.EndMessage();
    }

    /// <summary>NEW_DAEMON (all settings) or DEL_DAEMON (<paramref name="full"/> false: only the state).</summary>
    public static void WriteDaemon(NetlinkMessageWriter writer, ushort familyId, uint sequence, IpvsCommand command, IpvsSyncDaemon daemon)
    {
        writer.BeginMessage(familyId, FlagRequest | FlagAck, sequence, (byte)command, FamilyVersion);
        var nest = writer.BeginNested(CmdAttrDaemon);
        writer.PutU32(DaemonAttrState, (uint)daemon.State);
        if (command == IpvsCommand.NewDaemon)
        {
            writer.PutString(DaemonAttrMcastIfn, daemon.Interface);
            writer.PutU32(DaemonAttrSyncId, daemon.SyncId);
            if (daemon.MaxLength is { } maxLength)
            {
                writer.PutU16(DaemonAttrSyncMaxLen, maxLength);
            }
            if (daemon.MulticastGroup is { } group)
            {
                if (group.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    writer.PutBytes(DaemonAttrMcastGroup6, group.GetAddressBytes());
                }
                else
                {
                    writer.PutBytes(DaemonAttrMcastGroup, group.GetAddressBytes());
                }
            }
            if (daemon.MulticastPort is { } port)
            {
                writer.PutU16(DaemonAttrMcastPort, port);
            }
            if (daemon.MulticastTtl is { } ttl)
            {
                writer.PutU8(DaemonAttrMcastTtl, ttl);
            }
        }
        writer.EndNested(nest);
        writer.EndMessage();
    }

    /// <summary>A command with no attributes (GET_CONFIG, GET_INFO, FLUSH, ZERO, or a dump of GET_SERVICE/GET_DAEMON).</summary>
    public static void WriteSimple(NetlinkMessageWriter writer, ushort familyId, uint sequence, IpvsCommand command, bool dump = false) =>
        WriteRequest(writer, familyId, command, sequence, dump: dump);

    /// <summary>Decodes a GET_SERVICE answer (payload after nlmsghdr).</summary>
    public static IpvsService ReadServiceMessage(ReadOnlySpan<byte> payload)
    {
        var top = NetlinkAttributes.Parse(payload[NetlinkMessageWriter.GenericHeaderLength..], stackalloc int[ScratchLength]);
        if (!top.Has(CmdAttrService))
        {
            throw new InvalidDataException("IPVS service message without IPVS_CMD_ATTR_SERVICE");
        }
        return ReadService(top.Get(CmdAttrService));
    }

    /// <summary>Decodes the contents of IPVS_CMD_ATTR_SERVICE.</summary>
    public static IpvsService ReadService(ReadOnlySpan<byte> nested)
    {
        var a = NetlinkAttributes.Parse(nested, stackalloc int[ScratchLength]);
        var family = (IpvsAddressFamily)a.U16(SvcAttrAf);
        var fwmark = a.U32(SvcAttrFwmark);
        var flagsValue = a.Get(SvcAttrFlags);
        var flags = flagsValue.Length >= 4 ? (IpvsServiceFlags)BitConverter.ToUInt32(flagsValue) : IpvsServiceFlags.None;
        var rawNetmask = a.U32(SvcAttrNetmask);
        var netmask = family == IpvsAddressFamily.IPv4 ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(rawNetmask) : rawNetmask;
        var defaultNetmask = family == IpvsAddressFamily.IPv6 ? 128u : 0xFFFFFFFFu;
        var pe = a.String(SvcAttrPeName);
        return new IpvsService
        {
            Family = family,
            FirewallMark = fwmark,
            Protocol = fwmark != 0 ? IpvsProtocol.None : (IpvsProtocol)a.U16(SvcAttrProtocol),
            Address = fwmark != 0 ? null : ReadAddress(a.Get(SvcAttrAddr), family),
            Port = fwmark != 0 ? (ushort)0 : a.Be16(SvcAttrPort),
            Scheduler = a.String(SvcAttrSchedName) ?? "",
            Flags = flags,
            PersistenceTimeout = a.U32(SvcAttrTimeout),
            Netmask = netmask == defaultNetmask ? null : netmask,
            PersistenceEngine = string.IsNullOrEmpty(pe) ? null : pe,
            Statistics = ReadStatistics(a.Has(SvcAttrStats64) ? a.Get(SvcAttrStats64) : a.Get(SvcAttrStats)),
        };
    }

    /// <summary>Decodes a GET_DEST answer; <paramref name="serviceFamily"/> is used when the kernel omits the destination's.</summary>
    public static IpvsDestination ReadDestinationMessage(ReadOnlySpan<byte> payload, IpvsAddressFamily serviceFamily)
    {
        var top = NetlinkAttributes.Parse(payload[NetlinkMessageWriter.GenericHeaderLength..], stackalloc int[ScratchLength]);
        if (!top.Has(CmdAttrDestination))
        {
            throw new InvalidDataException("IPVS destination message without IPVS_CMD_ATTR_DEST");
        }
        return ReadDestination(top.Get(CmdAttrDestination), serviceFamily);
    }

    public static IpvsDestination ReadDestination(ReadOnlySpan<byte> nested, IpvsAddressFamily serviceFamily)
    {
        var a = NetlinkAttributes.Parse(nested, stackalloc int[ScratchLength]);
        var family = a.Has(DestAttrAddrFamily) ? (IpvsAddressFamily)a.U16(DestAttrAddrFamily) : serviceFamily;
        var method = (IpvsForwardMethod)(a.U32(DestAttrFwdMethod) & 0x7);
        return new IpvsDestination
        {
            Address = ReadAddress(a.Get(DestAttrAddr), family),
            Port = a.Be16(DestAttrPort),
            ForwardMethod = method,
            Weight = (int)a.U32(DestAttrWeight),
            UpperThreshold = a.U32(DestAttrUThresh),
            LowerThreshold = a.U32(DestAttrLThresh),
            ActiveConnections = a.U32(DestAttrActiveConns),
            InactiveConnections = a.U32(DestAttrInactConns),
            PersistentConnections = a.U32(DestAttrPersistConns),
            TunnelType = (IpvsTunnelType)a.U8(DestAttrTunType),
            TunnelPort = a.Be16(DestAttrTunPort),
            TunnelFlags = (IpvsTunnelFlags)a.U16(DestAttrTunFlags),
            Statistics = ReadStatistics(a.Has(DestAttrStats64) ? a.Get(DestAttrStats64) : a.Get(DestAttrStats)),
        };
    }

    /// <summary>Decodes IPVS_*_ATTR_STATS or STATS64 (32- or 64-bit counters, whichever the attribute holds).</summary>
    public static IpvsStatistics? ReadStatistics(ReadOnlySpan<byte> nested)
    {
        if (nested.IsEmpty)
        {
            return null;
        }
        var a = NetlinkAttributes.Parse(nested, stackalloc int[ScratchLength]);
        return new IpvsStatistics(
            a.Counter(StatsConns), a.Counter(StatsInPkts), a.Counter(StatsOutPkts), a.Counter(StatsInBytes), a.Counter(StatsOutBytes),
            a.Counter(StatsCps), a.Counter(StatsInPps), a.Counter(StatsOutPps), a.Counter(StatsInBps), a.Counter(StatsOutBps));
    }

    /// <summary>Decodes a GET_CONFIG answer.</summary>
    public static IpvsTimeouts ReadTimeouts(ReadOnlySpan<byte> payload)
    {
        var a = NetlinkAttributes.Parse(payload[NetlinkMessageWriter.GenericHeaderLength..], stackalloc int[ScratchLength]);
        return new IpvsTimeouts(a.U32(CmdAttrTimeoutTcp), a.U32(CmdAttrTimeoutTcpFin), a.U32(CmdAttrTimeoutUdp));
    }

    /// <summary>Decodes a GET_INFO answer.</summary>
    public static IpvsInfo ReadInfo(ReadOnlySpan<byte> payload)
    {
        var a = NetlinkAttributes.Parse(payload[NetlinkMessageWriter.GenericHeaderLength..], stackalloc int[ScratchLength]);
        return new IpvsInfo(a.U32(InfoAttrVersion), a.U32(InfoAttrConnTabSize));
    }

    /// <summary>Decodes one GET_DAEMON answer message.</summary>
    public static IpvsSyncDaemon ReadDaemonMessage(ReadOnlySpan<byte> payload)
    {
        var top = NetlinkAttributes.Parse(payload[NetlinkMessageWriter.GenericHeaderLength..], stackalloc int[ScratchLength]);
        var a = NetlinkAttributes.Parse(top.Get(CmdAttrDaemon), stackalloc int[ScratchLength]);
        IPAddress? group = a.Get(DaemonAttrMcastGroup6) is { Length: 16 } g6 ? new IPAddress(g6)
            : a.Get(DaemonAttrMcastGroup) is { Length: 4 } g4 ? new IPAddress(g4) : null;
        return new IpvsSyncDaemon
        {
            State = (IpvsSyncState)a.U32(DaemonAttrState),
            Interface = a.String(DaemonAttrMcastIfn) ?? "",
            SyncId = a.U32(DaemonAttrSyncId),
            MaxLength = a.Has(DaemonAttrSyncMaxLen) ? a.U16(DaemonAttrSyncMaxLen) : null,
            MulticastGroup = group,
            MulticastPort = a.Has(DaemonAttrMcastPort) ? a.U16(DaemonAttrMcastPort) : null,
            MulticastTtl = a.Has(DaemonAttrMcastTtl) ? a.U8(DaemonAttrMcastTtl) : null,
        };
    }

    private static void WriteAddress(NetlinkMessageWriter writer, ushort type, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[AddressLength];
        bytes.Clear();
        if (!address.TryWriteBytes(bytes, out _))
        {
            throw new ArgumentException($"cannot encode address {address}");
        }
        writer.PutBytes(type, bytes);
    }

    private static IPAddress ReadAddress(ReadOnlySpan<byte> value, IpvsAddressFamily family)
    {
        var length = family == IpvsAddressFamily.IPv6 ? 16 : 4;
        if (value.Length < length)
        {
            throw new InvalidDataException($"IPVS address attribute has {value.Length} bytes, {family} needs {length}");
        }
        return new IPAddress(value[..length]);
    }

    private static void CheckFamily(IPAddress address, IpvsAddressFamily family, string what)
    {
        var actual = address.AddressFamily == AddressFamily.InterNetworkV6 ? IpvsAddressFamily.IPv6 : IpvsAddressFamily.IPv4;
        if (actual != family)
        {
            throw new ArgumentException($"{what} address {address} is not {family}");
        }
    }

    internal static string Ascii(ReadOnlySpan<byte> value) => Encoding.ASCII.GetString(value);
}
