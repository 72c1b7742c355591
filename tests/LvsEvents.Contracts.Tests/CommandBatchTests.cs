using LvsEvents.Contracts;
using LvsEvents.TestInfrastructure;

namespace LvsEvents.Contracts.Tests;

public class CommandBatchTests
{
    [Fact]
    public void Exactly_the_commands_are_recognised_in_their_spooled_json()
    {
        foreach (var e in SampleEvents.OneOfEach())
        {
            var json = EventJson.Serialize(e);
            Assert.True(CommandBatch.IsCommand(json) == e is LvsCommand, $"{e.EventType}: recognised as a command: {CommandBatch.IsCommand(json)}");
        }
    }

    [Fact]
    public void A_batch_yields_its_commands_in_order_as_they_were_spooled_and_none_without_any()
    {
        var all = SampleEvents.OneOfEach();
        var batch = EventBatch.Of("lvs-a", "recovery", 7, all);

        var commands = CommandBatch.Of(batch);

        Assert.NotNull(commands);
        Assert.Equal(("lvs-a", "recovery", 7L), (commands.Batch.NodeId, commands.Batch.Service, commands.Batch.FirstSequence));
        Assert.Equal(all.OfType<LvsCommand>().Select(c => c.EventId), commands.Batch.Read().Select(c => c.EventId));
        Assert.Equal(all.Count(e => e is LvsCommand), commands.Batch.Count);
        Assert.All(commands.Batch.ReadJson(), json => Assert.Contains(batch.ReadJson(), j => j.Span.SequenceEqual(json.Span)));
        Assert.Null(CommandBatch.Of(EventBatch.Of("lvs-a", "vrrp", 1, all.Where(e => e is not LvsCommand).ToList())));
    }
}
