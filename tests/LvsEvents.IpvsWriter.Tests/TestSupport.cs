using System.Collections.Concurrent;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.Keepalived;
using LvsEvents.Keepalived.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LvsEvents.IpvsWriter.Tests;

/// <summary>Keeps what the reconciler emits, stamped with an id and time as the real emitter does.</summary>
public sealed class RecordingEmitter : IEventEmitter
{
    public ConcurrentQueue<LvsEvent> Events { get; } = new();

    public IReadOnlyList<T> OfType<T>() => Events.OfType<T>().ToList();

    public ValueTask<LvsEvent> EmitAsync(LvsEvent e, CancellationToken cancellationToken = default)
    {
        var id = e.EventId == Guid.Empty ? Guid.CreateVersion7() : e.EventId;
        var stamped = e with { EventId = id, OccurredAt = DateTimeOffset.UtcNow, Service = "ipvs-writer", CorrelationId = e.CorrelationId == Guid.Empty ? id : e.CorrelationId };
        Events.Enqueue(stamped);
        return ValueTask.FromResult(stamped);
    }
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualTime : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;
}

public static class Config
{
    public static KeepalivedConfiguration Parse(string text)
    {
        var result = ConfigurationParser.ParseText(text);
        Assert.False(result.HasErrors, string.Join("\n", result.Errors));
        return result.Configuration;
    }

    public static ILogger<T> Log<T>() => NullLogger<T>.Instance;

    public static RealServerHealthChanged Down(string service, string server) =>
        new() { EventId = Guid.CreateVersion7(), RealServer = RealServerRef.Parse($"{service}->{server}"), From = HealthState.Up, To = HealthState.Down, Checker = "TCP_CHECK" };

    public static RealServerHealthChanged Up(string service, string server) =>
        new() { EventId = Guid.CreateVersion7(), RealServer = RealServerRef.Parse($"{service}->{server}"), From = HealthState.Down, To = HealthState.Up, Checker = "TCP_CHECK" };
}
