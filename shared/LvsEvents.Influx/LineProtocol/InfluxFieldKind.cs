namespace LvsEvents.Influx;

/// <summary>The field value types InfluxDB 1.x stores. Unsigned integers are a 2.x-only type and are left out.</summary>
public enum InfluxFieldKind
{
    Integer,
    Float,
    Boolean,
    String,
}
