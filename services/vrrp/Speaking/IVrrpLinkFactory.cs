using LvsEvents.Vrrp.Definitions;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>Opens the link of an instance (the seam where tests could put another transport; the service uses Linux's).</summary>
public interface IVrrpLinkFactory
{
    IVrrpInstanceLink Open(VrrpInstanceDefinition definition, string? networkNamespace);
}

public sealed class LinuxVrrpLinkFactory : IVrrpLinkFactory
{
    public IVrrpInstanceLink Open(VrrpInstanceDefinition definition, string? networkNamespace)
    {
        var link = LinuxVrrpInstanceLink.Open(definition.Interface, definition.SourceAddress, definition.UnicastPeers, networkNamespace);
        try
        {
            link.PrepareAddresses(definition.OwnedAddresses);
            link.PrepareGratuitousArps(definition.OwnedAddresses.Select(a => a.Interface));
            return link;
        }
        catch
        {
            link.Dispose();
            throw;
        }
    }
}
