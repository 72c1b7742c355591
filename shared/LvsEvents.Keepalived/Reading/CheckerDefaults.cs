namespace LvsEvents.Keepalived.Reading;

/// <summary>Checker settings a virtual server or real server passes down to the checkers below it.</summary>
internal sealed record CheckerDefaults(
    double? ConnectTimeout,
    int? Retry,
    double? DelayBeforeRetry,
    double? Warmup,
    double DelayLoop,
    bool? Alpha,
    string? Virtualhost);
