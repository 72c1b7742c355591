namespace LvsEvents.Contracts;

/// <summary>
/// The commands of an <see cref="EventBatch"/>, published again on their own exchange. A service that only acts on
/// commands (lvs-vrrp's resignations and drills, lvs-health's drills) binds its queue here and never receives the
/// event stream, which on a busy cluster is tens of thousands of probe results a second it would only throw away.
/// The <see cref="EventBatch"/> still carries the commands too, so the store records them with everything else.
/// </summary>
/// <param name="Batch">The commands, as they were spooled (same node, service and JSON; sequences not consecutive).</param>
public sealed record CommandBatch(EventBatch Batch)
{
    // System.Text.Json writes the type discriminator first, and every command's type starts with "command.".
    private static readonly byte[] CommandPrefix = "{\"eventType\":\"command."u8.ToArray();

    /// <summary>Whether the JSON of one event is a command's.</summary>
    public static bool IsCommand(ReadOnlySpan<byte> json) => json.StartsWith(CommandPrefix);

    /// <summary>The commands among <paramref name="events"/> (JSON, as spooled), or null when there are none.</summary>
    public static CommandBatch? Of(string nodeId, string service, long firstSequence, IReadOnlyList<ReadOnlyMemory<byte>> events)
    {
        List<ReadOnlyMemory<byte>>? commands = null;
        foreach (var e in events)
        {
            if (IsCommand(e.Span))
                (commands ??= []).Add(e);
        }

        return commands is null ? null : new CommandBatch(EventBatch.FromJson(nodeId, service, firstSequence, commands));
    }

    /// <summary>The commands of <paramref name="batch"/>, or null when it has none.</summary>
    public static CommandBatch? Of(EventBatch batch) => Of(batch.NodeId, batch.Service, batch.FirstSequence, batch.ReadJson().ToList());
}
