namespace LvsEvents.Keepalived.Model;

/// <summary>LVS forwarding method (lb_kind / lvs_method).</summary>
public enum ForwardingMethod
{
    Nat,
    DirectRouting,
    Tunnel,
}
