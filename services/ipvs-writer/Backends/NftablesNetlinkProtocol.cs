namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// The nf_tables netlink numbers the encoder uses (linux/netfilter/nf_tables.h, nfnetlink.h). Every integer attribute
/// of nf_tables is big-endian; set element keys are in the byte order of the register they are compared with.
/// </summary>
internal static class NftablesNetlinkProtocol
{
    public const byte SubsystemNftables = 10;
    public const ushort BatchBegin = 0x10;
    public const ushort BatchEnd = 0x11;
    public const byte FamilyIPv4 = 2;

    public const ushort NewTable = 0;
    public const ushort DelTable = 2;
    public const ushort NewChain = 3;
    public const ushort DelChain = 5;
    public const ushort NewRule = 6;
    public const ushort DelRule = 8;
    public const ushort NewSet = 9;
    public const ushort DelSet = 11;
    public const ushort NewSetElement = 12;
    public const ushort DelSetElement = 14;
    public const ushort GetGeneration = 16;

    public static ushort MessageType(ushort message) => (ushort)((SubsystemNftables << 8) | message);

    // NFTA_TABLE_*
    public const ushort TableName = 1;
    public const ushort TableFlags = 2;

    // NFTA_CHAIN_*
    public const ushort ChainTable = 1;
    public const ushort ChainName = 3;
    public const ushort ChainHook = 4;
    public const ushort ChainPolicy = 5;
    public const ushort ChainType = 7;
    public const ushort HookNumber = 1;
    public const ushort HookPriority = 2;
    public const uint HookPrerouting = 0;
    public const uint HookOutput = 3;
    public const uint NfAccept = 1;

    // NFTA_RULE_*
    public const ushort RuleTable = 1;
    public const ushort RuleChain = 2;
    public const ushort RuleExpressions = 4;
    public const ushort RuleUserData = 7;
    public const ushort ListElement = 1;
    public const ushort ExpressionName = 1;
    public const ushort ExpressionData = 2;

    // NFTA_SET_*
    public const ushort SetTable = 1;
    public const ushort SetName = 2;
    public const ushort SetFlags = 3;
    public const ushort SetKeyType = 4;
    public const ushort SetKeyLength = 5;
    public const ushort SetDataType = 6;
    public const ushort SetDataLength = 7;
    public const ushort SetDescription = 9;
    public const ushort SetId = 10;
    public const ushort SetUserData = 13;
    public const ushort SetDescriptionSize = 1;

    public const uint SetAnonymous = 0x1;
    public const uint SetConstant = 0x2;
    public const uint SetInterval = 0x4;
    public const uint SetMap = 0x8;

    // NFTA_SET_ELEM_LIST_* and NFTA_SET_ELEM_*
    public const ushort ElementListTable = 1;
    public const ushort ElementListSet = 2;
    public const ushort ElementListElements = 3;
    public const ushort ElementListSetId = 4;
    public const ushort ElementKey = 1;
    public const ushort ElementData = 2;
    public const ushort ElementFlags = 3;
    public const uint ElementIntervalEnd = 0x1;

    // NFTA_DATA_* and NFTA_VERDICT_*
    public const ushort DataValue = 1;
    public const ushort DataVerdict = 2;
    public const ushort VerdictCode = 1;
    public const ushort VerdictChain = 2;
    public const int VerdictJump = -3;
    public const int VerdictDrop = 0;

    // nft's datatype ids (src/datatype.h), as nft declares the set types; concatenations shift by 6 bits per field.
    public const uint TypeVerdict = 1;
    public const uint TypeInteger = 4;
    public const uint TypeIPv4Address = 7;
    public const uint TypeInetProtocol = 12;
    public const uint TypeInetService = 13;
    public const uint TypeMark = 19;
    public const uint DataTypeVerdict = 0xffffff00;

    public static uint Concat(params uint[] types)
    {
        var type = 0u;
        foreach (var t in types)
        {
            type = (type << 6) | t;
        }

        return type;
    }

    /// <summary>IP protocol number for a service protocol name, or null when the encoder does not know it.</summary>
    public static byte? ProtocolNumber(string protocol) => protocol.ToUpperInvariant() switch
    {
        "TCP" => 6,
        "UDP" => 17,
        "SCTP" => 132,
        _ => null,
    };
}
