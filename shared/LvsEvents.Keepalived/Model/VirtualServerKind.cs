namespace LvsEvents.Keepalived.Model;

/// <summary>How a virtual_server names its service: <c>IP [PORT]</c>, <c>fwmark N</c> or <c>group NAME</c>.</summary>
public enum VirtualServerKind
{
    Address,
    Fwmark,
    Group,
}
