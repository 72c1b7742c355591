namespace LvsEvents.Eventing;

/// <summary>A setting is missing or wrong. The message names the setting and says what is expected.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
