using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>Reads a vrrp_script block.</summary>
internal sealed class VrrpScriptReader(StatementValues values)
{
    public VrrpScript Read(ConfigurationNode node, string name)
    {
        var script = new VrrpScript { Name = name, Location = node.Location };
        foreach (var item in node.Block ?? [])
        {
            switch (item.Keyword)
            {
                case "script":
                    script = script with { Script = values.RestOfLine(item) };
                    break;
                case "interval":
                    script = script with { Interval = values.Seconds(item, 0.000001, 86400) ?? script.Interval };
                    break;
                case "timeout":
                    script = script with { Timeout = values.Seconds(item, 0.000001, 86400) };
                    break;
                case "weight":
                    script = script with
                    {
                        Weight = values.Integer(item, -253, 253) ?? script.Weight,
                        WeightReverse = item.Arguments.Skip(1).Any(a => a.Text == "reverse"),
                    };
                    break;
                case "rise":
                    script = script with { Rise = values.Integer(item, 1, int.MaxValue) ?? script.Rise };
                    break;
                case "fall":
                    script = script with { Fall = values.Integer(item, 1, int.MaxValue) ?? script.Fall };
                    break;
                case "user":
                    script = script with
                    {
                        User = values.String(item),
                        Group = item.Arguments.Count > 1 ? item.Arguments[1].Text : null,
                    };
                    break;
                case "init_fail":
                    script = script with { InitFail = true };
                    break;
                default:
                    values.UnknownKeyword(item, "vrrp_script");
                    break;
            }
        }

        if (script.Script is null)
        {
            values.Diagnostics.Error(node.Location, $"vrrp_script {name} has no 'script'");
        }

        return script;
    }
}
