using System.Net.Sockets;
using System.Text;
using LvsEvents.Contracts;

namespace LvsEvents.Health.Checking;

/// <summary>SMTP_CHECK: connect, a 220 greeting, HELO answered with 250, then QUIT, all within connect_timeout.</summary>
public sealed class SmtpProbe(ProbeTarget target, string heloName) : IProbe
{
    public string Label { get; } = $"SMTP_CHECK {target}";

    public async ValueTask<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken)
    {
        using var deadline = SocketProbing.Deadline(target.Timeout, cancellationToken);
        var socket = SocketProbing.NewTcpSocket(target);
        var stage = "connect";
        try
        {
            await socket.ConnectAsync(target.Endpoint, deadline.Token).ConfigureAwait(false);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            using var reader = new StreamReader(stream, Encoding.ASCII, false, 1024, leaveOpen: true);
            stage = "greeting";
            var greeting = await ReadReplyAsync(reader, deadline.Token).ConfigureAwait(false);
            if (greeting != 220)
            {
                return ProbeOutcome.Failed(ProbeErrorClass.BadStatus, $"greeting {greeting}, expected 220");
            }

            stage = "HELO";
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HELO {heloName}\r\n"), deadline.Token).ConfigureAwait(false);
            var helo = await ReadReplyAsync(reader, deadline.Token).ConfigureAwait(false);
            if (helo != 250)
            {
                return ProbeOutcome.Failed(ProbeErrorClass.BadStatus, $"HELO answered {helo}, expected 250");
            }

            stage = "QUIT";
            await stream.WriteAsync("QUIT\r\n"u8.ToArray(), deadline.Token).ConfigureAwait(false);
            return ProbeOutcome.Up("250");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return SocketProbing.Classify(e, stage, cancellationToken);
        }
        finally
        {
            SocketProbing.Abort(socket);
        }
    }

    /// <summary>The code of a reply, reading past continuation lines (<c>250-...</c>); -1 when the line is not a reply.</summary>
    private static async Task<int> ReadReplyAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new IOException("connection closed");
            if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), out var code))
            {
                return -1;
            }

            if (line.Length == 3 || line[3] != '-')
            {
                return code;
            }
        }
    }
}
