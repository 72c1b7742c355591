namespace LvsEvents.Influx;

/// <summary>An InfluxQL query the server refused or could not run.</summary>
public sealed class InfluxQueryException : Exception
{
    public InfluxQueryException(string message)
        : base(message)
    {
    }

    public InfluxQueryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
