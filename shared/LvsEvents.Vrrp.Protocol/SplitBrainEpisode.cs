using System.Net;

namespace LvsEvents.Vrrp.Protocol;

/// <summary>
/// While we are master: another node of our VRID that keeps advertising with lower or equal priority. It
/// should have yielded on our first answer; each advert it sends counts as one interval of both being master.
/// </summary>
internal sealed class SplitBrainEpisode(IPAddress peer, DateTimeOffset firstSeen)
{
    public IPAddress Peer { get; } = peer;
    public DateTimeOffset FirstSeen { get; } = firstSeen;
    public DateTimeOffset LastSeen { get; set; } = firstSeen;
    public int AdvertsSeen { get; set; }
    public int PeerPriority { get; set; }
    public TimeSpan PeerInterval { get; set; }
    public bool Suspected { get; set; }
}
