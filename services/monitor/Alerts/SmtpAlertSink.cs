using System.Net.Sockets;
using System.Text;
using LvsEvents.Contracts;

namespace LvsEvents.Monitor.Alerts;

/// <summary>
/// Mails an alert as keepalived's notification_email does: plain SMTP (EHLO, MAIL FROM, RCPT TO, DATA), one
/// message per alert, subject saying firing or resolved.
/// </summary>
public sealed class SmtpAlertSink(SmtpOptions options) : IAlertSink
{
    public string Name => $"smtp {options.Server}:{options.Port}";

    public async Task DeliverAsync(LvsEvent alert, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var token = timeout.Token;
        using var client = new TcpClient();
        await client.ConnectAsync(options.Server!, options.Port, token).ConfigureAwait(false);
        await using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };

        await ExpectAsync(reader, "220", token).ConfigureAwait(false);
        await CommandAsync(writer, reader, $"EHLO {options.HeloName}", "250", token).ConfigureAwait(false);
        await CommandAsync(writer, reader, $"MAIL FROM:<{options.From}>", "250", token).ConfigureAwait(false);
        foreach (var to in options.To)
            await CommandAsync(writer, reader, $"RCPT TO:<{to}>", "25", token).ConfigureAwait(false);
        await CommandAsync(writer, reader, "DATA", "354", token).ConfigureAwait(false);
        var (subject, body) = Describe(alert);
        var message = new StringBuilder()
            .Append("From: ").Append(options.From).Append("\r\n")
            .Append("To: ").AppendJoin(", ", options.To).Append("\r\n")
            .Append("Subject: ").Append(subject).Append("\r\n")
            .Append("Date: ").Append(alert.OccurredAt.ToString("r", System.Globalization.CultureInfo.InvariantCulture)).Append("\r\n")
            .Append("Content-Type: text/plain; charset=us-ascii\r\n\r\n");
        foreach (var line in body.Split('\n'))
            message.Append(line.StartsWith('.') ? "." + line : line).Append("\r\n"); // dot-stuffing (RFC 5321 4.5.2)
        message.Append('.');
        await CommandAsync(writer, reader, message.ToString(), "250", token).ConfigureAwait(false);
        await CommandAsync(writer, reader, "QUIT", "221", token).ConfigureAwait(false);
    }

    public static (string Subject, string Body) Describe(LvsEvent alert) => alert switch
    {
        AlertRaised r => ($"[LvsEvents] FIRING {r.Severity}: {r.Rule} {r.Subject}", $"{r.Message}\nnode: {r.NodeId}\nsince: {r.OccurredAt:O}\nalert: {r.AlertKey}"),
        AlertResolved r => ($"[LvsEvents] RESOLVED: {r.Rule} {r.Subject}", $"resolved after {r.Duration.TotalSeconds:0} s\nat: {r.OccurredAt:O}\nalert: {r.AlertKey}"),
        _ => throw new ArgumentException($"{alert.EventType} is not an alert", nameof(alert)),
    };

    private static async Task CommandAsync(StreamWriter writer, StreamReader reader, string command, string expected, CancellationToken token)
    {
        await writer.WriteLineAsync(command.AsMemory(), token).ConfigureAwait(false);
        await ExpectAsync(reader, expected, token).ConfigureAwait(false);
    }

    private static async Task ExpectAsync(StreamReader reader, string expected, CancellationToken token)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync(token).ConfigureAwait(false) ?? throw new IOException("the SMTP server closed the connection");
            if (!line.StartsWith(expected, StringComparison.Ordinal))
                throw new IOException($"the SMTP server answered '{line}'");
            // Multi-line replies ("250-...") end with a line whose code is followed by a space.
            if (line.Length < 4 || line[3] != '-')
                return;
        }
    }
}
