using System.Collections.Immutable;
using System.Net;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Netlink;

namespace LvsEvents.IpvsWriter.Statistics;

/// <summary>
/// Per-destination counters for the nftables backend, whose rules see only a connection's first packet: read from the
/// connection tracking table instead. An entry belongs to a service when its original destination is the service's
/// VIP, port and protocol, and to a destination when its reply comes from that destination (the DNAT target). Active
/// and inactive connections are counted now (ESTABLISHED is active, as IPVS counts); connections, packets and bytes
/// accumulate from one dump to the next (a connection is new when its conntrack id was not in the previous dump;
/// TCP entries outlive the connection by TIME_WAIT's 120 s and UDP by 30 s, longer than a poll). Packets and bytes need
/// <c>net.netfilter.nf_conntrack_acct=1</c>; without it they are null. A dump taken while connections open is not a
/// snapshot: a rare entry can be missed (the service's own count comes from its nft counter, exact). Firewall-mark
/// services are not matched (the mark is not in the tuple). A connection is <em>unanswered</em> when the dump after the
/// one that first saw it still finds no reply packet (status without IPS_SEEN_REPLY): judged one poll later, so that a
/// handshake caught in flight is not counted (a refused connection got a reset, a reply: it is answered); an entry gone
/// by then is not judged. TCP and SCTP only: a UDP flow need not be answered (syslog). Not thread-safe: one poller calls it.
/// </summary>
public sealed class ConntrackCounters
{
    // include/uapi/linux/netfilter/nf_conntrack_common.h: IPS_SEEN_REPLY_BIT 1.
    private const uint SeenReply = 1 << 1;
    private Dictionary<uint, Seen> _seen = [];
    private readonly Dictionary<(ServiceKey, DestinationKey), Totals> _totals = [];

    /// <summary>Per TCP/SCTP destination of the last <see cref="Update"/>: connections judged unanswered so far (cumulative, like connections).</summary>
    public ImmutableDictionary<(ServiceKey, DestinationKey), long> Unanswered { get; private set; } = ImmutableDictionary<(ServiceKey, DestinationKey), long>.Empty;

    /// <summary>Counts <paramref name="entries"/> against <paramref name="table"/>: statistics for every destination of its address/port services.</summary>
    public ImmutableDictionary<(ServiceKey, DestinationKey), TrafficStatistics> Update(KernelTable table, IReadOnlyList<ConntrackEntry> entries, bool accounting)
    {
        var services = new Dictionary<(byte, IPAddress, ushort), (ServiceKey Key, Dictionary<(IPAddress, ushort), DestinationKey> Destinations)>();
        foreach (var service in table.Services.Values)
        {
            if (service.Key.IsFirewallMark || ProtocolNumber(service.Key.Protocol) is not { } protocol || !IPAddress.TryParse(service.Key.Address, out var vip))
            {
                continue;
            }

            var destinations = new Dictionary<(IPAddress, ushort), DestinationKey>();
            foreach (var destination in service.Destinations.Keys)
            {
                if (IPAddress.TryParse(destination.Address, out var address))
                {
                    destinations[(address, (ushort)destination.Port)] = destination;
                }
            }

            services[(protocol, vip, (ushort)service.Key.Port)] = (service.Key, destinations);
        }

        var active = new Dictionary<(ServiceKey, DestinationKey), (long Active, long Inactive)>();
        var seen = new Dictionary<uint, Seen>(_seen.Count);
        foreach (var entry in entries)
        {
            if (!services.TryGetValue((entry.Protocol, entry.OriginalDestination, entry.OriginalDestinationPort), out var service)
                || !service.Destinations.TryGetValue((entry.ReplySource, entry.ReplySourcePort), out var destination))
            {
                continue;
            }

            var key = (service.Key, destination);
            var replied = (entry.Status & SeenReply) != 0;
            if (!_totals.TryGetValue(key, out var totals))
            {
                _totals[key] = totals = new Totals();
            }

            var now = new Seen(key, entry.OriginalPackets ?? 0, entry.OriginalBytes ?? 0, entry.ReplyPackets ?? 0, entry.ReplyBytes ?? 0, Judged: true);
            if (_seen.TryGetValue(entry.Id, out var before) && before.Key == key)
            {
                totals.Add(now, before);
                if (!before.Judged && !replied && entry.Protocol != ConntrackEntry.Udp)
                {
                    // A poll interval and still not one packet back.
                    totals.Unanswered++;
                }
            }
            else
            {
                totals.Connections++;
                totals.Add(now, default);
                // Answered already, or to be judged at the next dump.
                now = now with { Judged = replied };
            }

            seen[entry.Id] = now;
            var (a, i) = active.GetValueOrDefault(key);
            active[key] = entry.IsActive ? (a + 1, i) : (a, i + 1);
        }

        _seen = seen;
        var result = ImmutableDictionary.CreateBuilder<(ServiceKey, DestinationKey), TrafficStatistics>();
        var unanswered = ImmutableDictionary.CreateBuilder<(ServiceKey, DestinationKey), long>();
        var current = new HashSet<(ServiceKey, DestinationKey)>();
        foreach (var (_, (serviceKey, destinations)) in services)
        {
            foreach (var destination in destinations.Values)
            {
                var key = (serviceKey, destination);
                current.Add(key);
                var totals = _totals.GetValueOrDefault(key) ?? new Totals();
                var (a, i) = active.GetValueOrDefault(key);
                if (serviceKey.Protocol != "UDP")
                {
                    unanswered[key] = totals.Unanswered;
                }

                result[key] = accounting
                    ? new TrafficStatistics(totals.Connections, totals.InPackets, totals.OutPackets, totals.InBytes, totals.OutBytes, a, i)
                    : new TrafficStatistics(totals.Connections, ActiveConnections: a, InactiveConnections: i);
            }
        }

        // Destinations that left the table take their totals with them (a returning one starts from 0, as in IPVS).
        foreach (var gone in _totals.Keys.Where(k => !current.Contains(k)).ToList())
        {
            _totals.Remove(gone);
        }

        Unanswered = unanswered.ToImmutable();
        return result.ToImmutable();
    }

    private static byte? ProtocolNumber(string protocol) => protocol switch
    {
        "TCP" => ConntrackEntry.Tcp,
        "UDP" => ConntrackEntry.Udp,
        "SCTP" => ConntrackEntry.Sctp,
        _ => null,
    };

    /// <param name="Judged">Whether the connection was counted answered or unanswered yet.</param>
    private readonly record struct Seen((ServiceKey, DestinationKey) Key, ulong InPackets, ulong InBytes, ulong OutPackets, ulong OutBytes, bool Judged);

    private sealed class Totals
    {
        public long Connections;
        public long Unanswered;
        public long InPackets;
        public long InBytes;
        public long OutPackets;
        public long OutBytes;

        /// <summary>Adds what the entry counted since <paramref name="before"/> (a counter that went back restarted: all of it is new).</summary>
        public void Add(Seen now, Seen before)
        {
            InPackets += Delta(now.InPackets, before.InPackets);
            InBytes += Delta(now.InBytes, before.InBytes);
            OutPackets += Delta(now.OutPackets, before.OutPackets);
            OutBytes += Delta(now.OutBytes, before.OutBytes);
        }

        private static long Delta(ulong now, ulong before) => (long)(now >= before ? now - before : now);
    }
}
