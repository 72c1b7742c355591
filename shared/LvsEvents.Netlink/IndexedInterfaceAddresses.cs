using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Tmds.Linux;
using static LvsEvents.Netlink.AddressMessage;
using static LvsEvents.Netlink.NetlinkSocket;
using static Tmds.Linux.LibC;

namespace LvsEvents.Netlink;

/// <summary>
/// <see cref="InterfaceAddresses.Add"/> / <see cref="InterfaceAddresses.Remove"/> for a VIP owner's takeover path.
/// The interface's index is looked up once (<see cref="Prepare"/>) and remembered, and the RTM_NEWADDR request for
/// each VIP is encoded once: adding a VIP is then one send and one ack on a netlink socket of its own, with no
/// RTM_GETLINK lookup and no encoding on the clock (keepalived also adds by a known index). An index that went stale
/// (the interface was recreated: ENODEV) is looked up again and the add retried; a removal always looks the index up
/// afresh (it is not on the clock, and a stale index there would read as "not there") and refreshes what is remembered.
/// Everything is resolved in the namespace the sockets were opened in.
/// </summary>
public sealed class IndexedInterfaceAddresses : IDisposable
{
    private const ushort NlmsgError = 2;
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

    private readonly NetlinkSocket _socket;
    private readonly int _addFd;
    private readonly Lock _addLock = new();
    private readonly byte[] _answer = new byte[8192];
    private readonly ConcurrentDictionary<string, int> _indexes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(VirtualAddress Address, int Index), byte[]> _addRequests = new();
    private uint _addSequence;
    private volatile bool _rehearsing;
    private int _disposed;

    private IndexedInterfaceAddresses(NetlinkSocket socket, int addFd)
    {
        _socket = socket;
        _addFd = addFd;
    }

    /// <summary>Opens the netlink sockets in the calling thread's network namespace.</summary>
    public static IndexedInterfaceAddresses Open()
    {
        var socket = NetlinkSocket.Open();
        var fd = LibC.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            var code = errno;
            socket.Dispose();
            throw new NetlinkException("opening a NETLINK_ROUTE socket", code);
        }
        return new IndexedInterfaceAddresses(socket, fd);
    }

    /// <summary>Looks up and remembers the indexes of <paramref name="interfaces"/> (those that exist now).</summary>
    public void Prepare(IEnumerable<string> interfaces)
    {
        foreach (var name in interfaces.Distinct(StringComparer.Ordinal))
        {
            try
            {
                _indexes[name] = LinkStateRequests.IndexOf(_socket, name);
            }
            catch (NetlinkException e) when (e.Errno == ENODEV)
            {
                // Not there yet: the first add looks it up.
            }
        }
    }

    /// <summary>
    /// Looks up the interfaces of <paramref name="addresses"/> and encodes each one's add once, so that adding one of
    /// these very instances later is a scan of a short array, one send and one ack: no hashing, no encoding.
    /// </summary>
    public void PrepareAdds(IEnumerable<VirtualAddress> addresses)
    {
        var list = addresses.ToList();
        Prepare(list.Select(a => a.Interface));
        var prepared = new List<PreparedAdd>();
        foreach (var address in list)
        {
            address.Validate();
            if (_indexes.TryGetValue(address.Interface, out var index))
                prepared.Add(new PreparedAdd(address, index, RequestFor(address, index), RequestFor(address, 0)));
        }
        _prepared = [.. prepared];
    }

    private sealed record PreparedAdd(VirtualAddress Address, int Index, byte[] Request, byte[] RehearsalRequest);

    private volatile PreparedAdd[] _prepared = [];

    /// <summary>The index remembered for <paramref name="interfaceName"/>, if any.</summary>
    public int? RememberedIndex(string interfaceName) => _indexes.TryGetValue(interfaceName, out var index) ? index : null;

    /// <summary>
    /// Until disposed, <see cref="Add"/> runs its whole path (lookup, encoding, the netlink round trip) against
    /// interface index 0, which no interface has: the kernel answers ENODEV, nothing changes and Add returns false.
    /// A warm-up, so that the first real takeover does not pay for compiling the path. Not for use during real adds.
    /// </summary>
    public IDisposable Rehearsal()
    {
        _rehearsing = true;
        return new RehearsalEnd(this);
    }

    private sealed class RehearsalEnd(IndexedInterfaceAddresses owner) : IDisposable
    {
        public void Dispose() => owner._rehearsing = false;
    }

    /// <returns>true if the address was added; false if it was already there (or this is a <see cref="Rehearsal"/>).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Add(VirtualAddress address)
    {
        var rehearsal = _rehearsing;
        foreach (var prepared in _prepared)
        {
            if (ReferenceEquals(prepared.Address, address))
            {
                var answer = SendAndAck(rehearsal ? prepared.RehearsalRequest : prepared.Request);
                if (answer == 0)
                    return true;
                if (answer == EEXIST || answer == ENODEV && rehearsal)
                    return false;
                if (answer != ENODEV)
                    throw new NetlinkException($"adding {address} to {address.Interface}", answer);
                // The interface was recreated since: the path below looks it up again.
                break;
            }
        }
        var remembered = _indexes.TryGetValue(address.Interface, out var index);
        if (!remembered)
        {
            address.Validate();
            try
            {
                index = _indexes[address.Interface] = LinkStateRequests.IndexOf(_socket, address.Interface);
            }
            catch (NetlinkException e) when (e.Errno == ENODEV && rehearsal)
            {
                // Rehearsing for an interface that is not there (yet): nothing to warm up, and not an error.
                return false;
            }
        }
        var error = SendAndAck(RequestFor(address, rehearsal ? 0 : index));
        if (error == ENODEV && rehearsal)
            return false;
        if (error == ENODEV && remembered)
        {
            // Recreated since it was remembered: look it up again, once.
            index = _indexes[address.Interface] = LinkStateRequests.IndexOf(_socket, address.Interface);
            error = SendAndAck(RequestFor(address, index));
        }
        if (error == 0)
            return true;
        // EXCL: without it the kernel silently replaces an existing address and we could not tell.
        if (error == EEXIST)
            return false;
        throw new NetlinkException($"adding {address} to {address.Interface}", error);
    }

    /// <returns>true if the address was removed; false if it was not there.</returns>
    public bool Remove(VirtualAddress address)
    {
        address.Validate();
        var operation = $"removing {address} from {address.Interface}";
        var index = _indexes[address.Interface] = LinkStateRequests.IndexOf(_socket, address.Interface);
        try
        {
            // Matched on address and prefix only: the label or broadcast it was added with must not keep it there.
            _socket.Request(seq => Encode(RtmDelAddr, NlmFRequest | NlmFAck, seq, address with { Label = null, Broadcast = null }, index), operation);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == EADDRNOTAVAIL)
        {
            return false;
        }
    }

    /// <summary>The RTM_NEWADDR request for <paramref name="address"/> on <paramref name="index"/>, encoded once (sequence patched per send).</summary>
    private byte[] RequestFor(VirtualAddress address, int index)
        => _addRequests.GetOrAdd((address, index), key =>
        {
            key.Address.Validate();
            return Encode(RtmNewAddr, NlmFRequest | NlmFAck | NlmFCreate | NlmFExcl, 0, key.Address, key.Index);
        });

    /// <summary>Sends one request and waits for its ack; returns the kernel's errno (0: done).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe int SendAndAck(byte[] request)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_addLock)
        {
            var sequence = ++_addSequence;
            BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), sequence);
            fixed (byte* p = request)
            {
                if ((long)send(_addFd, p, request.Length, 0) < 0)
                    return errno;
            }
            var deadline = Environment.TickCount64 + (long)AnswerTimeout.TotalMilliseconds;
            while (true)
            {
                var remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                    throw new TimeoutException($"adding an address: no answer from the kernel within {AnswerTimeout.TotalSeconds} s");
                var poll = new pollfd { fd = _addFd, events = POLLIN };
                var ready = LibC.poll(&poll, 1, (int)remaining);
                if (ready < 0 && errno == EINTR || ready == 0)
                    continue;
                if (ready < 0)
                    return errno;
                long received;
                fixed (byte* p = _answer)
                    received = (long)recv(_addFd, p, _answer.Length, 0);
                if (received < 0)
                {
                    if (errno == EINTR)
                        continue;
                    return errno;
                }
                var span = _answer.AsSpan(0, (int)received);
                while (span.Length >= HeaderLength)
                {
                    var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(span);
                    if (length < HeaderLength || length > span.Length)
                        break;
                    var type = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
                    var answered = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
                    // Only the ack of this request; a late one of an earlier request that timed out is skipped.
                    if (type == NlmsgError && answered == sequence && length >= HeaderLength + 4)
                        return -BinaryPrimitives.ReadInt32LittleEndian(span[HeaderLength..]);
                    span = span[Math.Min(Align(length), span.Length)..];
                }
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _socket.Dispose();
        lock (_addLock)
            close(_addFd);
    }
}
