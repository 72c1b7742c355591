namespace LvsEvents.Influx;

/// <summary>The parts of a line whose escaping rules differ.</summary>
internal enum LineProtocolElement
{
    Measurement,
    TagKey,
    TagValue,
    FieldKey,
}
