using System.Net;
using FsCheck.Xunit;
using LvsEvents.Contracts;
using static LvsEvents.Vrrp.Protocol.Tests.Lab;

namespace LvsEvents.Vrrp.Protocol.Tests;

/// <summary>
/// The receive path faces the LAN: whatever arrives, decode + validate + state machine must not throw, and a
/// rejected packet must leave the instance exactly as it was.
/// </summary>
public class ReceivePathPropertyTests
{
    private static (VrrpState, DateTimeOffset?, int, TimeSpan) Snapshot(VrrpInstanceStateMachine m)
        => (m.State, m.NextDeadline, m.EffectivePriority, m.MasterAdvertisementInterval);

    private static VrrpInstanceStateMachine[] Instances()
    {
        var v2Backup = Started(Options(100));
        var v2Master = Started(Options(255));
        var v3Backup = Started(Options(100, VrrpVersion.V3, 0.1));
        var v3Master = Started(Options(100, VrrpVersion.V3, 0.1) with { InitialState = VrrpState.Master });
        return [v2Backup, v2Master, v3Backup, v3Master];
    }

    private static bool FeedEverywhere(byte[] payload, ReceivedIpHeader ip)
    {
        foreach (var m in Instances())
        {
            var before = Snapshot(m);
            var d = m.Receive(payload, ip, At(1));
            if (d.RejectReason is not null && (Snapshot(m) != before || !d.IsEmpty))
                return false;
            if (m.Counters.Accepted + m.Counters.TotalRejected != 1)
                return false;
        }
        return true;
    }

    [Property(MaxTest = 3000)]
    public bool Random_bytes_never_throw_and_rejections_change_nothing(byte[]? bytes, byte ttl, uint source)
        => FeedEverywhere(bytes ?? [], new ReceivedIpHeader(new IPAddress(source), Group, ttl));

    [Property(MaxTest = 3000)]
    public bool Random_bytes_shaped_like_adverts_never_throw(byte[]? body, bool v3, byte vrid, byte count)
    {
        // Random content behind a plausible header, so that the checks past the length are reached too.
        var version = v3 ? VrrpVersion.V3 : VrrpVersion.V2;
        var length = VrrpAdvertisement.LengthFor(version, count % 4);
        var payload = new byte[length];
        (body ?? []).AsSpan(0, Math.Min(length, body?.Length ?? 0)).CopyTo(payload);
        payload[0] = (byte)(((int)version << 4) | 1);
        payload[1] = (byte)(vrid % 2 == 0 ? 7 : vrid);
        payload[3] = (byte)(count % 4);
        return FeedEverywhere(payload, new ReceivedIpHeader(Peer(20), Group, 255));
    }

    [Property(MaxTest = 3000)]
    public bool Mutated_valid_adverts_never_throw_and_rejections_change_nothing(bool v3, byte priority, int[]? positions, byte[]? values, sbyte resize)
    {
        var valid = v3
            ? VrrpAdvertisement.CreateV3(7, priority, 10, [Vip]).Encode(Peer(20), Group)
            : VrrpAdvertisement.CreateV2(7, priority, 1, [Vip], VrrpAuthenticationType.SimpleText, "s3cret").Encode(Peer(20), Group);
        // Truncate or extend by a few bytes, then overwrite random positions.
        var length = Math.Max(0, valid.Length + resize % 6);
        var mutated = new byte[length];
        valid.AsSpan(0, Math.Min(length, valid.Length)).CopyTo(mutated);
        var p = positions ?? [];
        var v = values ?? [];
        for (var i = 0; i < Math.Min(p.Length, v.Length) && length > 0; i++)
            mutated[(int)((uint)p[i] % (uint)length)] = v[i];
        return FeedEverywhere(mutated, new ReceivedIpHeader(Peer(20), Group, 255));
    }

    [Property(MaxTest = 1000)]
    public bool Any_single_bit_flip_of_a_valid_advert_is_rejected_or_still_a_valid_advert(bool v3, int bit)
    {
        var valid = v3
            ? VrrpAdvertisement.CreateV3(7, 150, 10, [Vip]).Encode(Peer(20), Group)
            : VrrpAdvertisement.CreateV2(7, 150, 1, [Vip], VrrpAuthenticationType.SimpleText, "s3cret").Encode(Peer(20), Group);
        var index = (int)((uint)bit % (uint)(valid.Length * 8));
        valid[index / 8] ^= (byte)(1 << (index % 8));
        var validator = new AdvertisementValidator(Options(100, v3 ? VrrpVersion.V3 : VrrpVersion.V2, v3 ? 0.1 : 1).ToExpectations());
        // The checksum catches every single-bit error, so nothing corrupted is ever accepted.
        return !validator.Validate(valid, new ReceivedIpHeader(Peer(20), Group, 255)).IsAccepted;
    }

    [Property(MaxTest = 2000)]
    public bool Encode_then_decode_round_trips(bool v3, byte vrid, byte priority, ushort interval, uint[]? addresses, byte authType, ulong password)
    {
        var list = (addresses ?? []).Take(20).Select(a => new IPAddress(a)).ToArray();
        var authData = BitConverter.GetBytes(password);
        var advert = v3
            ? VrrpAdvertisement.CreateV3(vrid, priority, (ushort)(interval & 0x0FFF), list)
            : VrrpAdvertisement.CreateV2(vrid, priority, (byte)interval, list) with
            {
                AuthenticationType = (VrrpAuthenticationType)authType,
                AuthenticationData = authData,
            };
        var bytes = advert.Encode(Peer(20), Group);
        if (!InternetChecksum.IsValidVrrp(advert.Version, bytes, Peer(20), Group))
            return false;
        if (!VrrpAdvertisement.TryDecode(bytes, out var decoded, out _) || decoded is null)
            return false;
        return decoded.Version == advert.Version
            && decoded.VirtualRouterId == vrid
            && decoded.Priority == priority
            && decoded.Addresses.SequenceEqual(list)
            && decoded.AdvertisementInterval == advert.AdvertisementInterval
            && decoded.AuthenticationType == advert.AuthenticationType
            && decoded.AuthenticationData.Span.SequenceEqual(advert.AuthenticationData.Span)
            && decoded.Length == bytes.Length;
    }
}
