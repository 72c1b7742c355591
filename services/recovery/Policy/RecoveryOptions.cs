using System.Globalization;

namespace LvsEvents.Recovery.Policy;

/// <summary>Settings of section <c>Recovery</c>.</summary>
public sealed class RecoveryOptions
{
    public const string Section = "Recovery";

    /// <summary>Stamped as <c>requestedBy</c> on every command.</summary>
    public string RequestedBy { get; set; } = "recovery";

    public SlowStartOptions SlowStart { get; set; } = new();

    public FlapHoldOptions FlapHold { get; set; } = new();

    public SplitBrainOptions SplitBrain { get; set; } = new();

    /// <summary>How often due ramp steps and hold releases are checked.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Where the self-healing state is kept across restarts; default <c>Eventing:SpoolDirectory/recovery-state.json</c>.</summary>
    public string? StateFile { get; set; }

    /// <summary>RabbitMQ deletes this node's queue after it had no consumer for this long.</summary>
    public TimeSpan QueueExpiry { get; set; } = TimeSpan.FromDays(1);
}

public sealed class SlowStartOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Percent of the configured weight per step, comma separated, ascending, the last 100.</summary>
    public string Steps { get; set; } = "10,25,50,100";

    /// <summary>Time between steps.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When a server goes down, set its override to the first step right away, so that the writer puts it back at that
    /// weight the moment health says up (rather than at full weight until the first ramp command arrives).
    /// </summary>
    public bool PrimeOnDown { get; set; } = true;

    public IReadOnlyList<int> ParsedSteps()
    {
        var steps = Steps.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s.TrimEnd('%'), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 100
                ? p
                : throw new FormatException($"Recovery:SlowStart:Steps: '{s}' is not a percentage 1..100"))
            .ToList();
        if (steps.Count == 0 || steps[^1] != 100 || steps.Zip(steps.Skip(1)).Any(p => p.First >= p.Second))
        {
            throw new FormatException($"Recovery:SlowStart:Steps '{Steps}' must ascend and end at 100");
        }

        return steps;
    }
}

public sealed class FlapHoldOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>This many health transitions (up or down) within <see cref="Window"/> hold the server out.</summary>
    public int Transitions { get; set; } = 4;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A held server is released once it stayed up this long.</summary>
    public TimeSpan Stability { get; set; } = TimeSpan.FromMinutes(2);
}

public sealed class SplitBrainOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Node id that keeps mastership when priorities tie (optional).</summary>
    public string? PreferredMaster { get; set; }

    /// <summary>This node's VRRP address, to break a tie as VRRP does (higher address wins) without a preference.</summary>
    public string? LocalAddress { get; set; }

    /// <summary>Gateway whose reachability is checked (ICMP echo) before deciding; a node that cannot reach it yields.</summary>
    public string? Gateway { get; set; }

    /// <summary>Priority the yielding node advertises.</summary>
    public int YieldPriority { get; set; } = 1;
}
