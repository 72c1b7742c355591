using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace LvsEvents.Vrrp.Protocol;

/// <summary>
/// An IPv4 VRRP advertisement, VRRPv2 (RFC 3768 §5.1) or VRRPv3 (RFC 5798 §5.1), as it is on the wire:
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
/// v2: |   Auth Type   |   Adver Int   |          Checksum             |
/// v3: |(rsvd) |     Max Adver Int     |          Checksum             |
/// |                    IPv4 address(es) ...                       |
/// v2 only: |          Authentication Data (8 bytes)          |
/// </code>
/// Decoding keeps every field as received (type, reserved bits, checksum) so the validator can judge it;
/// encoding computes the checksum.
/// </summary>
public sealed record VrrpAdvertisement
{
    public const byte AdvertisementType = 1;
    public const int FixedHeaderLength = 8;
    public const int MaxAddresses = byte.MaxValue;

    /// <summary>The v3 interval field is 12 bits of centiseconds.</summary>
    public const ushort MaxV3IntervalCentiseconds = 0x0FFF;

    public required VrrpVersion Version { get; init; }

    /// <summary>1 is an advertisement, the only type VRRP defines.</summary>
    public byte Type { get; init; } = AdvertisementType;

    public required byte VirtualRouterId { get; init; }
    public required byte Priority { get; init; }
    public required IReadOnlyList<IPAddress> Addresses { get; init; }

    /// <summary>VRRPv2 only.</summary>
    public VrrpAuthenticationType AuthenticationType { get; init; }

    /// <summary>VRRPv2 only: the 8 bytes after the addresses (zeros when no authentication).</summary>
    public ReadOnlyMemory<byte> AuthenticationData { get; init; } = new byte[VrrpPassword.Length];

    /// <summary>VRRPv2 only: Adver Int in whole seconds.</summary>
    public byte AdvertisementIntervalSeconds { get; init; }

    /// <summary>VRRPv3 only: Max Adver Int in centiseconds (12 bits).</summary>
    public ushort MaxAdvertisementIntervalCentiseconds { get; init; }

    /// <summary>VRRPv3 only: the 4 reserved bits as received (sent as zero, ignored on receipt per RFC 5798).</summary>
    public byte ReservedBits { get; init; }

    /// <summary>As received; <see cref="Encode"/> ignores it and writes the computed checksum.</summary>
    public ushort Checksum { get; init; }

    /// <summary>The interval the sender advertises at.</summary>
    public TimeSpan AdvertisementInterval => Version == VrrpVersion.V2
        ? TimeSpan.FromSeconds(AdvertisementIntervalSeconds)
        : TimeSpan.FromTicks(MaxAdvertisementIntervalCentiseconds * TimeSpan.TicksPerMillisecond * 10);

    /// <summary>Length of the VRRP message (the IP payload).</summary>
    public int Length => LengthFor(Version, Addresses.Count);

    public static int LengthFor(VrrpVersion version, int addressCount)
        => FixedHeaderLength + 4 * addressCount + (version == VrrpVersion.V2 ? VrrpPassword.Length : 0);

    /// <summary>A VRRPv2 advert as keepalived sends it: auth data is the zero-padded password, or zeros.</summary>
    public static VrrpAdvertisement CreateV2(byte virtualRouterId, byte priority, byte intervalSeconds,
        IReadOnlyList<IPAddress> addresses, VrrpAuthenticationType authenticationType = VrrpAuthenticationType.None,
        string? password = null) => new()
        {
            Version = VrrpVersion.V2,
            VirtualRouterId = virtualRouterId,
            Priority = priority,
            Addresses = addresses,
            AuthenticationType = authenticationType,
            AuthenticationData = VrrpPassword.ToAuthenticationData(
                authenticationType == VrrpAuthenticationType.SimpleText ? password : null),
            AdvertisementIntervalSeconds = intervalSeconds,
        };

    public static VrrpAdvertisement CreateV3(byte virtualRouterId, byte priority, ushort intervalCentiseconds,
        IReadOnlyList<IPAddress> addresses) => new()
        {
            Version = VrrpVersion.V3,
            VirtualRouterId = virtualRouterId,
            Priority = priority,
            Addresses = addresses,
            MaxAdvertisementIntervalCentiseconds = intervalCentiseconds,
            AuthenticationData = ReadOnlyMemory<byte>.Empty, // v3 has none, as decoding reports
        };

    /// <summary>
    /// The VRRP message bytes with their checksum. <paramref name="source"/> and <paramref name="destination"/>
    /// are the IP header's addresses (224.0.0.18 or the unicast peer): VRRPv3 checksums them in its
    /// pseudo-header; VRRPv2 ignores them.
    /// </summary>
    public byte[] Encode(IPAddress source, IPAddress destination)
    {
        var buffer = new byte[Length];
        WriteTo(buffer, source, destination);
        return buffer;
    }

    /// <summary>Writes the message into <paramref name="destination"/> and returns its length.</summary>
    public int WriteTo(Span<byte> destination, IPAddress source, IPAddress destinationAddress)
    {
        if (Version is not (VrrpVersion.V2 or VrrpVersion.V3))
            throw new InvalidOperationException($"VRRP version {(int)Version} cannot be encoded.");
        if (Addresses.Count > MaxAddresses)
            throw new InvalidOperationException($"A VRRP advert carries at most {MaxAddresses} addresses.");
        if (Version == VrrpVersion.V3 && MaxAdvertisementIntervalCentiseconds > MaxV3IntervalCentiseconds)
            throw new InvalidOperationException("The VRRPv3 interval has 12 bits: at most 4095 centiseconds.");
        if (Version == VrrpVersion.V2 && AuthenticationData.Length != VrrpPassword.Length)
            throw new InvalidOperationException("VRRPv2 authentication data is exactly 8 bytes.");
        var length = Length;
        if (destination.Length < length)
            throw new ArgumentException($"Needs {length} bytes.", nameof(destination));

        var message = destination[..length];
        message[0] = (byte)(((int)Version << 4) | (Type & 0x0F));
        message[1] = VirtualRouterId;
        message[2] = Priority;
        message[3] = (byte)Addresses.Count;
        if (Version == VrrpVersion.V2)
        {
            message[4] = (byte)AuthenticationType;
            message[5] = AdvertisementIntervalSeconds;
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(message[4..],
                (ushort)(((ReservedBits & 0x0F) << 12) | (MaxAdvertisementIntervalCentiseconds & 0x0FFF)));
        }
        message[6] = 0;
        message[7] = 0;
        var offset = FixedHeaderLength;
        foreach (var address in Addresses)
        {
            if (address.AddressFamily != AddressFamily.InterNetwork || !address.TryWriteBytes(message.Slice(offset, 4), out _))
                throw new InvalidOperationException($"{address} is not an IPv4 address.");
            offset += 4;
        }
        if (Version == VrrpVersion.V2)
            AuthenticationData.Span.CopyTo(message[offset..]);

        BinaryPrimitives.WriteUInt16BigEndian(message[6..], InternetChecksum.ForVrrp(Version, message, source, destinationAddress));
        return length;
    }

    /// <summary>
    /// Reads a VRRP message (the IP payload, exactly as long as the IP header's total length says). It never
    /// throws: malformed input is an error code. Content checks (type, VRID, checksum, auth, interval) are the
    /// <see cref="AdvertisementValidator"/>'s job.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> payload, out VrrpAdvertisement? advertisement, out AdvertisementDecodeError error)
    {
        advertisement = null;
        if (payload.Length < FixedHeaderLength)
        {
            error = AdvertisementDecodeError.TooShort;
            return false;
        }
        var versionNibble = payload[0] >> 4;
        if (versionNibble is not (2 or 3))
        {
            error = AdvertisementDecodeError.UnsupportedVersion;
            return false;
        }
        var version = (VrrpVersion)versionNibble;
        int count = payload[3];
        // keepalived also insists on the exact length: trailing bytes mean the count is wrong.
        if (payload.Length != LengthFor(version, count))
        {
            error = AdvertisementDecodeError.CountLengthMismatch;
            return false;
        }

        var addresses = new IPAddress[count];
        for (var i = 0; i < count; i++)
            addresses[i] = new IPAddress(payload.Slice(FixedHeaderLength + 4 * i, 4));

        var word = BinaryPrimitives.ReadUInt16BigEndian(payload[4..]);
        advertisement = new VrrpAdvertisement
        {
            Version = version,
            Type = (byte)(payload[0] & 0x0F),
            VirtualRouterId = payload[1],
            Priority = payload[2],
            Addresses = addresses,
            AuthenticationType = version == VrrpVersion.V2 ? (VrrpAuthenticationType)payload[4] : VrrpAuthenticationType.None,
            AdvertisementIntervalSeconds = version == VrrpVersion.V2 ? payload[5] : (byte)0,
            MaxAdvertisementIntervalCentiseconds = version == VrrpVersion.V3 ? (ushort)(word & 0x0FFF) : (ushort)0,
            ReservedBits = version == VrrpVersion.V3 ? (byte)(word >> 12) : (byte)0,
            Checksum = BinaryPrimitives.ReadUInt16BigEndian(payload[6..]),
            AuthenticationData = version == VrrpVersion.V2
                ? payload.Slice(FixedHeaderLength + 4 * count, VrrpPassword.Length).ToArray()
                : ReadOnlyMemory<byte>.Empty,
        };
        error = AdvertisementDecodeError.None;
        return true;
    }
}
