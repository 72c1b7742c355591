using LvsEvents.Contracts;
using LvsEvents.IpvsWriter.Table;
using LvsEvents.Netlink;
using static LvsEvents.IpvsWriter.Backends.NftablesNetlinkProtocol;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// One nf_tables transaction (an nfnetlink batch: BATCH_BEGIN … BATCH_END) that makes the kernel hold what
/// <see cref="NftablesRuleset"/> describes, encoded directly rather than through nft's parser: the same messages,
/// attributes and bytes <c>nft -f</c> sends for <see cref="NftablesRuleset.Replace"/> or a per-service patch, except
/// that the dispatch elements of a full replace go in one message per map instead of one per service. The kernel
/// applies a batch whole or not at all. Each message's sequence number maps to what it does, for error messages.
/// </summary>
internal sealed class NftablesNetlinkTransaction
{
    private const ushort Create = NetfilterNetlinkSocket.NlmFRequest | NetfilterNetlinkSocket.NlmFCreate;
    private const ushort CreateAppend = Create | NetfilterNetlinkSocket.NlmFAppend;
    private const ushort Request = NetfilterNetlinkSocket.NlmFRequest;
    private const string AnonymousMap = "__map%d";
    // Element lists are one attribute (16-bit length): a list is continued in a new message past this size.
    private const int ElementMessageBytes = 48 * 1024;

    // nft's set userdata (libnftnl NFTNL_UDATA_SET_*: key/data byte order, typeof of a concatenation, data interval), verbatim.
    private static readonly byte[] ServicesUserData = Convert.FromHexString("000400000000010400000000030800040d0000000100060400000000");
    private static readonly byte[] MarksUserData = Convert.FromHexString("000401000000010400000000060400000000");
    private static readonly byte[] IdleUserData = Convert.FromHexString("000400000000030800040d0000000100");
    private static readonly byte[] WeightMapConcatUserData = Convert.FromHexString("000401000000010400000000060400000000");
    private static readonly byte[] WeightMapAddressUserData = Convert.FromHexString("000401000000010402000000060400000000");

    private static readonly uint ServicesKeyType = Concat(TypeIPv4Address, TypeInetProtocol, TypeInetService);
    private static readonly uint AddressPortType = Concat(TypeIPv4Address, TypeInetService);

    private readonly NetlinkBatchWriter _w;
    private readonly List<(uint Sequence, string Action)> _actions = [];
    private readonly uint _firstSequence;
    private uint _sequence;
    private uint _setId;
    private uint _servicesId;
    private uint _marksId;
    private int _messageStart;
    private ushort _elementNumber;

    public NftablesNetlinkTransaction(NetlinkBatchWriter writer, uint firstSequence)
    {
        _w = writer;
        _firstSequence = firstSequence;
        _sequence = firstSequence;
    }

    /// <summary>The sequence number after the last message of the batch (free for the request that follows it).</summary>
    public uint NextSequence => _sequence;

    /// <summary>Why the encoder cannot write <paramref name="service"/> (the backend then writes through libnftables), or null.</summary>
    public static string? CannotEncode(KernelService service) =>
        ProtocolNumber(service.Key.Protocol) is null ? $"{service.Key}: protocol {service.Key.Protocol}" : null;

    /// <summary>What the message with <paramref name="sequence"/> did, e.g. "add rule to chain s_tcp_10_0_0_1_80".</summary>
    public string Describe(uint sequence)
    {
        foreach (var (s, action) in _actions)
        {
            if (s == sequence)
            {
                return action;
            }
        }

        return sequence == _firstSequence ? "the batch" : $"message {sequence - _firstSequence}";
    }

    /// <summary><see cref="NftablesRuleset.Replace"/>: create-if-missing, delete, rebuild the whole table.</summary>
    public void Replace(KernelTable table)
    {
        Begin();
        Table(NewTable, Request, "create table");
        Table(DelTable, Request, "delete table");
        Table(NewTable, Request, "create table");
        Skeleton();
        foreach (var service in table.Services.Values)
        {
            Service(service, fresh: true, dispatch: false);
        }

        var services = table.Services.Keys.Where(k => !k.IsFirewallMark).ToList();
        var marks = table.Services.Keys.Where(k => k.IsFirewallMark).ToList();
        if (services.Count > 0)
        {
            Dispatch(services, NftablesRuleset.ServicesMap, _servicesId);
        }

        if (marks.Count > 0)
        {
            Dispatch(marks, NftablesRuleset.MarksMap, _marksId);
        }

        End();
    }

    /// <summary>The per-service patch <see cref="NftablesBackend"/> sends when the skeleton is intact.</summary>
    public void Patch(KernelTable before, IReadOnlyList<TableOperation> operations, KernelTable after)
    {
        Begin();
        foreach (var key in operations.Select(o => o.Service).Distinct())
        {
            if (after.Services.TryGetValue(key, out var service))
            {
                Service(service, fresh: !before.Services.ContainsKey(key), dispatch: true);
            }
            else if (operations.Any(o => o.Service == key && o.Kind == KernelOperation.DeleteService))
            {
                DeleteService(key);
            }
        }

        End();
    }

    private void Begin()
    {
        _w.BeginMessage(BatchBegin, Request, _sequence++, 0, 0, SubsystemNftables);
        _w.EndMessage();
    }

    private void End()
    {
        _w.BeginMessage(BatchEnd, Request, _sequence++, 0, 0, SubsystemNftables);
        _w.EndMessage();
    }

    private void Message(ushort type, ushort flags, string action)
    {
        _actions.Add((_sequence, action));
        _messageStart = _w.Length;
        _w.BeginMessage(MessageType(type), flags, _sequence++, FamilyIPv4, 0, 0);
    }

    private void Table(ushort type, ushort flags, string verb)
    {
        Message(type, flags, $"{verb} {NftablesRuleset.Family} {NftablesRuleset.TableName}");
        _w.PutString(TableName, NftablesRuleset.TableName);
        if (type == NewTable)
        {
            _w.PutBe32(TableFlags, 0);
        }

        _w.EndMessage();
    }

    private void Skeleton()
    {
        _servicesId = NamedSet(NftablesRuleset.ServicesMap, SetMap, ServicesKeyType, 12, DataTypeVerdict, 0, ServicesUserData);
        _marksId = NamedSet(NftablesRuleset.MarksMap, SetMap, TypeMark, 4, DataTypeVerdict, 0, MarksUserData);
        foreach (var (hook, number) in (ReadOnlySpan<(string, uint)>)[("prerouting", HookPrerouting), ("output", HookOutput)])
        {
            Message(NewChain, Create, $"add chain {hook}");
            _w.PutString(ChainTable, NftablesRuleset.TableName);
            _w.PutString(ChainName, hook);
            _w.PutString(ChainType, "nat");
            _w.PutBe32(ChainPolicy, NfAccept);
            var hookAttribute = _w.BeginNested(ChainHook);
            _w.PutBe32(HookNumber, number);
            _w.PutBe32(HookPriority, -100);
            _w.EndNested(hookAttribute);
            _w.EndMessage();

            // ip daddr . meta l4proto . th dport vmap @services
            var expressions = BeginRule(hook, $"add rule to chain {hook} (vmap @{NftablesRuleset.ServicesMap})");
            NftablesExpressions.Payload(_w, NftablesExpressions.Register1, NftablesExpressions.PayloadNetworkHeader, 16, 4);
            NftablesExpressions.Meta(_w, NftablesExpressions.MetaL4Protocol, NftablesExpressions.Register32_01);
            NftablesExpressions.Payload(_w, NftablesExpressions.Register32_02, NftablesExpressions.PayloadTransportHeader, 2, 2);
            NftablesExpressions.Lookup(_w, NftablesExpressions.Register1, NftablesExpressions.RegisterVerdict, NftablesRuleset.ServicesMap, _servicesId);
            EndRule(expressions, null);

            // meta mark vmap @fwmarks
            expressions = BeginRule(hook, $"add rule to chain {hook} (vmap @{NftablesRuleset.MarksMap})");
            NftablesExpressions.Meta(_w, NftablesExpressions.MetaMark, NftablesExpressions.Register1);
            NftablesExpressions.Lookup(_w, NftablesExpressions.Register1, NftablesExpressions.RegisterVerdict, NftablesRuleset.MarksMap, _marksId);
            EndRule(expressions, null);
        }
    }

    /// <summary>As <see cref="NftablesRuleset.Service"/>: chain (new, or flushed with its idle set), idle set, rule, dispatch element.</summary>
    private void Service(KernelService service, bool fresh, bool dispatch)
    {
        var key = service.Key;
        var chain = NftablesRuleset.ChainName(key);
        var idle = NftablesRuleset.IdleSetName(key);
        if (fresh)
        {
            Message(NewChain, Create, $"add chain {chain} ({key})");
            _w.PutString(ChainTable, NftablesRuleset.TableName);
            _w.PutString(ChainName, chain);
            _w.EndMessage();
        }
        else
        {
            Message(DelRule, Request, $"flush chain {chain} ({key})");
            _w.PutString(RuleTable, NftablesRuleset.TableName);
            _w.PutString(RuleChain, chain);
            _w.EndMessage();
            Message(DelSetElement, Request, $"flush set {idle} ({key})");
            _w.PutString(ElementListSet, idle);
            _w.PutString(ElementListTable, NftablesRuleset.TableName);
            _w.EndMessage();
        }

        var idleId = NamedSet(idle, 0, AddressPortType, 8, null, null, IdleUserData);
        Span<byte> bytes = stackalloc byte[12];
        var elements = -1;
        foreach (var d in service.Destinations.Values)
        {
            if (d.Weight != 0)
            {
                continue;
            }

            elements = elements < 0 ? BeginElements(idle, idleId, $"add elements to set {idle} ({key})") : ContinueElements(elements, idle, idleId, $"add elements to set {idle} ({key})");
            NftablesElements.AddressPort(d.Key, bytes);
            NftablesElements.Element(_w, NextElement(), bytes[..8], default);
        }

        if (elements >= 0)
        {
            EndElements(elements);
        }

        Rule(service, chain);
        if (dispatch && fresh)
        {
            Dispatch([key], key.IsFirewallMark ? NftablesRuleset.MarksMap : NftablesRuleset.ServicesMap, null);
        }
    }

    private void Rule(KernelService service, string chain)
    {
        var key = service.Key;
        var weighted = service.Destinations.Values.Where(d => d.Weight > 0).ToList();
        var withPorts = weighted.Any(d => d.Key.Port != 0);
        uint mapId = 0;
        var interval = weighted.Any(d => d.Weight > 1);
        uint total = 0;
        if (weighted.Count > 0)
        {
            foreach (var d in weighted)
            {
                total += (uint)d.Weight;
            }

            mapId = WeightMap(service, weighted, withPorts, interval);
        }

        var expressions = BeginRule(chain, $"add rule to chain {chain} ({key})");
        ProtocolMatch(service, withPorts);
        NftablesExpressions.Counter(_w);
        if (weighted.Count == 0)
        {
            NftablesExpressions.Drop(_w);
        }
        else
        {
            if (NftablesRuleset.UsesSourceHash(service))
            {
                NftablesExpressions.Payload(_w, NftablesExpressions.Register2, NftablesExpressions.PayloadNetworkHeader, 12, 4);
                NftablesExpressions.Jhash(_w, NftablesExpressions.Register2, NftablesExpressions.Register1, 4, total);
            }
            else
            {
                NftablesExpressions.NumgenRandom(_w, NftablesExpressions.Register1, total);
            }

            if (interval)
            {
                NftablesExpressions.HostToNetwork32(_w, NftablesExpressions.Register1);
            }

            NftablesExpressions.Lookup(_w, NftablesExpressions.Register1, NftablesExpressions.Register1, AnonymousMap, mapId);
            NftablesExpressions.Dnat(_w, NftablesExpressions.Register1, withPorts ? NftablesExpressions.Register32_01 : null);
        }

        EndRule(expressions, NftablesRuleset.Comment(service));
        if (weighted.Count > 0)
        {
            Fallback(service, chain, NftablesRuleset.FallbackOf(weighted), withPorts);
        }
    }

    /// <summary>[ meta load l4proto => reg 1 ] [ cmp eq reg 1 P ], where <see cref="NftablesRuleset.MatchesProtocol"/>.</summary>
    private void ProtocolMatch(KernelService service, bool withPorts)
    {
        if (NftablesRuleset.MatchesProtocol(service, withPorts))
        {
            NftablesExpressions.Meta(_w, NftablesExpressions.MetaL4Protocol, NftablesExpressions.Register1);
            NftablesExpressions.CompareEqual(_w, NftablesExpressions.Register1, [ProtocolNumber(service.Key.Protocol)!.Value]);
        }
    }

    /// <summary>As nft encodes <c>meta l4proto P dnat to ADDR:PORT comment "lvs-fallback"</c> (see <see cref="NftablesRuleset.FallbackOf"/>).</summary>
    private void Fallback(KernelService service, string chain, KernelDestination destination, bool withPorts)
    {
        var expressions = BeginRule(chain, $"add fallback rule to chain {chain} ({service.Key})");
        ProtocolMatch(service, withPorts);
        // nft loads the address and the port into registers of their own (immediate reg 1, immediate reg 2).
        Span<byte> bytes = stackalloc byte[8];
        NftablesElements.AddressPort(destination.Key, bytes);
        NftablesExpressions.Immediate(_w, NftablesExpressions.Register1, bytes[..4]);
        if (withPorts)
        {
            NftablesExpressions.Immediate(_w, NftablesExpressions.Register2, bytes[4..6]);
        }

        NftablesExpressions.Dnat(_w, NftablesExpressions.Register1, withPorts ? NftablesExpressions.Register2 : null);
        EndRule(expressions, NftablesRuleset.FallbackComment);
    }

    /// <summary>
    /// The anonymous weight map <c>{ 0-2 : rs1 . port, 3-4 : rs2 . port, … }</c>. With a range wider than one it is an
    /// interval map: keys in network order, each range given by its start, and one end-of-interval element after the
    /// last (the ranges touch, so no other end is needed); nft sizes it at two elements per range. Otherwise a plain
    /// map of host-order numbers, one element per destination.
    /// </summary>
    private uint WeightMap(KernelService service, List<KernelDestination> weighted, bool withPorts, bool interval)
    {
        var id = ++_setId;
        Message(NewSet, Create, $"add weight map of {service.Key}");
        _w.PutString(SetTable, NftablesRuleset.TableName);
        _w.PutString(SetName, AnonymousMap);
        _w.PutBe32(SetFlags, SetAnonymous | SetConstant | SetMap | (interval ? SetInterval : 0));
        _w.PutBe32(SetKeyType, TypeInteger);
        _w.PutBe32(SetKeyLength, 4);
        _w.PutBe32(SetDataType, withPorts ? AddressPortType : TypeIPv4Address);
        _w.PutBe32(SetDataLength, withPorts ? 8u : 4u);
        _w.PutBe32(SetId, id);
        var description = _w.BeginNested(SetDescription);
        _w.PutBe32(SetDescriptionSize, (uint)(interval ? 2 * weighted.Count : weighted.Count));
        _w.EndNested(description);
        _w.PutBytes(SetUserData, withPorts ? WeightMapConcatUserData : WeightMapAddressUserData);
        _w.EndMessage();

        var action = $"add elements to the weight map of {service.Key}";
        var elements = BeginElements(AnonymousMap, id, action);
        Span<byte> number = stackalloc byte[4];
        Span<byte> data = stackalloc byte[8];
        uint start = 0;
        foreach (var d in weighted)
        {
            elements = ContinueElements(elements, AnonymousMap, id, action);
            if (interval)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(number, start);
            }
            else
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(number, start);
            }

            if (withPorts)
            {
                NftablesElements.AddressPort(d.Key, data);
                NftablesElements.Element(_w, NextElement(), number, data[..8]);
            }
            else
            {
                NftablesElements.Address(d.Key, data);
                NftablesElements.Element(_w, NextElement(), number, data[..4]);
            }

            start += (uint)d.Weight;
        }

        if (interval)
        {
            elements = ContinueElements(elements, AnonymousMap, id, action);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(number, start);
            NftablesElements.Element(_w, NextElement(), number, default, intervalEnd: true);
        }

        EndElements(elements);
        return id;
    }

    /// <summary>Dispatch elements <c>VIP . proto . port : jump chain</c> or <c>mark : jump chain</c>.</summary>
    private void Dispatch(IReadOnlyList<ServiceKey> keys, string map, uint? mapId)
    {
        var action = keys.Count == 1 ? $"add element {keys[0]} to map {map}" : $"add {keys.Count} elements to map {map}";
        var elements = BeginElements(map, mapId, action);
        Span<byte> bytes = stackalloc byte[12];
        foreach (var key in keys)
        {
            elements = ContinueElements(elements, map, mapId, action);
            var length = DispatchKey(key, bytes);
            NftablesElements.Element(_w, NextElement(), bytes[..length], default, jump: NftablesRuleset.ChainName(key));
        }

        EndElements(elements);
    }

    private static int DispatchKey(ServiceKey key, Span<byte> bytes)
    {
        if (key.IsFirewallMark)
        {
            NftablesElements.MarkKey(key.FirewallMark, bytes);
            return 4;
        }

        NftablesElements.ServiceKey(key, ProtocolNumber(key.Protocol)!.Value, bytes);
        return 12;
    }

    /// <summary>As <see cref="NftablesRuleset.DeleteService"/>: dispatch element, chain's rules, chain, idle set.</summary>
    private void DeleteService(ServiceKey key)
    {
        var map = key.IsFirewallMark ? NftablesRuleset.MarksMap : NftablesRuleset.ServicesMap;
        var chain = NftablesRuleset.ChainName(key);
        Message(DelSetElement, Request, $"delete element {key} from map {map}");
        _w.PutString(ElementListTable, NftablesRuleset.TableName);
        _w.PutString(ElementListSet, map);
        var list = _w.BeginNested(ElementListElements);
        Span<byte> bytes = stackalloc byte[12];
        var length = DispatchKey(key, bytes);
        NftablesElements.Element(_w, 1, bytes[..length], default);
        _w.EndNested(list);
        _w.EndMessage();

        Message(DelRule, Request, $"flush chain {chain} ({key})");
        _w.PutString(RuleTable, NftablesRuleset.TableName);
        _w.PutString(RuleChain, chain);
        _w.EndMessage();
        Message(DelChain, Request, $"delete chain {chain} ({key})");
        _w.PutString(ChainTable, NftablesRuleset.TableName);
        _w.PutString(ChainName, chain);
        _w.EndMessage();
        Message(DelSet, Request, $"delete set {NftablesRuleset.IdleSetName(key)} ({key})");
        _w.PutString(SetTable, NftablesRuleset.TableName);
        _w.PutString(SetName, NftablesRuleset.IdleSetName(key));
        _w.EndMessage();
    }

    private uint NamedSet(string name, uint flags, uint keyType, uint keyLength, uint? dataType, uint? dataLength, byte[] userData)
    {
        var id = ++_setId;
        Message(NewSet, Create, $"add {(dataType is null ? "set" : "map")} {name}");
        _w.PutString(SetTable, NftablesRuleset.TableName);
        _w.PutString(SetName, name);
        _w.PutBe32(SetFlags, flags);
        _w.PutBe32(SetKeyType, keyType);
        _w.PutBe32(SetKeyLength, keyLength);
        if (dataType is { } type)
        {
            _w.PutBe32(SetDataType, type);
            _w.PutBe32(SetDataLength, dataLength ?? 0);
        }

        _w.PutBe32(SetId, id);
        _w.PutBytes(SetUserData, userData);
        _w.EndMessage();
        return id;
    }

    private (int Expressions, int Unused) BeginRule(string chain, string action)
    {
        Message(NewRule, CreateAppend, action);
        _w.PutString(RuleTable, NftablesRuleset.TableName);
        _w.PutString(RuleChain, chain);
        return (_w.BeginNested(RuleExpressions), 0);
    }

    private void EndRule((int Expressions, int Unused) started, string? comment)
    {
        _w.EndNested(started.Expressions);
        if (comment is not null)
        {
            // libnftnl's rule userdata: NFTNL_UDATA_RULE_COMMENT (type 0), one length byte, the NUL-terminated text.
            var length = System.Text.Encoding.UTF8.GetByteCount(comment) + 1;
            if (length > 255)
            {
                throw new KernelTableException($"nftables: rule comment too long ({length} bytes): {comment}");
            }

            var userData = _w.Attribute(RuleUserData, 2 + length);
            userData[0] = 0;
            userData[1] = (byte)length;
            System.Text.Encoding.UTF8.GetBytes(comment, userData[2..]);
            userData[^1] = 0;
        }

        _w.EndMessage();
    }

    /// <summary>Starts a NEWSETELEM message; returns the offset of its element list.</summary>
    private int BeginElements(string set, uint? setId, string action)
    {
        Message(NewSetElement, Create, action);
        _w.PutString(ElementListTable, NftablesRuleset.TableName);
        _w.PutString(ElementListSet, set);
        if (setId is { } id)
        {
            _w.PutBe32(ElementListSetId, id);
        }

        _elementNumber = 0;
        return _w.BeginNested(ElementListElements);
    }

    /// <summary>The nested-attribute type of the next element of a list: libnftnl numbers them 1, 2, 3, ….</summary>
    private ushort NextElement() => ++_elementNumber;

    /// <summary>Before each element: when the list nears the 64 KiB an attribute can hold, ends the message and starts another.</summary>
    private int ContinueElements(int elements, string set, uint? setId, string action)
    {
        if (_w.Length - _messageStart < ElementMessageBytes)
        {
            return elements;
        }

        EndElements(elements);
        return BeginElements(set, setId, action);
    }

    private void EndElements(int elements)
    {
        _w.EndNested(elements);
        _w.EndMessage();
    }
}
