using System.Text;

namespace LvsEvents.Vrrp.Protocol;

/// <summary>The 8-byte authentication data of a VRRPv2 <c>auth_type PASS</c> advert.</summary>
public static class VrrpPassword
{
    public const int Length = 8;

    /// <summary>
    /// keepalived copies at most 8 bytes of <c>auth_pass</c> and zero pads the rest, so a longer password is
    /// compared (and sent) by its first 8 bytes only.
    /// </summary>
    public static byte[] ToAuthenticationData(string? password)
    {
        var data = new byte[Length];
        if (!string.IsNullOrEmpty(password))
        {
            var bytes = Encoding.UTF8.GetBytes(password);
            bytes.AsSpan(0, Math.Min(bytes.Length, Length)).CopyTo(data);
        }
        return data;
    }
}
