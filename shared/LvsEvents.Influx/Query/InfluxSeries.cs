using System.Text.Json;

namespace LvsEvents.Influx;

/// <summary>
/// One series of an InfluxQL result. Values stay <see cref="JsonElement"/>s so that an integer field and a
/// float field holding a whole number stay distinguishable; times are integer nanoseconds (the client asks for epoch=ns).
/// </summary>
public sealed record InfluxSeries(
    string Name,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<string> Columns,
    IReadOnlyList<IReadOnlyList<JsonElement>> Values)
{
    /// <summary>The value of <paramref name="column"/> in row <paramref name="row"/>.</summary>
    public JsonElement Get(int row, string column)
    {
        var index = Columns.ToList().IndexOf(column);
        if (index < 0)
        {
            throw new KeyNotFoundException(
                $"Series '{Name}' has no column '{column}' (columns: {string.Join(", ", Columns)}).");
        }

        return Values[row][index];
    }
}
