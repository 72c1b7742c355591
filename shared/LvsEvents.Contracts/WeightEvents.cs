namespace LvsEvents.Contracts;

/// <summary>Who changed a weight.</summary>
public enum WeightChangeCause
{
    Health,
    Operator,
    Recovery,
    Config,
}

/// <summary>The weight the system wants for a real server changed.</summary>
public sealed record RealServerWeightChanged : LvsEvent
{
    public required RealServerRef RealServer { get; init; }
    public required int OldWeight { get; init; }
    public required int NewWeight { get; init; }
    public required WeightChangeCause Cause { get; init; }
    public string? Detail { get; init; }
    public override string StreamKey => StreamKeys.RealServer(RealServer);
}
