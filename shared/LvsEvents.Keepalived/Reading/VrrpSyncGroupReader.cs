using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>Reads a vrrp_sync_group block.</summary>
internal sealed class VrrpSyncGroupReader(StatementValues values)
{
    private static readonly HashSet<string> Documented = new(StringComparer.Ordinal)
    {
        "track_file", "track_process", "track_bfd", "notify_deleted", "notify_priority_changes", "global_tracking",
        "sync_group_tracking_weight",
    };

    private readonly TrackingListReader _tracking = new(values);

    public VrrpSyncGroup Read(ConfigurationNode node, string name)
    {
        var group = new VrrpSyncGroup { Name = name, Location = node.Location };
        var other = new List<PassThroughSetting>();
        foreach (var item in node.Block ?? [])
        {
            switch (item.Keyword)
            {
                case "group":
                    values.ExpectBlock(item);
                    var members = (item.Block ?? []).SelectMany(n => n.Words).ToList();
                    group = group with
                    {
                        Members = group.Members.Concat(members.Select(t => t.Text)).ToList(),
                        MemberLocations = group.MemberLocations.Concat(members.Select(t => t.Location)).ToList(),
                    };
                    break;
                case "track_script":
                    group = group with { TrackScripts = group.TrackScripts.Concat(_tracking.TrackScripts(item)).ToList() };
                    break;
                case "track_interface":
                    group = group with { TrackInterfaces = group.TrackInterfaces.Concat(_tracking.TrackInterfaces(item)).ToList() };
                    break;
                case "notify_master":
                    group = group with { NotifyMaster = values.Script(item) };
                    break;
                case "notify_backup":
                    group = group with { NotifyBackup = values.Script(item) };
                    break;
                case "notify_fault":
                    group = group with { NotifyFault = values.Script(item) };
                    break;
                case "notify_stop":
                    group = group with { NotifyStop = values.Script(item) };
                    break;
                case "notify":
                    group = group with { Notify = values.Script(item) };
                    break;
                case "smtp_alert":
                    group = group with { SmtpAlert = values.Boolean(item) };
                    break;
                default:
                    if (!Documented.Contains(item.Keyword))
                    {
                        values.UnknownKeyword(item, $"vrrp_sync_group {name}");
                    }

                    other.Add(StatementValues.PassThrough(item));
                    break;
            }
        }

        if (group.Members.Count == 0)
        {
            values.Diagnostics.Error(node.Location, $"vrrp_sync_group {name} has no 'group {{ ... }}' of vrrp_instances");
        }
        else if (group.Members.Count == 1)
        {
            values.Diagnostics.Warning(node.Location, $"vrrp_sync_group {name} has only one vrrp_instance");
        }

        return group with { OtherSettings = other };
    }
}
