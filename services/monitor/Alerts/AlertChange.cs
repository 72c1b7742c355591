using LvsEvents.Contracts;

namespace LvsEvents.Monitor.Alerts;

/// <summary>A rule's verdict on one subject: start firing, or stop.</summary>
public abstract record AlertChange(string Rule, string Subject)
{
    public string Key => $"{Rule}:{Subject}";
}

public sealed record AlertFires(string Rule, string Subject, AlertSeverity Severity, string Message, Guid Cause) : AlertChange(Rule, Subject);

public sealed record AlertClears(string Rule, string Subject, Guid? Cause) : AlertChange(Rule, Subject);
