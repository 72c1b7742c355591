using JasperFx;
using JasperFx.Events;
using LvsEvents.Contracts;
using Marten;
using LvsEvents.Eventing;
using Npgsql;

namespace LvsEvents.EventStore;

/// <summary>
/// How events are laid out in PostgreSQL through Marten: string stream keys (see <see cref="StreamKeys"/>),
/// our stable event type names, quick appends with the event's own id and time, correlation and causation
/// ids as metadata, and Marten's unique index on the event id so the same event is never stored twice.
/// </summary>
public static class EventStoreSchema
{
    public const string ConnectionStringName = "eventstore";
    public const string SchemaName = "lvsevents";

    /// <summary>
    /// Indexes on mt_events that the replay (shared/LvsEvents.Replay) creates and keeps: Marten is told to leave
    /// them alone, since its migration drops indexes on its tables that it does not know, and re-creating one on a
    /// large store at every monitor start would cost minutes.
    /// </summary>
    public static readonly IReadOnlyList<string> ReplayIndexes = ["lvs_replay_events_time", "lvs_replay_events_state_time"];

    public static void Configure(StoreOptions options, string? connectionString, string schema = SchemaName)
    {
        options.Connection(Validate(connectionString));
        options.DatabaseSchemaName = schema;
        options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
        options.UseSystemTextJsonForSerialization(configure: EventJson.Configure);
        options.Events.StreamIdentity = StreamIdentity.AsString;
        options.Events.AppendMode = EventAppendMode.Quick;
        options.Events.MetadataConfig.CorrelationIdEnabled = true;
        options.Events.MetadataConfig.CausationIdEnabled = true;
        // The recorder relies on it to store each event once. Declared here, not added by hand: Marten's
        // migration drops indexes on its tables that it does not know.
        options.Events.EnableUniqueIndexOnEventId = true;
        foreach (var index in ReplayIndexes)
        {
            options.Events.IgnoreIndex(index);
        }

        foreach (var (name, type) in EventTypes.All)
        {
            options.Events.MapEventType(type, name);
        }
    }

    /// <summary>
    /// Creates or migrates the schema (under Marten's advisory lock, so directors starting together do not
    /// race).
    /// </summary>
    public static async Task EnsureAsync(IDocumentStore store, CancellationToken cancellationToken)
    {
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A read-side store for tools (lvsctl) that do not run a host. It never creates or migrates the schema:
    /// that is the monitor's job, under Marten's lock, and a reader racing it would fail both.
    /// </summary>
    public static DocumentStore CreateStore(string? connectionString, string schema = SchemaName) => DocumentStore.For(o =>
    {
        Configure(o, connectionString, schema);
        o.AutoCreateSchemaObjects = AutoCreate.None;
    });

    /// <summary>Checks the connection string so a mistake is named, not thrown as a stack trace.</summary>
    public static string Validate(string? connectionString)
    {
        const string field = "ConnectionStrings:eventstore";
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ConfigurationException($"{field} is not set: give PostgreSQL as Host=...;Port=5432;Database=...;Username=...;Password=... (environment variable ConnectionStrings__eventstore).");
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrEmpty(builder.Host) || string.IsNullOrEmpty(builder.Database))
            {
                throw new ConfigurationException($"{field} needs Host and Database.");
            }
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException($"{field} is not a valid PostgreSQL connection string: {e.Message.Split('(')[0].Trim()}");
        }

        return connectionString;
    }
}
