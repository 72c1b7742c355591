namespace LvsEvents.Eventing;

/// <summary>Who emits: the director (node) and the service on it. Stamped on every event.</summary>
public sealed record ServiceIdentity(string NodeId, string Service);
