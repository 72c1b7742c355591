namespace LvsEvents.Health.Checking;

/// <summary>
/// One kind of check against one target. A probe never throws for what the target did (refused, timed out, bad
/// answer): that is an outcome. It honours its own time limit and <c>cancellationToken</c> (service stopping).
/// </summary>
public interface IProbe
{
    /// <summary>The checker keyword with its target, e.g. <c>HTTP_GET 192.168.1.22:80/health</c>.</summary>
    string Label { get; }

    ValueTask<ProbeOutcome> ProbeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="ProbeAsync"/> never blocks its caller (it only makes non-blocking system calls before its first wait),
    /// so a probe loop may start it, and time its checker, on the loop's own thread instead of the thread pool.
    /// </summary>
    bool StartsWithoutBlocking => false;
}
