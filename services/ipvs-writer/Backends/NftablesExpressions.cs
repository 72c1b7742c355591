using LvsEvents.Netlink;

namespace LvsEvents.IpvsWriter.Backends;

/// <summary>
/// The nf_tables expressions of our rules, encoded as nft encodes them (attribute order included), learned from
/// <c>nft --debug=netlink</c> and the bytes nft sends. Registers: 0 is the verdict register, 1 and 2 the 16-byte data
/// registers, 9 and 10 the second and third 32-bit words of register 1 (where concatenations continue).
/// </summary>
internal static class NftablesExpressions
{
    public const uint RegisterVerdict = 0;
    public const uint Register1 = 1;
    public const uint Register2 = 2;
    public const uint Register32_01 = 9;
    public const uint Register32_02 = 10;

    public const uint PayloadNetworkHeader = 1;
    public const uint PayloadTransportHeader = 2;
    public const uint MetaMark = 3;
    public const uint MetaL4Protocol = 16;

    /// <summary>[ payload load LEN b @ BASE header + OFFSET => reg DREG ]</summary>
    public static void Payload(NetlinkBatchWriter w, uint destination, uint header, uint offset, uint length)
    {
        var data = Begin(w, "payload");
        w.PutBe32(1, destination); // NFTA_PAYLOAD_DREG
        w.PutBe32(2, header);      // NFTA_PAYLOAD_BASE
        w.PutBe32(3, offset);      // NFTA_PAYLOAD_OFFSET
        w.PutBe32(4, length);      // NFTA_PAYLOAD_LEN
        End(w, data);
    }

    /// <summary>[ meta load KEY => reg DREG ]</summary>
    public static void Meta(NetlinkBatchWriter w, uint key, uint destination)
    {
        var data = Begin(w, "meta");
        w.PutBe32(2, key);         // NFTA_META_KEY
        w.PutBe32(1, destination); // NFTA_META_DREG
        End(w, data);
    }

    /// <summary>[ cmp eq reg SREG VALUE ]</summary>
    public static void CompareEqual(NetlinkBatchWriter w, uint source, ReadOnlySpan<byte> value)
    {
        var data = Begin(w, "cmp");
        w.PutBe32(1, source); // NFTA_CMP_SREG
        w.PutBe32(2, 0);      // NFTA_CMP_OP: NFT_CMP_EQ
        var constant = w.BeginNested(3); // NFTA_CMP_DATA
        w.PutBytes(NftablesNetlinkProtocol.DataValue, value);
        w.EndNested(constant);
        End(w, data);
    }

    /// <summary>[ counter pkts 0 bytes 0 ]: nft sends it with an empty data attribute.</summary>
    public static void Counter(NetlinkBatchWriter w) => End(w, Begin(w, "counter"));

    /// <summary>[ numgen reg DREG = random mod MODULUS ]</summary>
    public static void NumgenRandom(NetlinkBatchWriter w, uint destination, uint modulus)
    {
        var data = Begin(w, "numgen");
        w.PutBe32(1, destination); // NFTA_NG_DREG
        w.PutBe32(2, modulus);     // NFTA_NG_MODULUS
        w.PutBe32(3, 1);           // NFTA_NG_TYPE: NFT_NG_RANDOM
        w.PutBe32(4, 0);           // NFTA_NG_OFFSET
        End(w, data);
    }

    /// <summary>[ hash reg DREG = jhash(reg SREG, LEN, 0x0) % mod MODULUS ]</summary>
    public static void Jhash(NetlinkBatchWriter w, uint source, uint destination, uint length, uint modulus)
    {
        var data = Begin(w, "hash");
        w.PutBe32(1, source);      // NFTA_HASH_SREG
        w.PutBe32(2, destination); // NFTA_HASH_DREG
        w.PutBe32(3, length);      // NFTA_HASH_LEN
        w.PutBe32(4, modulus);     // NFTA_HASH_MODULUS
        w.PutBe32(5, 0);           // NFTA_HASH_SEED
        w.PutBe32(6, 0);           // NFTA_HASH_OFFSET
        w.PutBe32(7, 0);           // NFTA_HASH_TYPE: NFT_HASH_JENKINS
        End(w, data);
    }

    /// <summary>[ byteorder reg DREG = hton(reg SREG, 4, 4) ]</summary>
    public static void HostToNetwork32(NetlinkBatchWriter w, uint register)
    {
        var data = Begin(w, "byteorder");
        w.PutBe32(1, register); // NFTA_BYTEORDER_SREG
        w.PutBe32(2, register); // NFTA_BYTEORDER_DREG
        w.PutBe32(3, 1);        // NFTA_BYTEORDER_OP: NFT_BYTEORDER_HTON
        w.PutBe32(4, 4);        // NFTA_BYTEORDER_LEN
        w.PutBe32(5, 4);        // NFTA_BYTEORDER_SIZE
        End(w, data);
    }

    /// <summary>[ lookup reg SREG set NAME dreg DREG ]: the set by name, or by the id it has in this batch.</summary>
    public static void Lookup(NetlinkBatchWriter w, uint source, uint destination, string set, uint setId)
    {
        var data = Begin(w, "lookup");
        w.PutBe32(2, source);      // NFTA_LOOKUP_SREG
        w.PutBe32(3, destination); // NFTA_LOOKUP_DREG
        w.PutString(1, set);       // NFTA_LOOKUP_SET
        w.PutBe32(4, setId);       // NFTA_LOOKUP_SET_ID
        End(w, data);
    }

    /// <summary>[ nat dnat ip addr_min reg ADDR (proto_min reg PROTO) ]</summary>
    public static void Dnat(NetlinkBatchWriter w, uint addressRegister, uint? protocolRegister)
    {
        var data = Begin(w, "nat");
        w.PutBe32(1, 1);               // NFTA_NAT_TYPE: NFT_NAT_DNAT
        w.PutBe32(2, NftablesNetlinkProtocol.FamilyIPv4); // NFTA_NAT_FAMILY
        w.PutBe32(3, addressRegister); // NFTA_NAT_REG_ADDR_MIN
        if (protocolRegister is { } p)
        {
            w.PutBe32(5, p);           // NFTA_NAT_REG_PROTO_MIN
        }

        End(w, data);
    }

    /// <summary>[ immediate reg DREG VALUE ]</summary>
    public static void Immediate(NetlinkBatchWriter w, uint destination, ReadOnlySpan<byte> value)
    {
        var data = Begin(w, "immediate");
        w.PutBe32(1, destination);    // NFTA_IMMEDIATE_DREG
        var constant = w.BeginNested(2); // NFTA_IMMEDIATE_DATA
        w.PutBytes(NftablesNetlinkProtocol.DataValue, value);
        w.EndNested(constant);
        End(w, data);
    }

    /// <summary>[ immediate reg 0 drop ]</summary>
    public static void Drop(NetlinkBatchWriter w)
    {
        var data = Begin(w, "immediate");
        w.PutBe32(1, RegisterVerdict); // NFTA_IMMEDIATE_DREG
        var value = w.BeginNested(2);  // NFTA_IMMEDIATE_DATA
        var verdict = w.BeginNested(NftablesNetlinkProtocol.DataVerdict);
        w.PutBe32(NftablesNetlinkProtocol.VerdictCode, NftablesNetlinkProtocol.VerdictDrop);
        w.EndNested(verdict);
        w.EndNested(value);
        End(w, data);
    }

    private static (int Element, int Data) Begin(NetlinkBatchWriter w, string name)
    {
        var element = w.BeginNested(NftablesNetlinkProtocol.ListElement);
        w.PutString(NftablesNetlinkProtocol.ExpressionName, name);
        return (element, w.BeginNested(NftablesNetlinkProtocol.ExpressionData));
    }

    private static void End(NetlinkBatchWriter w, (int Element, int Data) started)
    {
        w.EndNested(started.Data);
        w.EndNested(started.Element);
    }
}
