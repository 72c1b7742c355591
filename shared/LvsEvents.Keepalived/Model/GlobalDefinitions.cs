namespace LvsEvents.Keepalived.Model;

/// <summary>The global_defs block, with keepalived's documented defaults where it has one.</summary>
public sealed record GlobalDefinitions
{
    public string? RouterId { get; init; }

    public IReadOnlyList<string> NotificationEmails { get; init; } = [];

    public string? NotificationEmailFrom { get; init; }

    public string? SmtpServer { get; init; }

    /// <summary>keepalived: 25 unless smtp_server gives a port.</summary>
    public int SmtpServerPort { get; init; } = 25;

    public string? SmtpHeloName { get; init; }

    /// <summary>Seconds; keepalived's default is 30.</summary>
    public int SmtpConnectTimeout { get; init; } = 30;

    public bool? SmtpAlert { get; init; }

    public bool? SmtpAlertVrrp { get; init; }

    public bool? SmtpAlertChecker { get; init; }

    public bool EnableScriptSecurity { get; init; }

    public string? ScriptUser { get; init; }

    public string? ScriptGroup { get; init; }

    public string? DefaultInterface { get; init; }

    public int VrrpVersion { get; init; } = 2;

    public bool VrrpStrict { get; init; }

    public string VrrpMcastGroup4 { get; init; } = "224.0.0.18";

    public string VrrpMcastGroup6 { get; init; } = "ff02::12";

    /// <summary>Seconds before the second set of gratuitous ARPs after becoming MASTER; default 5, 0 disables.</summary>
    public int VrrpGarpMasterDelay { get; init; } = 5;

    public int VrrpGarpMasterRepeat { get; init; } = 5;

    /// <summary>Seconds between gratuitous ARP refreshes while MASTER; default 0 (no refreshing).</summary>
    public int VrrpGarpMasterRefresh { get; init; }

    public int VrrpGarpMasterRefreshRepeat { get; init; } = 1;

    /// <summary>Defaults to <see cref="VrrpGarpMasterDelay"/>.</summary>
    public int VrrpGarpLowerPrioDelay { get; init; } = 5;

    /// <summary>Defaults to <see cref="VrrpGarpMasterRepeat"/>.</summary>
    public int VrrpGarpLowerPrioRepeat { get; init; } = 5;

    public double VrrpGarpInterval { get; init; }

    public double VrrpGnaInterval { get; init; }

    public bool LvsFlush { get; init; }

    public IReadOnlyList<PassThroughSetting> OtherSettings { get; init; } = [];

    public SourceLocation? Location { get; init; }
}
