using System.Text.Json;
using LvsEvents.Contracts;
using LvsEvents.Eventing;
using LvsEvents.TestInfrastructure;

namespace LvsEvents.Contracts.Tests;

public class EventJsonRoundTripTests
{
    public static TheoryData<string> EventTypeNames() => new(EventTypes.All.Keys.Order());

    [Fact]
    public void Every_registered_event_type_has_a_sample()
    {
        var sampled = SampleEvents.OneOfEach().Select(e => e.EventType).ToHashSet();
        Assert.Equal(EventTypes.All.Keys.Order(), sampled.Order());
    }

    [Theory]
    [MemberData(nameof(EventTypeNames))]
    public void Event_survives_a_json_round_trip_as_its_base_type(string eventType)
    {
        var original = SampleEvents.OneOfEach().Single(e => e.EventType == eventType);

        var json = EventJson.Serialize(original);
        var back = EventJson.Deserialize(json);

        Assert.IsType(original.GetType(), back);
        // Records compare by value, but lists compare by reference: compare the canonical JSON instead.
        Assert.Equal(JsonSerializer.Serialize(original, EventJson.Options), JsonSerializer.Serialize(back, EventJson.Options));
        Assert.Equal(original.EventId, back.EventId);
        Assert.Equal(original.OccurredAt, back.OccurredAt);
        Assert.Equal(original.StreamKey, back.StreamKey);
    }

    [Fact]
    public void Json_carries_the_stable_type_name_and_metadata()
    {
        var e = SampleEvents.OneOfEach().OfType<VrrpStateChanged>().Single();

        using var doc = JsonDocument.Parse(EventJson.Serialize(e));

        Assert.Equal("vrrp.state-changed", doc.RootElement.GetProperty("eventType").GetString());
        Assert.Equal("Master", doc.RootElement.GetProperty("to").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.False(doc.RootElement.TryGetProperty("streamKey", out _), "the stream key is derived, not stored");
        Assert.Single(doc.RootElement.EnumerateObject(), p => p.Name == "eventType");
        Assert.Equal(e.EventId, doc.RootElement.GetProperty("eventId").GetGuid());
        Assert.Equal("lvs-master", doc.RootElement.GetProperty("nodeId").GetString());
    }

    [Fact]
    public void A_missing_required_field_is_refused_not_defaulted()
    {
        var json = """{"eventType":"weight.changed","eventId":"0193a000-0000-7000-8000-000000000000","oldWeight":3,"newWeight":0,"cause":"Health"}""";

        var error = Assert.Throws<JsonException>(() => EventJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(json)));
        Assert.Contains("realServer", error.Message);
    }

    [Fact]
    public void An_unknown_event_type_is_refused()
    {
        var json = """{"eventType":"vrrp.no-such-thing","eventId":"0193a000-0000-7000-8000-000000000000"}""";

        Assert.ThrowsAny<Exception>(() => EventJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void Event_ids_are_version_7_and_sort_by_time()
    {
        var events = SampleEvents.OneOfEach();

        Assert.All(events, e => Assert.Equal(7, e.EventId.Version));
        Assert.Equal(events.Select(e => e.EventId).Order(), events.Select(e => e.EventId));
    }

    [Fact]
    public void Stream_keys_name_node_instance_service_and_real_server()
    {
        var events = SampleEvents.OneOfEach();

        Assert.Equal("node:lvs-master", events.OfType<ServiceStarted>().Single().StreamKey);
        Assert.Equal("vrrp:lvs-master:VI_1", events.OfType<VrrpStateChanged>().Single().StreamKey);
        Assert.Equal("vs:TCP/192.168.1.100:80", events.OfType<VirtualServiceQuorumChanged>().Single().StreamKey);
        Assert.Equal("rs:TCP/192.168.1.100:80->192.168.1.20:80", events.OfType<ProbeCompleted>().Single().StreamKey);
    }
}

public class ServiceReferenceTests
{
    [Theory]
    [InlineData("TCP/192.168.1.100:80")]
    [InlineData("UDP/10.0.0.1:53")]
    [InlineData("TCP/[2001:db8::1]:443")]
    [InlineData("FWM/7")]
    [InlineData("FWM/7/UDP")]
    [InlineData("GROUP/web")]
    public void Virtual_services_print_and_parse_back(string text)
    {
        var parsed = VirtualServiceRef.Parse(text);

        Assert.Equal(text, parsed.ToString());
        Assert.Equal($"\"{text}\"", System.Text.Json.JsonSerializer.Serialize(parsed, EventJson.Options));
    }

    [Theory]
    [InlineData("TCP/192.168.1.100:80->192.168.1.20:8080")]
    [InlineData("TCP/[2001:db8::1]:443->[2001:db8::20]:443")]
    [InlineData("FWM/3->10.0.0.5:80")]
    public void Real_servers_print_and_parse_back(string text)
    {
        var parsed = RealServerRef.Parse(text);

        Assert.Equal(text, parsed.ToString());
        Assert.Equal(parsed, System.Text.Json.JsonSerializer.Deserialize<RealServerRef>($"\"{text}\"", EventJson.Options));
    }

    [Theory]
    [InlineData("192.168.1.100:80")]
    [InlineData("TCP/192.168.1.100")]
    [InlineData("FWM/x")]
    [InlineData("TCP/1.2.3.4:80->nowhere")]
    public void Malformed_references_are_refused_as_json_errors(string text)
    {
        Assert.Throws<System.Text.Json.JsonException>(() => System.Text.Json.JsonSerializer.Deserialize<RealServerRef>($"\"{text}\"", EventJson.Options));
    }
}
