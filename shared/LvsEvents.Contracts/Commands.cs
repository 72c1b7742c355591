namespace LvsEvents.Contracts;

/// <summary>
/// Commands are events too: recorded like everything else, so a post-mortem shows who asked for what.
/// The IPVS writer acts on them; <see cref="LvsEvent.CorrelationId"/> ties the resulting changes back.
/// </summary>
public abstract record LvsCommand : LvsEvent
{
    /// <summary>Who asked: an operator name, <c>recovery</c>, or a canary id.</summary>
    public required string RequestedBy { get; init; }
    public string? Reason { get; init; }
}

/// <summary>Set a real server's weight (gray release steps, slow start, manual change).</summary>
public sealed record SetWeightCommand : LvsCommand
{
    public required RealServerRef RealServer { get; init; }
    public required int Weight { get; init; }
    public required WeightChangeCause Cause { get; init; }
    public override string StreamKey => StreamKeys.RealServer(RealServer);
}

/// <summary>Drain a real server: weight 0, delete once its connections reach 0 or the timeout passes.</summary>
public sealed record DrainCommand : LvsCommand
{
    public required RealServerRef RealServer { get; init; }
    public required TimeSpan Timeout { get; init; }
    public override string StreamKey => StreamKeys.RealServer(RealServer);
}

/// <summary>Undo drains and weight overrides: back to what configuration and health say.</summary>
public sealed record RestoreCommand : LvsCommand
{
    public required RealServerRef RealServer { get; init; }
    public override string StreamKey => StreamKeys.RealServer(RealServer);
}
