namespace LvsEvents.Vrrp.Transport;

/// <summary>The process may not open raw sockets: the one error an operator needs to see, without a stack of socket details.</summary>
public sealed class VrrpTransportPermissionException : Exception
{
    public const string Text = "lvs-vrrp needs CAP_NET_RAW and CAP_NET_ADMIN (run as root)";

    public VrrpTransportPermissionException(Exception inner) : base(Text, inner) { }
}
