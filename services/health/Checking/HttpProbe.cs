using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using LvsEvents.Contracts;

namespace LvsEvents.Health.Checking;

/// <summary>One url block of an HTTP_GET/SSL_GET, ready to check.</summary>
public sealed record HttpUrlCheck(string Path, StatusCodeSet StatusCodes, string? Digest, string? HostHeader, Regex? BodyRegex, bool RegexNoMatch);

/// <summary>
/// HTTP_GET and SSL_GET as keepalived does them: for each url, a new connection, one HTTP/1.0 request (or 1.1 with
/// Connection: close) with keepalived's User-Agent, the whole response read to the end, the status checked against
/// status_code and the MD5 of the body (hex, as genhash prints it) against digest. All urls must pass. connect_timeout
/// bounds the whole exchange of each url. Certificates are not verified, as keepalived does not.
/// </summary>
public sealed class HttpProbe(ProbeTarget target, IReadOnlyList<HttpUrlCheck> urls, bool tls, string? sniHost, string httpProtocol) : IProbe
{
    private readonly ProbeLoop.OperationCache _operations = new();
    private byte[]? _address;
    private HttpExchange[]? _exchanges;

    public string Label { get; } = $"{(tls ? "SSL_GET" : "HTTP_GET")} {target}{(urls.Count > 0 ? urls[0].Path : "/")}";

    /// <summary>Clear-text HTTP runs on the <see cref="ProbeLoop"/>: starting it only makes non-blocking system calls.</summary>
    public bool StartsWithoutBlocking => !tls && ProbeLoop.Available;

    public ValueTask<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken)
    {
        if (tls || ProbeLoop.For(this) is not { } loop)
        {
            return ProbeWithSocketsAsync(cancellationToken);
        }

        _address ??= SocketAddresses.Of(target.Endpoint);
        _exchanges ??= [.. urls.Select(u => new HttpExchange(Request(u), u))];
        return _exchanges.Length == 1
            ? loop.RunAsync(_operations, target, _address, _exchanges[0], cancellationToken)
            : ProbeOnLoopAsync(loop, cancellationToken);
    }

    private async ValueTask<ProbeOutcome> ProbeOnLoopAsync(ProbeLoop loop, CancellationToken cancellationToken)
    {
        string? detail = null;
        foreach (var exchange in _exchanges!)
        {
            var outcome = await loop.RunAsync(_operations, target, _address!, exchange, cancellationToken).ConfigureAwait(false);
            if (!outcome.Success)
            {
                return outcome;
            }

            detail = outcome.Detail;
        }

        return ProbeOutcome.Up(detail);
    }

    private async ValueTask<ProbeOutcome> ProbeWithSocketsAsync(CancellationToken cancellationToken)
    {
        string? detail = null;
        foreach (var url in urls)
        {
            var outcome = await GetAsync(url, cancellationToken).ConfigureAwait(false);
            if (!outcome.Success)
            {
                return outcome;
            }

            detail = outcome.Detail;
        }

        return ProbeOutcome.Up(detail);
    }

    private async ValueTask<ProbeOutcome> GetAsync(HttpUrlCheck url, CancellationToken cancellationToken)
    {
        using var deadline = SocketProbing.Deadline(target.Timeout, cancellationToken);
        var socket = SocketProbing.NewTcpSocket(target);
        var stage = "connect";
        Stream? stream = null;
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            await socket.ConnectAsync(target.Endpoint, deadline.Token).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: false);
            if (tls)
            {
                stage = "TLS handshake";
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = sniHost ?? "",
                        RemoteCertificateValidationCallback = static (_, _, _, _) => true,
                    },
                    deadline.Token).ConfigureAwait(false);
            }

            stage = "request";
            await stream.WriteAsync(Request(url), deadline.Token).ConfigureAwait(false);
            stage = "response";
            return await ReadResponseAsync(stream, buffer, url, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return SocketProbing.Classify(e, stage, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            SocketProbing.Abort(socket);
        }
    }

    private byte[] Request(HttpUrlCheck url)
    {
        var defaultPort = tls ? 443 : 80;
        var host = url.HostHeader ?? (target.Endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{target.Endpoint.Address}]" : target.Endpoint.Address.ToString());
        var port = target.Endpoint.Port == defaultPort ? "" : ":" + target.Endpoint.Port.ToString(CultureInfo.InvariantCulture);
        var (version, connection) = httpProtocol switch
        {
            "1.1" => ("1.1", "Connection: close\r\n"),
            "1.0C" => ("1.0", "Connection: close\r\n"),
            _ => ("1.0", ""),
        };
        return Encoding.ASCII.GetBytes($"GET {url.Path} HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\nHost: {host}{port}\r\n{connection}\r\n");
    }

    private static async ValueTask<ProbeOutcome> ReadResponseAsync(Stream stream, byte[] buffer, HttpUrlCheck url, CancellationToken cancellationToken)
    {
        // Headers are small: keep reading until the blank line, then hash (and maybe keep) the body as it streams.
        var filled = 0;
        var headerEnd = -1;
        while (headerEnd < 0)
        {
            if (filled == buffer.Length)
            {
                return ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, "response headers larger than 16 KiB");
            }

            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return filled == 0
                    ? ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, "connection closed without a response")
                    : ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, "connection closed inside the response headers");
            }

            filled += read;
            headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
        }

        if (!TryParseStatus(buffer.AsSpan(0, headerEnd), out var status))
        {
            return ProbeOutcome.Failed(ProbeErrorClass.ProtocolError, "no HTTP status line");
        }

        using var check = new HttpBodyCheck(url);
        var bodyStart = headerEnd + 4;
        check.Consume(buffer.AsSpan(bodyStart, filled - bodyStart));
        if (check.NeedsWholeBody)
        {
            // The digest covers the whole body, which ends when the server closes (HTTP/1.0, or Connection: close).
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                check.Consume(buffer.AsSpan(0, read));
            }
        }

        return check.Outcome(status);
    }

    internal static bool TryParseStatus(ReadOnlySpan<byte> headers, out int status)
    {
        status = 0;
        var lineEnd = headers.IndexOf("\r\n"u8);
        var line = lineEnd < 0 ? headers : headers[..lineEnd];
        if (!line.StartsWith("HTTP/"u8))
        {
            return false;
        }

        var space = line.IndexOf((byte)' ');
        return space > 0 && line.Length >= space + 4
            && int.TryParse(line.Slice(space + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture, out status);
    }
}

/// <summary>The checks of a response after its status line: status_code, the MD5 of the body (digest), the body regex.</summary>
internal sealed class HttpBodyCheck(HttpUrlCheck url) : IDisposable
{
    private const int MaxRegexBody = 1024 * 1024;
    private readonly IncrementalHash? _md5 = url.Digest is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    private readonly MemoryStream? _body = url.BodyRegex is null ? null : new MemoryStream();

    /// <summary>The body must be read to its end (a digest or a regex); otherwise the status decides.</summary>
    public bool NeedsWholeBody => _md5 is not null || _body is not null;

    public void Consume(ReadOnlySpan<byte> chunk)
    {
        _md5?.AppendData(chunk);
        if (_body is not null && _body.Length < MaxRegexBody)
        {
            _body.Write(chunk[..Math.Min(chunk.Length, MaxRegexBody - (int)_body.Length)]);
        }
    }

    public ProbeOutcome Outcome(int status)
    {
        if (!url.StatusCodes.Contains(status))
        {
            return ProbeOutcome.Failed(ProbeErrorClass.BadStatus, $"status {status}, expected {url.StatusCodes}");
        }

        if (_md5 is not null)
        {
            var digest = Convert.ToHexStringLower(_md5.GetHashAndReset());
            if (!digest.Equals(url.Digest, StringComparison.OrdinalIgnoreCase))
            {
                return ProbeOutcome.Failed(ProbeErrorClass.DigestMismatch, $"digest {digest}, expected {url.Digest}");
            }
        }

        if (url.BodyRegex is not null && _body is not null)
        {
            var matched = url.BodyRegex.IsMatch(Encoding.UTF8.GetString(_body.GetBuffer(), 0, (int)_body.Length));
            if (matched == url.RegexNoMatch)
            {
                return ProbeOutcome.Failed(ProbeErrorClass.BadStatus, url.RegexNoMatch ? "body matches regex" : "body does not match regex");
            }
        }

        return ProbeOutcome.Up(StatusDetails.Of(status));
    }

    public void Dispose()
    {
        _md5?.Dispose();
        _body?.Dispose();
    }
}

/// <summary>"status 200" without formatting it on every probe.</summary>
internal static class StatusDetails
{
    private static readonly string?[] Cache = new string?[1000];

    public static string Of(int status)
    {
        if ((uint)status >= (uint)Cache.Length)
        {
            return $"status {status}";
        }

        return Cache[status] ??= $"status {status}";
    }
}
