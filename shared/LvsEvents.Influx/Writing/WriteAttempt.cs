namespace LvsEvents.Influx;

/// <summary>What one write request came to.</summary>
internal readonly record struct WriteAttempt(
    WriteAttemptOutcome Outcome,
    int StoredPoints,
    int RefusedPoints,
    int? StatusCode,
    string? Error,
    TimeSpan? RetryAfter)
{
    public static WriteAttempt Stored(int points) => new(WriteAttemptOutcome.Stored, points, 0, null, null, null);

    /// <summary>A 4xx answer; with a 1.x/2.x "partial write" the server stored the rest of the batch.</summary>
    public static WriteAttempt Refused(int statusCode, string error, int refusedPoints, int batchSize) =>
        new(WriteAttemptOutcome.Refused, batchSize - refusedPoints, refusedPoints, statusCode, error, null);

    public static WriteAttempt Retryable(string error, int? statusCode = null, TimeSpan? retryAfter = null) =>
        new(WriteAttemptOutcome.Retryable, 0, 0, statusCode, error, retryAfter);
}
