namespace LvsEvents.Vrrp;

/// <summary>The product's own VRRP settings (section <c>Vrrp</c>), beside what keepalived.conf says.</summary>
public sealed class VrrpServiceOptions
{
    public const string Section = "Vrrp";

    /// <summary>
    /// The network namespace (a name under /run/netns) to speak VRRP in; overrides keepalived's
    /// <c>net_namespace</c>. The service itself stays in its own namespace, so it still reaches the bus.
    /// </summary>
    public string? NetworkNamespace { get; set; }

    /// <summary>Adverts from another master with lower or equal priority beyond which split brain is suspected.</summary>
    public int SplitBrainIntervals { get; set; } = 3;

    /// <summary>
    /// The nice value of the whole lvs-vrrp process, every thread of it (keepalived's <c>vrrp_priority</c>, which
    /// overrides it, is the VRRP process's too); -20 (most favoured) to 19. Advert timing must hold on a loaded
    /// director, and any thread can stop the protocol threads (a garbage collection runs on the thread that needed it).
    /// </summary>
    public int ProcessNice { get; set; } = -10;

    /// <summary>RabbitMQ deletes this node's command queue (<c>lvs-vrrp-commands-NODE</c>) after it had no consumer for this long.</summary>
    public TimeSpan QueueExpiry { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often the advert counters go to the log and metrics.</summary>
    public TimeSpan CountersInterval { get; set; } = TimeSpan.FromSeconds(10);
}
