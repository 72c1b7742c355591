using LvsEvents.Contracts;

namespace LvsEvents.Health.Checking;

/// <summary>The result of one probe, before it becomes an event.</summary>
public readonly record struct ProbeOutcome(bool Success, ProbeErrorClass Error, string? Detail, int? DynamicWeight = null)
{
    public static ProbeOutcome Up(string? detail = null, int? dynamicWeight = null) => new(true, ProbeErrorClass.None, detail, dynamicWeight);

    public static ProbeOutcome Failed(ProbeErrorClass error, string? detail) => new(false, error, detail);
}
