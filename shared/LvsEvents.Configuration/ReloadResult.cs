using LvsEvents.Contracts;

namespace LvsEvents.Configuration;

public enum ReloadOutcome
{
    /// <summary>The file differed and is now the running configuration.</summary>
    Applied,

    /// <summary>The file was valid and equal to the running configuration; nothing was swapped.</summary>
    Unchanged,

    /// <summary>The file had errors; the running configuration stays.</summary>
    Rejected,
}

/// <summary>How one reload ended, and the event it emitted (<see cref="ConfigurationApplied"/> or <see cref="ConfigurationRejected"/>).</summary>
public sealed record ReloadResult(ReloadOutcome Outcome, LvsEvent Event);
