namespace LvsEvents.Vrrp.Definitions;

/// <summary>A <c>vrrp_script</c>: run every <see cref="Interval"/>; <see cref="Rise"/> successes make it good, <see cref="Fall"/> failures bad.</summary>
public sealed record VrrpScriptDefinition(
    string Name,
    string Command,
    TimeSpan Interval,
    TimeSpan Timeout,
    int Weight,
    bool WeightReverse,
    int Rise,
    int Fall,
    bool InitiallyFailed);
