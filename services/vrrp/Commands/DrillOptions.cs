namespace LvsEvents.Vrrp.Commands;

/// <summary>Section <c>Drills</c>: whether this director takes part in <c>lvsctl drill</c> (off unless the operator says so).</summary>
public sealed class DrillOptions
{
    public const string Section = "Drills";

    /// <summary>False: drill commands are answered with a refusal and change nothing.</summary>
    public bool Allowed { get; set; }
}
