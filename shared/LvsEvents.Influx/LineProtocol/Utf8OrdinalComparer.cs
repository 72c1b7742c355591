using System.Text;

namespace LvsEvents.Influx;

/// <summary>
/// Orders strings as their UTF-8 bytes compare, which is how InfluxDB (Go) sorts tag keys. Plain ordinal
/// comparison of UTF-16 differs for characters outside the Basic Multilingual Plane.
/// </summary>
internal sealed class Utf8OrdinalComparer : IComparer<string>
{
    public static readonly Utf8OrdinalComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        // Code point order equals UTF-8 byte order.
        var left = x.EnumerateRunes();
        var right = y.EnumerateRunes();
        while (true)
        {
            var hasLeft = left.MoveNext();
            var hasRight = right.MoveNext();
            if (!hasLeft || !hasRight)
            {
                return hasLeft.CompareTo(hasRight);
            }

            var order = left.Current.Value.CompareTo(right.Current.Value);
            if (order != 0)
            {
                return order;
            }
        }
    }
}
