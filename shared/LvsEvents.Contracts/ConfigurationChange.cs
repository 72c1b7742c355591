namespace LvsEvents.Contracts;

/// <summary>What kind of change one configuration object went through on a reload.</summary>
public enum ChangeKind
{
    Added,
    Removed,
    Changed,
}

/// <summary>
/// One object of the keepalived configuration (a vrrp_instance, virtual_server, real_server, vrrp_script,
/// global_defs, vrrp_sync_group, ...) that a reload added, removed or changed. Secrets are already redacted.
/// </summary>
/// <param name="ObjectType">The keepalived block keyword, e.g. <c>vrrp_instance</c> or <c>real_server</c>.</param>
/// <param name="Key">What identifies the object, e.g. <c>VI_1</c>, <c>192.168.1.100:80/TCP</c> or <c>192.168.1.100:80/TCP -> 192.168.1.20:80</c>.</param>
/// <param name="Fields">For <see cref="ChangeKind.Changed"/>: the fields that differ.</param>
public sealed record ConfigurationChange(
    string ObjectType,
    string Key,
    ChangeKind Change,
    IReadOnlyList<FieldChange> Fields);

/// <summary>One field that differs; secret values (auth_pass, passwords) are always <c>***</c>.</summary>
public sealed record FieldChange(string Field, string? Old, string? New);
