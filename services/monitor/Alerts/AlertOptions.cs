namespace LvsEvents.Monitor.Alerts;

/// <summary>Section <c>Alerts</c>: where alerts go besides the bus, and rule timing.</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary>Each gets an HTTP POST with the alert event as JSON.</summary>
    public List<string> WebhookUrls { get; set; } = [];

    /// <summary>keepalived's notification_email, for the monitor: set <see cref="SmtpOptions.Server"/> to enable.</summary>
    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>A failover alert resolves once the new master has held this long.</summary>
    public TimeSpan FailoverStableAfter { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Spool depth (events waiting for the bus) above which a growing spool raises an alert.</summary>
    public long SpoolBacklogThreshold { get; set; } = 1000;

    /// <summary>Active connections in a director's kernel table (all services) above which an alert fires (the article's 10,000).</summary>
    public long ActiveConnectionsThreshold { get; set; } = 10_000;
}

public sealed class SmtpOptions
{
    public string? Server { get; set; }
    public int Port { get; set; } = 25;
    public string From { get; set; } = "lvsevents@localhost";
    public List<string> To { get; set; } = [];
    public string HeloName { get; set; } = "lvsevents";
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
