namespace LvsEvents.Keepalived.Model;

/// <summary>A script keepalived runs (notify_*, quorum_up, misc_path, ...): the command line and optional user/group.</summary>
public sealed record ScriptInvocation(string Command, string? User, string? Group)
{
    public override string ToString() =>
        User is null ? Command : Group is null ? $"{Command} {User}" : $"{Command} {User} {Group}";
}
