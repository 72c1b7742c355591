namespace LvsEvents.Keepalived.Model;

public enum VrrpState
{
    Backup,
    Master,
}
