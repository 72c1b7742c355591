namespace LvsEvents.Configuration;

/// <summary>Which keepalived.conf a service runs from, bound from the <c>Keepalived</c> section (and <c>--config FILE</c>).</summary>
public sealed class KeepalivedConfigurationOptions
{
    public const string Section = "Keepalived";

    public const string DefaultFile = "/etc/keepalived/keepalived.conf";

    /// <summary>The main file; includes resolve relative to it.</summary>
    public string File { get; set; } = DefaultFile;

    /// <summary>keepalived's <c>-i</c>, selecting <c>@id</c> lines. Defaults to the first label of the host name.</summary>
    public string? ConfigId { get; set; }
}
