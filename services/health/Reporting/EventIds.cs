namespace LvsEvents.Health.Reporting;

/// <summary>
/// UUIDv7 ids for the events of every probe, laid out as <see cref="Guid.CreateVersion7(DateTimeOffset)"/> lays them out
/// (48-bit Unix milliseconds, version 7, RFC 4122 variant, 74 random bits), with the random bits from
/// <see cref="Random.Shared"/> (seeded by the system) rather than a read of the system's random source per id: thousands
/// of results a second each need one.
/// </summary>
public static class EventIds
{
    public static Guid NewVersion7(DateTimeOffset timestamp)
    {
        var milliseconds = timestamp.ToUnixTimeMilliseconds();
        var high = Random.Shared.NextInt64();
        var low = Random.Shared.NextInt64();
        return new Guid(
            (int)(milliseconds >> 16),
            (short)milliseconds,
            (short)(0x7000 | (int)(high & 0x0FFF)),
            (byte)(0x80 | (int)((high >> 12) & 0x3F)),
            (byte)(high >> 20),
            (byte)low,
            (byte)(low >> 8),
            (byte)(low >> 16),
            (byte)(low >> 24),
            (byte)(low >> 32),
            (byte)(low >> 40));
    }
}
