namespace LvsEvents.Influx;

/// <summary>Which write API an endpoint speaks, decided by the connection string's keys.</summary>
public enum InfluxApiVersion
{
    /// <summary>InfluxDB 1.x: <c>/write?db=</c>, optional basic-auth user.</summary>
    V1,

    /// <summary>InfluxDB 2.x: <c>/api/v2/write?org=&amp;bucket=</c>, token auth.</summary>
    V2,
}
