using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>Reads a virtual_server_group block: <c>IP[-END|/LEN] [PORT]</c> and <c>fwmark N [inet|inet6]</c> lines.</summary>
internal sealed class VirtualServerGroupReader(StatementValues values)
{
    public VirtualServerGroup Read(ConfigurationNode node, string name)
    {
        var members = new List<VirtualServerGroupMember>();
        foreach (var entry in node.Block ?? [])
        {
            if (entry.Keyword == "fwmark")
            {
                var mark = values.Long(entry, 1, uint.MaxValue);
                var family = entry.Arguments.Count > 1 ? entry.Arguments[1].Text : null;
                if (family is not null and not ("inet" or "inet6"))
                {
                    values.Diagnostics.Error(entry.Arguments[1].Location, $"fwmark family '{family}' is not inet or inet6");
                }

                if (mark is not null)
                {
                    members.Add(new VirtualServerGroupMember { Fwmark = mark, Family = family, Location = entry.Location });
                }

                continue;
            }

            if (!IsAddressOrRange(entry.Keyword))
            {
                values.Diagnostics.Error(entry.Location, $"virtual_server_group {name}: '{entry.Keyword}' is not an address, range or fwmark");
                continue;
            }

            int? port = null;
            if (entry.Arguments.Count > 0)
            {
                port = values.Port(entry.Arguments[0], $"virtual_server_group {name} port");
            }

            members.Add(new VirtualServerGroupMember { Address = entry.Keyword, Port = port, Location = entry.Location });
        }

        if (members.Count == 0)
        {
            values.Diagnostics.Warning(node.Location, $"virtual_server_group {name} is empty");
        }

        return new VirtualServerGroup { Name = name, Members = members, Location = node.Location };
    }

    private static bool IsAddressOrRange(string text)
    {
        var slash = text.IndexOf('/');
        if (slash > 0)
        {
            return StatementValues.TryParseAddress(text[..slash], out var a)
                   && int.TryParse(text[(slash + 1)..], out var length)
                   && length >= 0 && length <= (StatementValues.IsIpv6(a) ? 128 : 32);
        }

        var dash = text.IndexOf('-');
        if (dash < 0)
        {
            return StatementValues.TryParseAddress(text, out _);
        }

        if (!StatementValues.TryParseAddress(text[..dash], out var start))
        {
            return false;
        }

        var end = text[(dash + 1)..];
        if (StatementValues.TryParseAddress(end, out _))
        {
            return true;
        }

        // 192.168.200.1-10: the last byte (IPv4) or last group (IPv6) of the end.
        return StatementValues.IsIpv6(start)
            ? ushort.TryParse(end, System.Globalization.NumberStyles.HexNumber, null, out _)
            : byte.TryParse(end, out _);
    }
}
