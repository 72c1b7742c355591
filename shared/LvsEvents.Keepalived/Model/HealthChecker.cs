using System.Text.Json.Serialization;

namespace LvsEvents.Keepalived.Model;

/// <summary>
/// A real server health checker. Connection settings not given on the checker come from the real server, then the
/// virtual server, then keepalived's per-checker default (connect_timeout 5 s; retry 1, DNS_CHECK 3, MISC_CHECK 0;
/// delay_before_retry 1 s, HTTP_GET/SSL_GET 3 s, DNS_CHECK delay_loop).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "checker")]
[JsonDerivedType(typeof(TcpCheck), "TCP_CHECK")]
[JsonDerivedType(typeof(HttpGetCheck), "HTTP_GET")]
[JsonDerivedType(typeof(SslGetCheck), "SSL_GET")]
[JsonDerivedType(typeof(MiscCheck), "MISC_CHECK")]
[JsonDerivedType(typeof(DnsCheck), "DNS_CHECK")]
[JsonDerivedType(typeof(UdpCheck), "UDP_CHECK")]
[JsonDerivedType(typeof(PingCheck), "PING_CHECK")]
[JsonDerivedType(typeof(SmtpCheck), "SMTP_CHECK")]
public abstract record HealthChecker
{
    /// <summary>The block keyword, e.g. TCP_CHECK.</summary>
    [JsonIgnore]
    public abstract string Keyword { get; }

    public string? ConnectIp { get; init; }

    public int? ConnectPort { get; init; }

    public string? BindTo { get; init; }

    public string? BindInterface { get; init; }

    public int? BindPort { get; init; }

    public long? Fwmark { get; init; }

    /// <summary>Seconds.</summary>
    public double ConnectTimeout { get; init; } = 5;

    public int Retry { get; init; } = 1;

    /// <summary>Seconds.</summary>
    public double DelayBeforeRetry { get; init; } = 1;

    /// <summary>Seconds; defaults to the delay loop.</summary>
    public double Warmup { get; init; }

    /// <summary>Seconds; defaults to the virtual server's delay_loop.</summary>
    public double DelayLoop { get; init; } = 60;

    public bool? Alpha { get; init; }

    public bool? LogAllFailures { get; init; }

    public IReadOnlyList<PassThroughSetting> OtherSettings { get; init; } = [];

    public required SourceLocation Location { get; init; }
}
