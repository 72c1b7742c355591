using System.Collections.Concurrent;
using static LvsEvents.Netlink.AddressMessage;
using static LvsEvents.Netlink.NetlinkSocket;

namespace LvsEvents.Netlink;

/// <summary>
/// <see cref="InterfaceAddresses.Add"/> / <see cref="InterfaceAddresses.Remove"/> for a VIP owner's takeover path:
/// the interface's index is looked up once (<see cref="Prepare"/>) and remembered, so that adding a VIP is one
/// RTM_NEWADDR round trip instead of an RTM_GETLINK lookup and then the add (keepalived also adds by a known index).
/// An index that went stale (the interface was recreated: ENODEV) is looked up again and the add retried; a
/// removal always looks the index up afresh (it is not on the clock, and a stale index there would read as
/// "not there") and refreshes what is remembered.
/// Everything is resolved in the namespace the socket was opened in.
/// </summary>
public sealed class IndexedInterfaceAddresses(NetlinkSocket socket) : IDisposable
{
    private readonly ConcurrentDictionary<string, int> _indexes = new(StringComparer.Ordinal);

    /// <summary>Opens a netlink socket in the calling thread's network namespace.</summary>
    public static IndexedInterfaceAddresses Open() => new(NetlinkSocket.Open());

    /// <summary>Looks up and remembers the indexes of <paramref name="interfaces"/> (those that exist now).</summary>
    public void Prepare(IEnumerable<string> interfaces)
    {
        foreach (var name in interfaces.Distinct(StringComparer.Ordinal))
        {
            try
            {
                _indexes[name] = LinkStateRequests.IndexOf(socket, name);
            }
            catch (NetlinkException e) when (e.Errno == Tmds.Linux.LibC.ENODEV)
            {
                // Not there yet: the first add looks it up.
            }
        }
    }

    /// <summary>The index remembered for <paramref name="interfaceName"/>, if any.</summary>
    public int? RememberedIndex(string interfaceName) => _indexes.TryGetValue(interfaceName, out var index) ? index : null;

    /// <returns>true if the address was added; false if it was already there.</returns>
    public bool Add(VirtualAddress address)
    {
        address.Validate();
        var operation = $"adding {address} to {address.Interface}";
        var remembered = _indexes.TryGetValue(address.Interface, out var index);
        if (!remembered)
            index = _indexes[address.Interface] = LinkStateRequests.IndexOf(socket, address.Interface);
        try
        {
            return AddAt(address, index, operation);
        }
        catch (NetlinkException e) when (e.Errno == Tmds.Linux.LibC.ENODEV && remembered)
        {
            index = _indexes[address.Interface] = LinkStateRequests.IndexOf(socket, address.Interface);
            return AddAt(address, index, operation);
        }
    }

    /// <summary>
    /// Runs <see cref="Add"/>'s code and netlink round trip once without changing anything: the add goes to interface
    /// index 0, which no interface has (the kernel answers ENODEV). A warm-up, so that the first real takeover does
    /// not pay for compiling the path.
    /// </summary>
    public void RehearseAdd(VirtualAddress address)
    {
        address.Validate();
        try
        {
            AddAt(address, 0, $"rehearsing the add of {address}");
        }
        catch (NetlinkException e) when (e.Errno == Tmds.Linux.LibC.ENODEV)
        {
        }
    }

    /// <returns>true if the address was removed; false if it was not there.</returns>
    public bool Remove(VirtualAddress address)
    {
        address.Validate();
        var operation = $"removing {address} from {address.Interface}";
        var index = _indexes[address.Interface] = LinkStateRequests.IndexOf(socket, address.Interface);
        try
        {
            // Matched on address and prefix only: the label or broadcast it was added with must not keep it there.
            socket.Request(seq => Encode(RtmDelAddr, NlmFRequest | NlmFAck, seq, address with { Label = null, Broadcast = null }, index), operation);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Tmds.Linux.LibC.EADDRNOTAVAIL)
        {
            return false;
        }
    }

    private bool AddAt(VirtualAddress address, int index, string operation)
    {
        try
        {
            // EXCL: without it the kernel silently replaces an existing address and we could not tell.
            socket.Request(seq => Encode(RtmNewAddr, NlmFRequest | NlmFAck | NlmFCreate | NlmFExcl, seq, address, index), operation);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Tmds.Linux.LibC.EEXIST)
        {
            return false;
        }
    }

    public void Dispose() => socket.Dispose();
}
