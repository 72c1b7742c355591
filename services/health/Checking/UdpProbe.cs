using System.Net.Sockets;
using LvsEvents.Contracts;

namespace LvsEvents.Health.Checking;

/// <summary>
/// UDP_CHECK: sends the payload on a connected socket. Without require_reply the server is up unless an ICMP port
/// unreachable comes back within connect_timeout; with it, a reply is needed, of min..max_reply_length bytes and,
/// when given, starting with the required bytes.
/// </summary>
public sealed class UdpProbe(ProbeTarget target, byte[] payload, bool requireReply, byte[]? requiredReply, int minReplyLength, int maxReplyLength) : IProbe
{
    public string Label { get; } = $"UDP_CHECK {target}";

    public async ValueTask<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken)
    {
        using var socket = ProbeNetwork.CreateSocket(target.Endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var deadline = SocketProbing.Deadline(target.Timeout, cancellationToken);
        var buffer = new byte[Math.Max(maxReplyLength, 1) + 1];
        try
        {
            if (target.LocalEndpoint is { } local)
            {
                socket.Bind(local);
            }

            await socket.ConnectAsync(target.Endpoint, deadline.Token).ConfigureAwait(false);
            await socket.SendAsync(payload, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            if (received < minReplyLength || received > maxReplyLength)
            {
                return ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, $"reply of {received} bytes, expected {minReplyLength}..{maxReplyLength}");
            }

            if (requiredReply is not null && !buffer.AsSpan(0, received).StartsWith(requiredReply))
            {
                return ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, "reply does not start with the required bytes");
            }

            return ProbeOutcome.Up($"reply of {received} bytes");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Silence is the normal answer of a UDP service to a probe it does not understand.
            return requireReply ? ProbeOutcome.Failed(ProbeErrorClass.Timeout, "no reply") : ProbeOutcome.Up("no ICMP error");
        }
        catch (SocketException e)
        {
            return SocketProbing.Classify(e.SocketErrorCode, "exchange");
        }
    }
}
