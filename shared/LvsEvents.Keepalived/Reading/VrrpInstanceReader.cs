using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>Reads a vrrp_instance block; checks that need the whole configuration are in <see cref="ConfigurationValidator"/>.</summary>
internal sealed class VrrpInstanceReader(StatementValues values)
{
    /// <summary>vrrp_instance keywords keepalived 2.2 documents that are kept as pass-through settings.</summary>
    private static readonly HashSet<string> Documented = new(StringComparer.Ordinal)
    {
        "check_unicast_src", "debug", "down_timer_adverts", "garp_extra_if", "garp_lower_prio_delay",
        "garp_lower_prio_repeat", "higher_prio_send_advert", "kernel_rx_buf_size", "linkbeat_use_polling",
        "lower_prio_no_advert", "mcast_dst_ip", "native_ipv6", "notify_master_rx_lower_pri", "notify_priority_changes",
        "old_unicast_checksum", "promote_secondaries", "skip_check_adv_addr", "strict_mode", "track_bfd", "track_file",
        "track_process", "track_src_ip", "unicast_fault_no_peer", "unicast_ttl", "use_ipvlan", "use_vmac",
        "use_vmac_addr", "virtual_routes", "virtual_rules", "vmac_xmit_base", "vrf", "notify_deleted",
    };

    private readonly TrackingListReader _tracking = new(values);
    private readonly VirtualIpAddressReader _addresses = new(values);

    public VrrpInstance Read(ConfigurationNode node, string name, GlobalDefinitions globals)
    {
        var instance = new VrrpInstance
        {
            Name = name,
            Location = node.Location,
            Version = globals.VrrpVersion,
            Accept = !globals.VrrpStrict,
            GarpMasterDelay = globals.VrrpGarpMasterDelay,
            GarpMasterRepeat = globals.VrrpGarpMasterRepeat,
            GarpMasterRefresh = globals.VrrpGarpMasterRefresh,
            GarpMasterRefreshRepeat = globals.VrrpGarpMasterRefreshRepeat,
        };
        ConfigurationNode? advertIntNode = null;
        var other = new List<PassThroughSetting>();
        foreach (var item in node.Block ?? [])
        {
            switch (item.Keyword)
            {
                case "state":
                    var state = values.Argument(item);
                    if (state is null)
                    {
                        break;
                    }

                    switch (state.Text)
                    {
                        case "MASTER":
                            instance = instance with { State = VrrpState.Master };
                            break;
                        case "BACKUP":
                            instance = instance with { State = VrrpState.Backup };
                            break;
                        default:
                            values.Diagnostics.Error(state.Location, $"state '{state.Text}' is not MASTER or BACKUP");
                            break;
                    }

                    break;
                case "interface":
                    instance = instance with { Interface = values.String(item) };
                    break;
                case "virtual_router_id":
                    instance = instance with { VirtualRouterId = values.Integer(item, 1, 255) ?? instance.VirtualRouterId };
                    break;
                case "priority":
                    instance = instance with { Priority = values.Integer(item, 1, 255) ?? instance.Priority };
                    break;
                case "advert_int":
                    advertIntNode = item;
                    instance = instance with { AdvertInt = values.Seconds(item, 0.01, 255) ?? instance.AdvertInt };
                    break;
                case "version":
                    instance = instance with { Version = values.Integer(item, 2, 3) ?? instance.Version };
                    break;
                case "authentication":
                    instance = instance with { Authentication = ReadAuthentication(item) };
                    break;
                case "virtual_ipaddress":
                    instance = instance with { VirtualIpAddresses = instance.VirtualIpAddresses.Concat(_addresses.Read(item)).ToList() };
                    break;
                case "virtual_ipaddress_excluded":
                    instance = instance with { ExcludedVirtualIpAddresses = instance.ExcludedVirtualIpAddresses.Concat(_addresses.Read(item)).ToList() };
                    break;
                case "unicast_src_ip":
                    instance = instance with { UnicastSourceIp = values.IpAddress(item) };
                    break;
                case "mcast_src_ip":
                    instance = instance with { McastSourceIp = values.IpAddress(item) };
                    break;
                case "unicast_peer":
                    instance = instance with { UnicastPeers = instance.UnicastPeers.Concat(ReadUnicastPeers(item)).ToList() };
                    break;
                case "track_script":
                    instance = instance with { TrackScripts = instance.TrackScripts.Concat(_tracking.TrackScripts(item)).ToList() };
                    break;
                case "track_interface":
                    instance = instance with { TrackInterfaces = instance.TrackInterfaces.Concat(_tracking.TrackInterfaces(item)).ToList() };
                    break;
                case "nopreempt":
                    instance = instance with { NoPreempt = true };
                    break;
                case "preempt":
                    instance = instance with { NoPreempt = false };
                    break;
                case "preempt_delay":
                    instance = instance with { PreemptDelay = values.Seconds(item, 0, 1000) ?? instance.PreemptDelay };
                    break;
                case "accept":
                    instance = instance with { Accept = true };
                    break;
                case "no_accept":
                    instance = instance with { Accept = false };
                    break;
                case "dont_track_primary":
                    instance = instance with { DontTrackPrimary = true };
                    break;
                case "garp_master_delay":
                    instance = instance with { GarpMasterDelay = values.Integer(item, 0, 86400) ?? instance.GarpMasterDelay };
                    break;
                case "garp_master_repeat":
                    instance = instance with { GarpMasterRepeat = values.Integer(item, 0, int.MaxValue) ?? instance.GarpMasterRepeat };
                    break;
                case "garp_master_refresh":
                    instance = instance with { GarpMasterRefresh = values.Integer(item, 0, 86400) ?? instance.GarpMasterRefresh };
                    break;
                case "garp_master_refresh_repeat":
                    instance = instance with { GarpMasterRefreshRepeat = values.Integer(item, 0, int.MaxValue) ?? instance.GarpMasterRefreshRepeat };
                    break;
                case "notify_master":
                    instance = instance with { NotifyMaster = values.Script(item) };
                    break;
                case "notify_backup":
                    instance = instance with { NotifyBackup = values.Script(item) };
                    break;
                case "notify_fault":
                    instance = instance with { NotifyFault = values.Script(item) };
                    break;
                case "notify_stop":
                    instance = instance with { NotifyStop = values.Script(item) };
                    break;
                case "notify":
                    instance = instance with { Notify = values.Script(item) };
                    break;
                case "smtp_alert":
                    instance = instance with { SmtpAlert = values.Boolean(item) };
                    break;
                default:
                    if (!Documented.Contains(item.Keyword))
                    {
                        values.UnknownKeyword(item, $"vrrp_instance {name}");
                    }

                    other.Add(StatementValues.PassThrough(item));
                    break;
            }
        }

        instance = instance with { OtherSettings = other };
        CheckInstance(instance, advertIntNode);
        return instance;
    }

    private void CheckInstance(VrrpInstance instance, ConfigurationNode? advertIntNode)
    {
        var diagnostics = values.Diagnostics;
        if (instance.VirtualRouterId is null)
        {
            diagnostics.Error(instance.Location, $"vrrp_instance {instance.Name} has no virtual_router_id (1..255)");
        }

        if (instance.Interface is null && instance.UnicastPeers.Count == 0)
        {
            diagnostics.Error(instance.Location, $"vrrp_instance {instance.Name} has no interface");
        }

        // VRRPv2 advertises whole seconds; keepalived rounds and reports it.
        if (advertIntNode is not null && instance.Version == 2 && instance.AdvertInt != Math.Floor(instance.AdvertInt))
        {
            diagnostics.Error(advertIntNode.Arguments[0].Location, $"advert_int {advertIntNode.Arguments[0].Text} is not allowed with VRRP version 2 (whole seconds only; use version 3 for fractions)");
        }

        if (instance.Version == 3 && instance.AdvertInt > 40.95)
        {
            diagnostics.Error(advertIntNode?.Location ?? instance.Location, $"advert_int {instance.AdvertInt} is above the VRRPv3 maximum of 40.95 seconds");
        }

        if (instance.VirtualIpAddresses.Count == 0)
        {
            diagnostics.Warning(instance.Location, $"vrrp_instance {instance.Name} has no virtual_ipaddress; at least one is sensible");
        }

        var families = instance.VirtualIpAddresses.Select(a => StatementValues.IsIpv6(a.Address)).Distinct().Count();
        if (families > 1)
        {
            diagnostics.Error(instance.VirtualIpAddresses[0].Location, $"vrrp_instance {instance.Name}: virtual_ipaddress mixes IPv4 and IPv6 (put the other family in virtual_ipaddress_excluded)");
        }

        if (instance.NoPreempt && instance.State == VrrpState.Master)
        {
            diagnostics.Warning(instance.Location, $"vrrp_instance {instance.Name}: nopreempt does not work with state MASTER; keepalived clears it");
        }

        if (instance.NoPreempt && instance.PreemptDelay > 0)
        {
            diagnostics.Warning(instance.Location, $"vrrp_instance {instance.Name}: preempt_delay has no effect with nopreempt; keepalived resets it");
        }

        foreach (var tracked in instance.TrackInterfaces.Where(t => t.Name == instance.Interface))
        {
            diagnostics.Warning(tracked.Location, $"vrrp_instance {instance.Name}: track_interface {tracked.Name} is the instance's own interface, which is always tracked; keepalived ignores it");
        }

        if (instance.Authentication?.Password is { Length: > 8 } password)
        {
            diagnostics.Warning(instance.Authentication.Location, $"auth_pass is {password.Length} characters; keepalived uses only the first 8");
        }
    }

    private VrrpAuthentication ReadAuthentication(ConfigurationNode node)
    {
        values.ExpectBlock(node);
        var authentication = new VrrpAuthentication { Location = node.Location };
        foreach (var item in node.Block ?? [])
        {
            switch (item.Keyword)
            {
                case "auth_type":
                    var type = values.Argument(item);
                    if (type is null)
                    {
                        break;
                    }

                    switch (type.Text)
                    {
                        case "PASS":
                            authentication = authentication with { Type = VrrpAuthenticationType.Pass };
                            break;
                        case "AH":
                            authentication = authentication with { Type = VrrpAuthenticationType.Ah };
                            break;
                        default:
                            values.Diagnostics.Error(type.Location, $"auth_type '{type.Text}' is not PASS or AH");
                            break;
                    }

                    break;
                case "auth_pass":
                    authentication = authentication with { Password = values.String(item) };
                    break;
                default:
                    values.UnknownKeyword(item, "authentication");
                    break;
            }
        }

        if (authentication.Type is null)
        {
            values.Diagnostics.Error(node.Location, "authentication block has no auth_type (PASS or AH)");
        }

        return authentication;
    }

    private IEnumerable<UnicastPeer> ReadUnicastPeers(ConfigurationNode node)
    {
        values.ExpectBlock(node);
        foreach (var entry in node.Block ?? [])
        {
            var address = values.IpAddress(entry.KeywordToken, "unicast_peer");
            if (address is null)
            {
                continue;
            }

            var peer = new UnicastPeer { Address = address, Location = entry.Location };
            for (var i = 0; i < entry.Arguments.Count; i++)
            {
                var option = entry.Arguments[i];
                var next = i + 1 < entry.Arguments.Count ? entry.Arguments[i + 1] : null;
                if (option.Text is "min_ttl" or "max_ttl" && next is not null)
                {
                    var ttl = values.Integer(next, $"unicast_peer {option.Text}", 0, 255);
                    peer = option.Text == "min_ttl" ? peer with { MinTtl = ttl } : peer with { MaxTtl = ttl };
                    i++;
                }
                else
                {
                    values.Diagnostics.Error(option.Location, $"unicast_peer {address}: unexpected '{option.Text}'");
                }
            }

            yield return peer;
        }
    }
}
