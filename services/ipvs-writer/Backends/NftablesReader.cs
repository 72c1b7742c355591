using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Keepalived.Model;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// Reads <c>nft -j list table ip lvsevents</c> back into a <see cref="KernelTable"/>. Weights come from the map
/// ranges the kernel actually holds (not from what was written), so a hand edit shows up as a difference. Anything
/// that does not fit <see cref="NftablesRuleset"/>'s layout is listed in <see cref="KernelTable.Problems"/>; a service
/// whose rule is damaged reads with scheduler <c>?</c>, so the diff rewrites it.
/// </summary>
public static class NftablesReader
{
    public const string DamagedScheduler = "?";

    public static KernelTable Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var chains = new HashSet<string>(StringComparer.Ordinal);
        var hooks = new Dictionary<string, string>(StringComparer.Ordinal);
        var rules = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        var sets = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("chain", out var chain))
            {
                var name = chain.GetProperty("name").GetString()!;
                chains.Add(name);
                if (chain.TryGetProperty("hook", out var hook))
                {
                    hooks[name] = hook.GetString()!;
                }
            }
            else if (item.TryGetProperty("rule", out var rule))
            {
                var name = rule.GetProperty("chain").GetString()!;
                if (!rules.TryGetValue(name, out var list))
                {
                    rules[name] = list = [];
                }

                list.Add(rule.Clone());
            }
            else if (item.TryGetProperty("map", out var map))
            {
                sets[map.GetProperty("name").GetString()!] = map.Clone();
            }
            else if (item.TryGetProperty("set", out var set))
            {
                sets[set.GetProperty("name").GetString()!] = set.Clone();
            }
        }

        var problems = ImmutableList.CreateBuilder<string>();
        foreach (var hook in (string[])["prerouting", "output"])
        {
            var texts = rules.TryGetValue(hook, out var hookRules) ? hookRules.Select(r => r.GetProperty("expr").GetRawText()).ToList() : [];
            if (!hooks.ContainsKey(hook) || texts.Count != 2
                || !texts.Any(t => t.Contains("\"@" + NftablesRuleset.ServicesMap + "\"", StringComparison.Ordinal))
                || !texts.Any(t => t.Contains("\"@" + NftablesRuleset.MarksMap + "\"", StringComparison.Ordinal)))
            {
                problems.Add($"nftables: chain {hook} is missing or does not dispatch through @{NftablesRuleset.ServicesMap} and @{NftablesRuleset.MarksMap}");
            }
        }

        var services = new List<KernelService>();
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, chain) in Dispatch(sets, NftablesRuleset.ServicesMap, problems).Concat(Dispatch(sets, NftablesRuleset.MarksMap, problems)))
        {
            referenced.Add(chain);
            referenced.Add(chain + "_q");
            if (chain != NftablesRuleset.ChainName(key))
            {
                problems.Add($"nftables: {key} jumps to {chain}, expected {NftablesRuleset.ChainName(key)}");
            }

            services.Add(ReadService(key, chain, rules.GetValueOrDefault(chain) ?? [], sets.GetValueOrDefault(chain + "_q"), problems));
        }

        foreach (var chain in chains.Where(c => c.StartsWith("s_", StringComparison.Ordinal) && !referenced.Contains(c)))
        {
            problems.Add($"nftables: chain {chain} is not reached from any dispatch map");
        }

        var table = KernelTable.Of(services);
        var statistics = ImmutableDictionary.CreateBuilder<ServiceKey, TrafficStatistics>();
        foreach (var service in services)
        {
            var chainRules = rules.GetValueOrDefault(NftablesRuleset.ChainName(service.Key)) ?? [];
            statistics[service.Key] = new TrafficStatistics(chainRules.Sum(CounterPackets));
        }

        return table with { Problems = problems.ToImmutable(), ServiceStatistics = statistics.ToImmutable() };
    }

    private static IEnumerable<(ServiceKey Key, string Chain)> Dispatch(Dictionary<string, JsonElement> sets, string name, ImmutableList<string>.Builder problems)
    {
        if (!sets.TryGetValue(name, out var map))
        {
            problems.Add($"nftables: map {name} is missing");
            yield break;
        }

        if (!map.TryGetProperty("elem", out var elements))
        {
            yield break;
        }

        foreach (var element in elements.EnumerateArray())
        {
            var pair = element.ValueKind == JsonValueKind.Array ? element : default;
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
                || !pair[1].TryGetProperty("jump", out var jump))
            {
                problems.Add($"nftables: element {element.GetRawText()} of {name} is not a jump");
                continue;
            }

            var chain = jump.GetProperty("target").GetString()!;
            ServiceKey? key = null;
            if (name == NftablesRuleset.MarksMap && pair[0].ValueKind == JsonValueKind.Number)
            {
                // The mark alone keys the map; the protocol is the one the chain name carries.
                var protocol = chain.Split('_') is { Length: 4 } parts ? parts[3].ToUpperInvariant() : "TCP";
                key = ServiceKey.ForMark(pair[0].GetUInt32(), protocol);
            }
            else if (pair[0].TryGetProperty("concat", out var concat) && concat.GetArrayLength() == 3)
            {
                key = new ServiceKey(Protocol(concat[1]), concat[0].GetString()!, concat[2].GetInt32());
            }

            if (key is null)
            {
                problems.Add($"nftables: element {element.GetRawText()} of {name} has an unexpected key");
                continue;
            }

            yield return (key, chain);
        }
    }

    private static string Protocol(JsonElement value) => value.ValueKind == JsonValueKind.Number
        ? value.GetInt32() switch { 6 => "TCP", 17 => "UDP", 132 => "SCTP", var n => n.ToString(CultureInfo.InvariantCulture) }
        : value.GetString()!.ToUpperInvariant();

    private static KernelService ReadService(ServiceKey key, string chain, List<JsonElement> rules, JsonElement? idle, ImmutableList<string>.Builder problems)
    {
        var scheduler = DamagedScheduler;
        int? persistence = null;
        string? netmask = null;
        var destinations = new List<KernelDestination>();
        if (rules.Count is < 1 or > 2)
        {
            problems.Add($"nftables: {key}: chain {chain} has {rules.Count} rules, expected 1 (drop) or 2 (dnat and its fallback)");
        }

        var rule = rules.Count > 0 ? rules[0] : default;
        if (rule.ValueKind == JsonValueKind.Object && rule.TryGetProperty("comment", out var comment)
            && comment.GetString() is { } text && text.StartsWith(NftablesRuleset.CommentPrefix, StringComparison.Ordinal))
        {
            foreach (var field in text[NftablesRuleset.CommentPrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var (name, value) = field.IndexOf('=') is var eq and > 0 ? (field[..eq], field[(eq + 1)..]) : (field, "");
                switch (name)
                {
                    case "s":
                        scheduler = value;
                        break;
                    case "p" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p):
                        persistence = p;
                        break;
                    case "m":
                        netmask = value;
                        break;
                }
            }
        }
        else if (rules.Count > 0)
        {
            problems.Add($"nftables: {key}: rule in {chain} has no settings comment");
        }

        var hashed = false;
        var damaged = rules.Count is < 1 or > 2;
        if (rule.ValueKind == JsonValueKind.Object)
        {
            var sawVerdict = false;
            var translates = false;
            foreach (var expression in rule.GetProperty("expr").EnumerateArray())
            {
                if (expression.TryGetProperty("drop", out _))
                {
                    sawVerdict = true;
                }
                else if (expression.TryGetProperty("dnat", out var dnat))
                {
                    sawVerdict = translates = true;
                    if (!ReadDnat(dnat, destinations, out hashed, out var reason))
                    {
                        problems.Add($"nftables: {key}: {reason}");
                        damaged = true;
                    }
                }
            }

            if (!sawVerdict)
            {
                problems.Add($"nftables: {key}: rule in {chain} neither translates nor drops");
                damaged = true;
            }

            if (FallbackProblem(translates, rules, destinations) is { } fallbackProblem)
            {
                problems.Add($"nftables: {key}: {fallbackProblem}");
                damaged = true;
            }
        }

        if (idle is { } set && set.TryGetProperty("elem", out var elements))
        {
            foreach (var element in elements.EnumerateArray())
            {
                if (element.TryGetProperty("concat", out var concat) && concat.GetArrayLength() == 2)
                {
                    destinations.Add(new KernelDestination(new DestinationKey(concat[0].GetString()!, concat[1].GetInt32()), 0));
                }
            }
        }

        var service = KernelService.Create(key, scheduler, persistence, netmask, destinations);
        if (!damaged && destinations.Count > destinations.Select(d => d.Key).Distinct().Count())
        {
            problems.Add($"nftables: {key}: a destination appears more than once");
            damaged = true;
        }

        if (!damaged && destinations.Any(d => d.Weight > 0) && hashed != NftablesRuleset.UsesSourceHash(service))
        {
            problems.Add($"nftables: {key}: {(hashed ? "hashes the source" : "picks at random")} but scheduler {scheduler}{(persistence is null ? "" : " with persistence")} wants the other");
            damaged = true;
        }

        return damaged ? service with { Scheduler = DamagedScheduler } : service;
    }

    /// <summary>
    /// Why the chain's second rule is not what <see cref="NftablesRuleset.FallbackOf"/> writes (a translating chain
    /// may have one, naming one of its weighted destinations; a dropping chain has none), or null.
    /// </summary>
    private static string? FallbackProblem(bool translates, List<JsonElement> rules, List<KernelDestination> weighted)
    {
        if (!translates)
        {
            return rules.Count > 1 ? "a dropping chain has a second rule" : null;
        }

        if (rules.Count < 2)
        {
            // As earlier versions wrote it (or a hand edit): it works, and gets its fallback the next time it changes.
            return null;
        }

        var fallback = rules[1];
        if (!fallback.TryGetProperty("comment", out var comment) || comment.GetString() != NftablesRuleset.FallbackComment)
        {
            return $"the second rule is not the \"{NftablesRuleset.FallbackComment}\" rule";
        }

        foreach (var expression in fallback.GetProperty("expr").EnumerateArray())
        {
            if (expression.TryGetProperty("dnat", out var dnat) && dnat.TryGetProperty("addr", out var addr) && addr.ValueKind == JsonValueKind.String)
            {
                var port = dnat.TryGetProperty("port", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : 0;
                var target = new DestinationKey(addr.GetString()!, port);
                return weighted.Any(d => d.Key == target && d.Weight > 0) ? null : $"the fallback rule sends to {target}, which has no weight";
            }
        }

        return "the fallback rule does not dnat to an address";
    }

    private static bool ReadDnat(JsonElement dnat, List<KernelDestination> destinations, out bool hashed, out string reason)
    {
        hashed = false;
        reason = "";
        if (!dnat.TryGetProperty("addr", out var addr) || !addr.TryGetProperty("map", out var map))
        {
            reason = "dnat is not through a weighted map";
            return false;
        }

        var selector = map.GetProperty("key");
        long modulus;
        if (selector.TryGetProperty("numgen", out var numgen))
        {
            modulus = numgen.GetProperty("mod").GetInt64();
        }
        else if (selector.TryGetProperty("jhash", out var jhash))
        {
            hashed = true;
            modulus = jhash.GetProperty("mod").GetInt64();
        }
        else
        {
            reason = "dnat map is keyed by neither numgen nor jhash";
            return false;
        }

        var ranges = new List<(long Low, long High, DestinationKey Destination)>();
        foreach (var element in map.GetProperty("data").GetProperty("set").EnumerateArray())
        {
            var (low, high) = element[0].ValueKind == JsonValueKind.Number
                ? (element[0].GetInt64(), element[0].GetInt64())
                : (element[0].GetProperty("range")[0].GetInt64(), element[0].GetProperty("range")[1].GetInt64());
            var target = element[1];
            var destination = target.ValueKind == JsonValueKind.String
                ? new DestinationKey(target.GetString()!, 0)
                : new DestinationKey(target.GetProperty("concat")[0].GetString()!, target.GetProperty("concat")[1].GetInt32());
            ranges.Add((low, high, destination));
        }

        ranges.Sort((a, b) => a.Low.CompareTo(b.Low));
        var next = 0L;
        foreach (var (low, high, _) in ranges)
        {
            if (low != next)
            {
                reason = $"map ranges leave a gap or overlap at {next}";
                return false;
            }

            next = high + 1;
        }

        if (next != modulus)
        {
            reason = $"map ranges cover 0-{next - 1} but the modulus is {modulus}";
            return false;
        }

        foreach (var group in ranges.GroupBy(r => r.Destination))
        {
            destinations.Add(new KernelDestination(group.Key, (int)group.Sum(r => r.High - r.Low + 1), ForwardingMethod.Nat));
        }

        return true;
    }

    private static long CounterPackets(JsonElement rule)
    {
        foreach (var expression in rule.GetProperty("expr").EnumerateArray())
        {
            if (expression.TryGetProperty("counter", out var counter) && counter.TryGetProperty("packets", out var packets))
            {
                return packets.GetInt64();
            }
        }

        return 0;
    }
}
