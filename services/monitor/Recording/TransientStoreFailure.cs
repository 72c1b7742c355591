using Npgsql;

namespace LvsEvents.Monitor.Recording;

/// <summary>
/// Which store failures are worth waiting out for as long as it takes (the database is away, overloaded,
/// restarting, its schema is being created by another monitor, or two recorders raced on the same
/// event) and which are not (a batch PostgreSQL refuses
/// outright would block the queue forever: it gets a few tries, then MassTransit's error queue keeps it).
/// </summary>
public static class TransientStoreFailure
{
    public static bool Matches(Exception e) => e switch
    {
        PostgresException p => p.SqlState is "23505" or "40001" or "40P01" or "42P01" or "3F000"
            || p.SqlState.StartsWith("08", StringComparison.Ordinal)
            || p.SqlState.StartsWith("53", StringComparison.Ordinal)
            || p.SqlState.StartsWith("57P", StringComparison.Ordinal),
        NpgsqlException n => true, // no server answer at all: connection refused, reset, timeout
        TimeoutException => true,
        _ => false,
    };
}
