namespace LvsEvents.Eventing.Spool;

/// <summary>The spool directory cannot be used: the message says why and what to change.</summary>
public sealed class SpoolUnavailableException(string message, Exception inner) : Exception(message, inner);
