namespace LvsEvents.Keepalived.Model;

public enum VrrpAuthenticationType
{
    /// <summary>Simple password (PASS).</summary>
    Pass,

    /// <summary>IPSEC AH.</summary>
    Ah,
}
