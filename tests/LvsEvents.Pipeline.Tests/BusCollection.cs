namespace LvsEvents.Pipeline.Tests;

/// <summary>Tests that use the broker run one at a time: one of them stops and starts it.</summary>
[CollectionDefinition(Name)]
public sealed class BusCollection
{
    public const string Name = "bus";
}
