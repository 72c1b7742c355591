namespace LvsEvents.Influx;

internal enum WriteAttemptOutcome
{
    /// <summary>2xx: every point stored.</summary>
    Stored,

    /// <summary>4xx (other than 408/429): retrying would get the same answer.</summary>
    Refused,

    /// <summary>5xx, 408, 429, timeout or connection error: worth trying again.</summary>
    Retryable,
}
