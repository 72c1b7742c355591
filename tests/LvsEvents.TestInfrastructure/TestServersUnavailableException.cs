namespace LvsEvents.TestInfrastructure;

/// <summary>The servers a test needs are neither configured nor startable here.</summary>
public sealed class TestServersUnavailableException(string message) : Exception(message);
