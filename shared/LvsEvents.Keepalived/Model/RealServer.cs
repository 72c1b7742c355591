namespace LvsEvents.Keepalived.Model;

/// <summary>A real_server of a virtual_server; settings it does not give are inherited from the virtual server.</summary>
public sealed record RealServer
{
    public required string Address { get; init; }

    public int? Port { get; init; }

    /// <summary>0..2147483647, default 1.</summary>
    public int Weight { get; init; } = 1;

    /// <summary>Defaults to the virtual server's method.</summary>
    public ForwardingMethod ForwardingMethod { get; init; }

    public bool InhibitOnFailure { get; init; }

    public ScriptInvocation? NotifyUp { get; init; }

    public ScriptInvocation? NotifyDown { get; init; }

    /// <summary>uthreshold: maximum connections.</summary>
    public int? UpperThreshold { get; init; }

    /// <summary>lthreshold: minimum connections.</summary>
    public int? LowerThreshold { get; init; }

    public bool? SmtpAlert { get; init; }

    public string? Virtualhost { get; init; }

    public IReadOnlyList<HealthChecker> Checkers { get; init; } = [];

    public IReadOnlyList<PassThroughSetting> OtherSettings { get; init; } = [];

    public required SourceLocation Location { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public string Endpoint => EndpointFormat.Format(Address, Port);
}
