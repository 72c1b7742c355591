using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>Reads virtual_ipaddress / virtual_ipaddress_excluded entries.</summary>
internal sealed class VirtualIpAddressReader(StatementValues values)
{
    private static readonly HashSet<string> Scopes = new(StringComparer.Ordinal) { "site", "link", "host", "nowhere", "global" };

    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal)
    {
        "home", "-nodad", "nodad", "mngtmpaddr", "noprefixroute", "autojoin", "use_vmac",
    };

    public IEnumerable<VirtualIpAddress> Read(ConfigurationNode list)
    {
        values.ExpectBlock(list);
        foreach (var entry in list.Block ?? [])
        {
            var address = ReadOne(entry);
            if (address is not null)
            {
                yield return address;
            }
        }
    }

    private VirtualIpAddress? ReadOne(ConfigurationNode entry)
    {
        var text = entry.Keyword;
        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text[..slash];
        if (!StatementValues.TryParseAddress(addressText, out var address))
        {
            values.Diagnostics.Error(entry.Location, $"virtual address '{text}' is not a valid IP address");
            return null;
        }

        int? prefix = null;
        if (slash >= 0)
        {
            var max = StatementValues.IsIpv6(address) ? 128 : 32;
            if (!int.TryParse(text[(slash + 1)..], out var length) || length < 0 || length > max)
            {
                values.Diagnostics.Error(entry.Location, $"virtual address '{text}': prefix length must be 0..{max}");
                return null;
            }

            prefix = length;
        }

        var result = new VirtualIpAddress { Address = address, PrefixLength = prefix, Location = entry.Location };
        var options = new List<string>();
        for (var i = 0; i < entry.Arguments.Count; i++)
        {
            var option = entry.Arguments[i];
            var next = i + 1 < entry.Arguments.Count ? entry.Arguments[i + 1] : null;
            switch (option.Text)
            {
                case "brd" or "broadcast" or "dev" or "label" or "scope" or "peer" or "preferred_lft" or "track_group" when next is null:
                    values.Diagnostics.Error(option.Location, $"virtual address {text}: '{option.Text}' is missing a value");
                    break;
                case "brd" or "broadcast":
                    result = result with { Broadcast = values.IpAddress(next!, $"virtual address {text} brd") };
                    i++;
                    break;
                case "dev":
                    result = result with { Device = next!.Text };
                    i++;
                    break;
                case "label":
                    result = result with { Label = next!.Text };
                    i++;
                    break;
                case "scope":
                    if (!Scopes.Contains(next!.Text) && !int.TryParse(next.Text, out _))
                    {
                        values.Diagnostics.Error(next.Location, $"virtual address {text}: scope '{next.Text}' is not one of site|link|host|nowhere|global");
                    }

                    result = result with { Scope = next.Text };
                    i++;
                    break;
                case "peer":
                    result = result with { Peer = values.IpAddress(next!, $"virtual address {text} peer") };
                    i++;
                    break;
                case "preferred_lft" or "track_group":
                    options.Add($"{option.Text} {next!.Text}");
                    i++;
                    break;
                case "no_track":
                    result = result with { NoTrack = true };
                    break;
                default:
                    if (Flags.Contains(option.Text))
                    {
                        options.Add(option.Text);
                    }
                    else
                    {
                        values.Diagnostics.Error(option.Location, $"virtual address {text}: unknown option '{option.Text}'");
                    }

                    break;
            }
        }

        return result with { Options = options };
    }
}
