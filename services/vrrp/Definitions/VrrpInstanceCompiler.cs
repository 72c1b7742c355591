using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LvsEvents.Contracts;
using LvsEvents.Keepalived.Model;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Protocol;
using KeepalivedAuth = LvsEvents.Keepalived.Model.VrrpAuthenticationType;
using KeepalivedState = LvsEvents.Keepalived.Model.VrrpState;
using VrrpAuthenticationType = LvsEvents.Vrrp.Protocol.VrrpAuthenticationType;

namespace LvsEvents.Vrrp.Definitions;

/// <summary>What the VRRP service runs: its instances, the scripts they track, and where (network namespace).</summary>
public sealed record VrrpPlan(
    IReadOnlyList<VrrpInstanceDefinition> Instances,
    IReadOnlyList<VrrpScriptDefinition> Scripts,
    string? NetworkNamespace);

/// <summary>
/// Turns the keepalived model into <see cref="VrrpPlan"/>. Errors name the file, line and column of the block
/// they concern; the plan is only used when there are none.
/// </summary>
public static class VrrpInstanceCompiler
{
    public static (VrrpPlan Plan, IReadOnlyList<string> Errors) Compile(KeepalivedConfiguration configuration, VrrpServiceOptions options)
    {
        var errors = new List<string>();
        var global = configuration.GlobalDefinitions;
        var strict = global.VrrpStrict;
        var mismatch = strict && !HasGlobal(global, "skip_check_adv_addr") ? AddressListMismatchPolicy.Drop : AddressListMismatchPolicy.Accept;
        var scripts = configuration.VrrpScripts
            .Where(s => !string.IsNullOrWhiteSpace(s.Script))
            .Select(s => new VrrpScriptDefinition(
                s.Name,
                s.Script!,
                TimeSpan.FromSeconds(s.Interval),
                TimeSpan.FromSeconds(s.Timeout ?? s.Interval),
                s.Weight,
                s.WeightReverse,
                Math.Max(1, s.Rise),
                Math.Max(1, s.Fall),
                s.InitFail))
            .ToList();
        var scriptNames = scripts.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var groups = configuration.VrrpSyncGroups
            .SelectMany(g => g.Members.Select(m => (Member: m, Group: g)))
            .GroupBy(p => p.Member, StringComparer.Ordinal)
            .ToDictionary(p => p.Key, p => p.First().Group, StringComparer.Ordinal);

        var instances = new List<VrrpInstanceDefinition>();
        foreach (var instance in configuration.VrrpInstances)
        {
            var at = $"{instance.Location}: vrrp_instance {instance.Name}";
            var before = errors.Count;
            var interfaceName = instance.Interface ?? global.DefaultInterface;
            if (string.IsNullOrEmpty(interfaceName))
                errors.Add($"{at}: needs an interface (or global_defs default_interface)");
            if (instance.VirtualRouterId is not (>= 1 and <= 255))
                errors.Add($"{at}: virtual_router_id must be 1-255");
            if (instance.Authentication?.Type == KeepalivedAuth.Ah)
                errors.Add($"{instance.Authentication.Location}: vrrp_instance {instance.Name}: auth_type AH is not supported (it needs IPsec AH handling); use PASS or no authentication");
            var source = ParseAddress(instance.UnicastSourceIp ?? instance.McastSourceIp, $"{at}: unicast_src_ip", errors);
            var peers = instance.UnicastPeers
                .Select(p => ParseAddress(p.Address, $"{p.Location}: unicast_peer", errors))
                .OfType<IPAddress>()
                .ToList();
            var vips = Addresses(instance.VirtualIpAddresses, interfaceName ?? "", errors);
            var excluded = Addresses(instance.ExcludedVirtualIpAddresses, interfaceName ?? "", errors);
            var group = groups.GetValueOrDefault(instance.Name);

            var tracks = new List<PriorityTrack>();
            if (!instance.DontTrackPrimary && interfaceName is not null)
                tracks.Add(new PriorityTrack(TrackedKind.Interface, interfaceName, 0, false));
            foreach (var t in instance.TrackInterfaces.Concat(group?.TrackInterfaces ?? []))
                tracks.Add(new PriorityTrack(TrackedKind.Interface, t.Name, t.Weight, t.Reverse));
            foreach (var t in instance.TrackScripts.Concat(group?.TrackScripts ?? []))
            {
                var script = scripts.FirstOrDefault(s => s.Name == t.Name);
                if (script is null)
                {
                    if (!scriptNames.Contains(t.Name))
                        errors.Add($"{t.Location}: track_script {t.Name}: no vrrp_script of that name");
                    continue;
                }
                tracks.Add(new PriorityTrack(TrackedKind.Script, t.Name, t.Weight ?? script.Weight, t.Reverse || script.WeightReverse));
            }

            var definition = new VrrpInstanceDefinition
            {
                Name = instance.Name,
                Interface = interfaceName ?? "",
                VirtualRouterId = (byte)Math.Clamp(instance.VirtualRouterId ?? 0, 0, 255),
                Version = instance.Version == 3 ? VrrpVersion.V3 : VrrpVersion.V2,
                Priority = instance.Priority,
                AdvertisementInterval = Interval(instance.AdvertInt, instance.Version),
                SourceAddress = source,
                VirtualAddresses = vips,
                ExcludedAddresses = excluded,
                InitialState = instance.State == KeepalivedState.Master ? Contracts.VrrpState.Master : Contracts.VrrpState.Backup,
                Nopreempt = instance.NoPreempt,
                PreemptDelay = TimeSpan.FromSeconds(instance.PreemptDelay),
                AuthenticationType = instance.Authentication?.Type switch
                {
                    KeepalivedAuth.Pass => VrrpAuthenticationType.SimpleText,
                    KeepalivedAuth.Ah => VrrpAuthenticationType.IpAuthenticationHeader,
                    _ => VrrpAuthenticationType.None,
                },
                AuthenticationPassword = instance.Authentication?.Password,
                UnicastPeers = peers,
                AddressListMismatch = mismatch,
                SplitBrainIntervals = options.SplitBrainIntervals,
                GratuitousArp = new GratuitousArpSettings(
                    TimeSpan.FromSeconds(instance.GarpMasterDelay),
                    instance.GarpMasterRepeat,
                    TimeSpan.FromSeconds(instance.GarpMasterRefresh),
                    instance.GarpMasterRefreshRepeat,
                    TimeSpan.FromSeconds(global.VrrpGarpInterval)),
                Tracks = tracks,
                Notify = Notify(instance.NotifyMaster, instance.NotifyBackup, instance.NotifyFault, instance.NotifyStop, instance.Notify),
                SyncGroup = group?.Name,
                Location = instance.Location,
            };
            if (errors.Count == before)
            {
                // The protocol core's own checks, with the block's location in front.
                var protocolErrors = definition.ToProtocolOptions(source ?? IPAddress.Loopback).Validate();
                errors.AddRange(protocolErrors.Select(e => $"{at}: {e}"));
            }
            instances.Add(definition);
        }

        foreach (var duplicate in instances.GroupBy(i => (i.Interface, i.VirtualRouterId, Unicast: i.UnicastPeers.Count > 0)).Where(g => g.Count() > 1))
        {
            errors.Add($"{duplicate.Last().Location}: vrrp_instance {duplicate.Last().Name}: virtual_router_id {duplicate.Key.VirtualRouterId} " +
                       $"is already used on {duplicate.Key.Interface} by {duplicate.First().Name}");
        }

        var ns = options.NetworkNamespace ?? global.OtherSettings.FirstOrDefault(s => s.Keyword == "net_namespace")?.Arguments.FirstOrDefault();
        return (new VrrpPlan(instances, scripts, string.IsNullOrWhiteSpace(ns) ? null : ns), errors);
    }

    private static bool HasGlobal(GlobalDefinitions global, string keyword) => global.OtherSettings.Any(s => s.Keyword == keyword);

    /// <summary>v2 keeps whole seconds; v3 whole centiseconds (keepalived rounds the same way).</summary>
    private static TimeSpan Interval(double seconds, int version)
        => version == 3
            ? TimeSpan.FromMilliseconds(Math.Round(seconds * 100) * 10)
            : TimeSpan.FromSeconds(Math.Round(seconds));

    private static NotifyScripts Notify(params ScriptInvocation?[] scripts)
        => new(scripts[0]?.Command, scripts[1]?.Command, scripts[2]?.Command, scripts[3]?.Command, scripts[4]?.Command);

    private static IPAddress? ParseAddress(string? text, string what, List<string> errors)
    {
        if (text is null)
            return null;
        if (IPAddress.TryParse(text, out var address) && address.AddressFamily == AddressFamily.InterNetwork)
            return address;
        errors.Add($"{what} '{text}' is not an IPv4 address");
        return null;
    }

    private static List<VirtualAddress> Addresses(IEnumerable<VirtualIpAddress> entries, string interfaceName, List<string> errors)
    {
        var result = new List<VirtualAddress>();
        foreach (var entry in entries)
        {
            var at = $"{entry.Location}: virtual_ipaddress {entry}";
            if (!IPAddress.TryParse(entry.Address, out var address) || address.AddressFamily != AddressFamily.InterNetwork)
            {
                errors.Add($"{at}: only IPv4 addresses are supported");
                continue;
            }
            // keepalived: a VIP without a mask is a /32.
            var prefix = entry.PrefixLength ?? 32;
            var scope = entry.Scope switch
            {
                null or "global" or "universe" => AddressScope.Universe,
                "site" => AddressScope.Site,
                "link" => AddressScope.Link,
                "host" => AddressScope.Host,
                "nowhere" => AddressScope.Nowhere,
                var s when byte.TryParse(s, CultureInfo.InvariantCulture, out var n) => (AddressScope)n,
                var s => Invalid(s),
            };
            IPAddress? broadcast = null;
            if (entry.Broadcast is "+")
                broadcast = BroadcastOf(address, prefix);
            else if (entry.Broadcast is { } b && !IPAddress.TryParse(b, out broadcast))
                errors.Add($"{at}: brd '{b}' is not an address");
            var vip = new VirtualAddress(address, prefix, entry.Device ?? interfaceName, entry.Label, broadcast, scope);
            try
            {
                vip.Validate();
                result.Add(vip);
            }
            catch (ArgumentException e)
            {
                errors.Add($"{at}: {e.Message}");
            }

            AddressScope Invalid(string s)
            {
                errors.Add($"{at}: scope '{s}' is not host, link, site, global or a number");
                return AddressScope.Universe;
            }
        }
        return result;
    }

    private static IPAddress BroadcastOf(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        var value = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
        var host = prefix >= 32 ? 0u : uint.MaxValue >> prefix;
        value |= host;
        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
    }
}
