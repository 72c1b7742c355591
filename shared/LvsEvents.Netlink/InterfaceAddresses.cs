using System.Net.Sockets;
using static LvsEvents.Netlink.AddressMessage;
using static LvsEvents.Netlink.NetlinkSocket;

namespace LvsEvents.Netlink;

/// <summary>
/// Puts VIPs on and takes them off interfaces through rtnetlink, as <c>ip addr add/del</c> would.
/// Idempotent, as a VIP owner needs: adding a present address or removing an absent one changes nothing and
/// is not an error; each call says whether it changed anything.
/// Everything, including interface names, is resolved in the namespace the socket was opened in.
/// </summary>
public sealed class InterfaceAddresses(NetlinkSocket socket) : IDisposable
{
    /// <summary>Opens a netlink socket in the calling thread's network namespace.</summary>
    public static InterfaceAddresses Open() => new(NetlinkSocket.Open());

    /// <returns>true if the address was added; false if it was already there.</returns>
    public async Task<bool> AddAsync(VirtualAddress address, CancellationToken cancellationToken = default)
    {
        address.Validate();
        var operation = $"adding {address} to {address.Interface}";
        var index = await IndexOfAsync(address.Interface, operation, cancellationToken).ConfigureAwait(false);
        try
        {
            // EXCL: without it the kernel silently replaces an existing address and we could not tell.
            await socket.RequestAsync(seq => Encode(RtmNewAddr, NlmFRequest | NlmFAck | NlmFCreate | NlmFExcl, seq, address, index),
                operation, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Tmds.Linux.LibC.EEXIST)
        {
            return false;
        }
    }

    /// <returns>true if the address was removed; false if it was not there.</returns>
    public async Task<bool> RemoveAsync(VirtualAddress address, CancellationToken cancellationToken = default)
    {
        address.Validate();
        var operation = $"removing {address} from {address.Interface}";
        var index = await IndexOfAsync(address.Interface, operation, cancellationToken).ConfigureAwait(false);
        // Matched on address and prefix only: the label or broadcast it was added with must not keep it there.
        var match = address with { Label = null, Broadcast = null };
        try
        {
            await socket.RequestAsync(seq => Encode(RtmDelAddr, NlmFRequest | NlmFAck, seq, match, index),
                operation, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Tmds.Linux.LibC.EADDRNOTAVAIL)
        {
            return false;
        }
    }

    /// <summary><see cref="AddAsync"/> on the calling thread (see <see cref="NetlinkSocket.Request"/>).</summary>
    public bool Add(VirtualAddress address)
    {
        address.Validate();
        var operation = $"adding {address} to {address.Interface}";
        var index = IndexOf(address.Interface, operation);
        try
        {
            socket.Request(seq => Encode(RtmNewAddr, NlmFRequest | NlmFAck | NlmFCreate | NlmFExcl, seq, address, index), operation);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Tmds.Linux.LibC.EEXIST)
        {
            return false;
        }
    }

    /// <summary><see cref="RemoveAsync"/> on the calling thread (see <see cref="NetlinkSocket.Request"/>).</summary>
    public bool Remove(VirtualAddress address)
    {
        address.Validate();
        var operation = $"removing {address} from {address.Interface}";
        var index = IndexOf(address.Interface, operation);
        try
        {
            socket.Request(seq => Encode(RtmDelAddr, NlmFRequest | NlmFAck, seq, address with { Label = null, Broadcast = null }, index), operation);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Tmds.Linux.LibC.EADDRNOTAVAIL)
        {
            return false;
        }
    }

    private int IndexOf(string name, string operation) => LinkStateRequests.IndexOf(socket, name, operation);

    /// <summary>The IPv4 and IPv6 addresses on <paramref name="interfaceName"/> (RTM_GETADDR dump).</summary>
    public async Task<IReadOnlyList<VirtualAddress>> ListAsync(string interfaceName, CancellationToken cancellationToken = default)
    {
        var operation = $"listing addresses of {interfaceName}";
        var index = await IndexOfAsync(interfaceName, operation, cancellationToken).ConfigureAwait(false);
        var result = new List<VirtualAddress>();
        foreach (var family in (AddressFamily[])[AddressFamily.InterNetwork, AddressFamily.InterNetworkV6])
        {
            var messages = await socket.RequestAsync(seq => EncodeGetAddresses(NlmFRequest | NlmFDump, seq, family),
                operation, cancellationToken).ConfigureAwait(false);
            foreach (var (type, payload) in messages)
            {
                if (type != RtmNewAddr)
                {
                    continue;
                }
                var address = Decode(payload, interfaceName, out var addressIndex);
                // The kernel dumps every interface's addresses; the filter is ours.
                if (addressIndex == index)
                {
                    result.Add(address);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Whether <paramref name="interfaceName"/> can carry traffic: administratively up and with carrier
    /// (IFF_UP and IFF_RUNNING), as keepalived judges a tracked interface. A missing interface is down.
    /// </summary>
    public async Task<bool> IsLinkUpAsync(string interfaceName, CancellationToken cancellationToken = default)
    {
        const uint up = 0x1, running = 0x40;
        try
        {
            var messages = await socket.RequestAsync(seq => EncodeGetLink(NlmFRequest | NlmFAck, seq, interfaceName),
                $"reading the link state of {interfaceName}", cancellationToken).ConfigureAwait(false);
            foreach (var (type, payload) in messages)
            {
                if (type == RtmNewLink)
                {
                    return (LinkFlags(payload) & (up | running)) == (up | running);
                }
            }
            return false;
        }
        catch (NetlinkException e) when (e.Errno == Tmds.Linux.LibC.ENODEV)
        {
            return false;
        }
    }

    private async Task<int> IndexOfAsync(string name, string operation, CancellationToken cancellationToken)
    {
        var messages = await socket.RequestAsync(seq => EncodeGetLink(NlmFRequest | NlmFAck, seq, name),
            operation, cancellationToken).ConfigureAwait(false);
        foreach (var (type, payload) in messages)
        {
            if (type == RtmNewLink)
            {
                return LinkIndex(payload);
            }
        }
        throw new IOException($"{operation}: the kernel acknowledged the lookup of {name} without describing it");
    }

    public void Dispose() => socket.Dispose();
}
