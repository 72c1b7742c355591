namespace LvsEvents.Eventing.Spool;

/// <summary>One event as the spool holds it: its place in the spool's order and its serialized bytes.</summary>
public readonly record struct SpoolRecord(long Sequence, ReadOnlyMemory<byte> Payload);
