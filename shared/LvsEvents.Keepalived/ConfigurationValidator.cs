using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Reading;

namespace LvsEvents.Keepalived;

/// <summary>Checks that need the whole configuration: names that must resolve, duplicates, shared VRIDs.</summary>
internal static class ConfigurationValidator
{
    public static void Validate(KeepalivedConfiguration configuration, DiagnosticBag diagnostics)
    {
        var scripts = new Dictionary<string, VrrpScript>(StringComparer.Ordinal);
        foreach (var script in configuration.VrrpScripts)
        {
            if (!scripts.TryAdd(script.Name, script))
            {
                diagnostics.Warning(script.Location, $"vrrp_script {script.Name} is already defined at {scripts[script.Name].Location}; this one replaces it");
                scripts[script.Name] = script;
            }
        }

        var instances = new Dictionary<string, VrrpInstance>(StringComparer.Ordinal);
        foreach (var instance in configuration.VrrpInstances)
        {
            if (!instances.TryAdd(instance.Name, instance))
            {
                diagnostics.Error(instance.Location, $"vrrp_instance {instance.Name} is already defined at {instances[instance.Name].Location}");
            }

            CheckTrackScripts(instance.TrackScripts, scripts, $"vrrp_instance {instance.Name}", diagnostics);
        }

        CheckSharedVirtualRouterIds(configuration.VrrpInstances, diagnostics);

        var memberOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var groupNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in configuration.VrrpSyncGroups)
        {
            if (!groupNames.Add(group.Name))
            {
                diagnostics.Error(group.Location, $"vrrp_sync_group {group.Name} is already defined");
            }

            for (var i = 0; i < group.Members.Count; i++)
            {
                var member = group.Members[i];
                var location = i < group.MemberLocations.Count ? group.MemberLocations[i] : group.Location;
                if (!instances.ContainsKey(member))
                {
                    diagnostics.Error(location, $"vrrp_sync_group {group.Name}: vrrp_instance {member} is not defined");
                }
                else if (!memberOf.TryAdd(member, group.Name))
                {
                    diagnostics.Error(location, $"vrrp_instance {member} is already in vrrp_sync_group {memberOf[member]}");
                }
            }

            CheckTrackScripts(group.TrackScripts, scripts, $"vrrp_sync_group {group.Name}", diagnostics);
        }

        var serverGroups = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in configuration.VirtualServerGroups)
        {
            if (!serverGroups.Add(group.Name))
            {
                diagnostics.Warning(group.Location, $"virtual_server_group {group.Name} is already defined");
            }
        }

        var servers = new Dictionary<string, VirtualServer>(StringComparer.Ordinal);
        foreach (var server in configuration.VirtualServers)
        {
            // keepalived 2.2.7 accepts both; the later definition wins in IPVS, which is rarely what was meant.
            if (!servers.TryAdd(server.Key, server))
            {
                diagnostics.Warning(server.Location, $"virtual_server {server.Key} is already defined at {servers[server.Key].Location}");
            }

            if (server.Kind == VirtualServerKind.Group && server.GroupName is { } name && !serverGroups.Contains(name))
            {
                diagnostics.Warning(server.Location, $"virtual_server group {name}: no virtual_server_group {name} is defined");
            }
        }

        CheckScriptSecurity(configuration, diagnostics);
    }

    private static void CheckTrackScripts(
        IEnumerable<TrackedScript> tracked,
        IReadOnlyDictionary<string, VrrpScript> scripts,
        string owner,
        DiagnosticBag diagnostics)
    {
        foreach (var entry in tracked)
        {
            if (!scripts.ContainsKey(entry.Name))
            {
                diagnostics.Error(entry.Location, $"{owner}: track_script {entry.Name} names no vrrp_script");
            }
        }
    }

    /// <summary>Two instances with one VRID on one interface and address family fight over the same virtual router.</summary>
    private static void CheckSharedVirtualRouterIds(IReadOnlyList<VrrpInstance> instances, DiagnosticBag diagnostics)
    {
        var seen = new Dictionary<(string, int, bool), VrrpInstance>();
        foreach (var instance in instances)
        {
            if (instance.VirtualRouterId is not { } vrid || instance.Interface is not { } iface)
            {
                continue;
            }

            var ipv6 = instance.VirtualIpAddresses.Count > 0 && StatementValues.IsIpv6(instance.VirtualIpAddresses[0].Address);
            var key = (iface, vrid, ipv6);
            if (seen.TryGetValue(key, out var first) && first.Name != instance.Name)
            {
                diagnostics.Error(instance.Location, $"vrrp_instance {instance.Name} uses virtual_router_id {vrid} on {iface} ({(ipv6 ? "IPv6" : "IPv4")}) like {first.Name} at {first.Location}");
            }
            else
            {
                seen.TryAdd(key, instance);
            }
        }
    }

    /// <summary>keepalived refuses to run scripts as root without enable_script_security (exit 6 on --config-test).</summary>
    private static void CheckScriptSecurity(KeepalivedConfiguration configuration, DiagnosticBag diagnostics)
    {
        if (configuration.GlobalDefinitions.EnableScriptSecurity)
        {
            return;
        }

        var firstScript = configuration.VrrpScripts.Select(s => s.Location)
            .Concat(configuration.VrrpInstances.Where(i => (i.NotifyMaster ?? i.NotifyBackup ?? i.NotifyFault ?? i.NotifyStop ?? i.Notify) is not null).Select(i => i.Location))
            .Concat(configuration.VirtualServers.SelectMany(v => v.RealServers).SelectMany(r => r.Checkers).OfType<MiscCheck>().Select(c => c.Location))
            .FirstOrDefault();
        if (firstScript is not null)
        {
            diagnostics.Warning(firstScript, "scripts are configured but global_defs has no enable_script_security; keepalived running as root will not run them");
        }
    }
}
