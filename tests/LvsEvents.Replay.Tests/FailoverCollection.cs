namespace LvsEvents.Replay.Tests;

/// <summary>The failover scenario runs once for all the classes that use it.</summary>
[CollectionDefinition(Name)]
public sealed class FailoverCollection : ICollectionFixture<FailoverScenario>
{
    public const string Name = "failover scenario";
}
