namespace LvsEvents.Keepalived.Model;

/// <summary>A vrrp_script block: a check whose result moves the priority of the instances that track it.</summary>
public sealed record VrrpScript
{
    public required string Name { get; init; }

    public string? Script { get; init; }

    /// <summary>Seconds between runs; default 1.</summary>
    public double Interval { get; init; } = 1;

    /// <summary>Seconds after which a run counts as failed; unset means keepalived uses the interval.</summary>
    public double? Timeout { get; init; }

    /// <summary>-253..253, default 0 (failure means FAULT rather than a priority change).</summary>
    public int Weight { get; init; }

    public bool WeightReverse { get; init; }

    public int Rise { get; init; } = 1;

    public int Fall { get; init; } = 1;

    public string? User { get; init; }

    public string? Group { get; init; }

    public bool InitFail { get; init; }

    public required SourceLocation Location { get; init; }
}
