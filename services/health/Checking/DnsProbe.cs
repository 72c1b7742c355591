using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using LvsEvents.Contracts;

namespace LvsEvents.Health.Checking;

/// <summary>
/// DNS_CHECK: one query over UDP (type and name from the configuration, recursion desired). Up on a response with our
/// id, no error code and at least one answer, as keepalived's dns check requires.
/// </summary>
public sealed class DnsProbe(ProbeTarget target, string type, string name) : IProbe
{
    private static readonly Dictionary<string, ushort> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        ["A"] = 1, ["NS"] = 2, ["CNAME"] = 5, ["SOA"] = 6, ["MX"] = 15, ["TXT"] = 16, ["AAAA"] = 28,
    };

    private readonly ushort _type = Types.TryGetValue(type, out var code) ? code : throw new ArgumentException($"unknown DNS type {type}", nameof(type));

    public string Label { get; } = $"DNS_CHECK {target} {type} {name}";

    public async ValueTask<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken)
    {
        using var socket = ProbeNetwork.CreateSocket(target.Endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var deadline = SocketProbing.Deadline(target.Timeout, cancellationToken);
        var id = (ushort)Random.Shared.Next(0, 65536);
        var reply = new byte[4096];
        try
        {
            if (target.LocalEndpoint is { } local)
            {
                socket.Bind(local);
            }

            await socket.ConnectAsync(target.Endpoint, deadline.Token).ConfigureAwait(false);
            await socket.SendAsync(Query(id), SocketFlags.None, deadline.Token).ConfigureAwait(false);
            while (true)
            {
                var received = await socket.ReceiveAsync(reply, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (received < 12 || BinaryPrimitives.ReadUInt16BigEndian(reply) != id)
                {
                    continue; // a stray or late datagram: wait for ours until the deadline
                }

                var flags = BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(2));
                var rcode = flags & 0xF;
                var answers = BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(6));
                if ((flags & 0x8000) == 0)
                {
                    return ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, "not a response");
                }

                if (rcode != 0)
                {
                    return ProbeOutcome.Failed(ProbeErrorClass.BadStatus, $"rcode {rcode}");
                }

                return answers == 0
                    ? ProbeOutcome.Failed(ProbeErrorClass.BadStatus, "no answer")
                    : ProbeOutcome.Up($"{answers} answers");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return SocketProbing.Classify(e, "query", cancellationToken);
        }
    }

    private byte[] Query(ushort id)
    {
        var message = new List<byte>(64);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], 0x0100); // recursion desired
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1);
        message.AddRange(header.ToArray());
        foreach (var label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            message.Add((byte)bytes.Length);
            message.AddRange(bytes);
        }

        message.Add(0);
        message.Add((byte)(_type >> 8));
        message.Add((byte)_type);
        message.Add(0);
        message.Add(1); // class IN
        return [.. message];
    }
}
