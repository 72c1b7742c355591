using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>Reads track_script and track_interface lists (used by vrrp_instance and vrrp_sync_group).</summary>
internal sealed class TrackingListReader(StatementValues values)
{
    public IEnumerable<TrackedScript> TrackScripts(ConfigurationNode node)
    {
        values.ExpectBlock(node);
        foreach (var entry in node.Block ?? [])
        {
            var (weight, reverse) = ReadWeight(entry);
            yield return new TrackedScript { Name = entry.Keyword, Weight = weight, Reverse = reverse, Location = entry.Location };
        }
    }

    public IEnumerable<TrackedInterface> TrackInterfaces(ConfigurationNode node)
    {
        values.ExpectBlock(node);
        foreach (var entry in node.Block ?? [])
        {
            var (weight, reverse) = ReadWeight(entry);
            yield return new TrackedInterface { Name = entry.Keyword, Weight = weight ?? 0, Reverse = reverse, Location = entry.Location };
        }
    }

    /// <summary><c>NAME [weight -253..253] [reverse|noreverse|no_reverse]</c>.</summary>
    private (int? Weight, bool Reverse) ReadWeight(ConfigurationNode entry)
    {
        int? weight = null;
        var reverse = false;
        for (var i = 0; i < entry.Arguments.Count; i++)
        {
            var argument = entry.Arguments[i];
            switch (argument.Text)
            {
                case "weight" when i + 1 < entry.Arguments.Count:
                    weight = values.Integer(entry.Arguments[i + 1], $"{entry.Keyword} weight", -253, 253);
                    i++;
                    break;
                case "weight":
                    values.Diagnostics.Error(argument.Location, $"{entry.Keyword}: 'weight' is missing a value");
                    break;
                case "reverse":
                    reverse = true;
                    break;
                case "noreverse" or "no_reverse":
                    reverse = false;
                    break;
                default:
                    values.Diagnostics.Error(argument.Location, $"{entry.Keyword}: unexpected '{argument.Text}' (expected weight N or reverse)");
                    break;
            }
        }

        return (weight, reverse);
    }
}
