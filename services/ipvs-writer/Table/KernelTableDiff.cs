using LvsEvents.Contracts;

namespace LvsEvents.IpvsWriter.Table;

/// <summary>
/// One change to the kernel table. Service operations carry the service before/after; destination operations also
/// the destination before/after. <see cref="Before"/>/<see cref="After"/> give the rule in <c>ipvsadm -S -n</c> form.
/// </summary>
public sealed record TableOperation(
    KernelOperation Kind,
    ServiceKey Service,
    KernelService? ServiceBefore,
    KernelService? ServiceAfter,
    KernelDestination? DestinationBefore = null,
    KernelDestination? DestinationAfter = null)
{
    public bool IsDestinationOperation => Kind is KernelOperation.AddDestination or KernelOperation.EditDestination or KernelOperation.DeleteDestination;

    public DestinationKey? Destination => (DestinationAfter ?? DestinationBefore)?.Key;

    public string? Before => IsDestinationOperation
        ? DestinationBefore is null ? null : (ServiceBefore ?? ServiceAfter)!.SaveLine(DestinationBefore)
        : ServiceBefore?.SaveLine();

    public string? After => IsDestinationOperation
        ? DestinationAfter is null ? null : (ServiceAfter ?? ServiceBefore)!.SaveLine(DestinationAfter)
        : ServiceAfter?.SaveLine();

    /// <summary>What was done, for logs: <c>EditDestination -a ... -w 1 → -a ... -w 3</c>.</summary>
    public string Change() => Before is null ? $"{Kind} {After}" : After is null ? $"{Kind} {Before}" : $"{Kind} {Before} → {After}";

    /// <summary>One line for logs and drift reports, e.g. <c>edit: -a -t ... -w 1 → -a -t ... -w 3</c>.</summary>
    public string Describe() => Kind switch
    {
        KernelOperation.AddService or KernelOperation.AddDestination => $"missing: {After}",
        KernelOperation.DeleteService or KernelOperation.DeleteDestination => $"unexpected: {Before}",
        _ => $"differs: {Before} (want {After})",
    };
}

/// <summary>Desired versus actual → the fewest operations that make actual equal desired, in an order that keeps traffic flowing.</summary>
public static class KernelTableDiff
{
    /// <summary>
    /// Order: new and changed services first, then added and changed destinations, then removed destinations, then
    /// removed services, so a service never passes through an empty state it does not end in. Deleting a service
    /// removes its destinations with it (no separate destination operations).
    /// </summary>
    public static IReadOnlyList<TableOperation> Compute(KernelTable desired, KernelTable actual)
    {
        var services = new List<TableOperation>();
        var additions = new List<TableOperation>();
        var deletions = new List<TableOperation>();
        var removedServices = new List<TableOperation>();

        foreach (var want in desired.Services.Values)
        {
            if (!actual.Services.TryGetValue(want.Key, out var have))
            {
                services.Add(new TableOperation(KernelOperation.AddService, want.Key, null, want));
                foreach (var d in want.Destinations.Values)
                {
                    additions.Add(new TableOperation(KernelOperation.AddDestination, want.Key, null, want, null, d));
                }

                continue;
            }

            if (!want.SameSettings(have))
            {
                services.Add(new TableOperation(KernelOperation.EditService, want.Key, have, want));
            }

            foreach (var d in want.Destinations.Values)
            {
                if (!have.Destinations.TryGetValue(d.Key, out var current))
                {
                    additions.Add(new TableOperation(KernelOperation.AddDestination, want.Key, have, want, null, d));
                }
                else if (current != d)
                {
                    additions.Add(new TableOperation(KernelOperation.EditDestination, want.Key, have, want, current, d));
                }
            }

            foreach (var d in have.Destinations.Values)
            {
                if (!want.Destinations.ContainsKey(d.Key))
                {
                    deletions.Add(new TableOperation(KernelOperation.DeleteDestination, want.Key, have, want, d, null));
                }
            }
        }

        foreach (var have in actual.Services.Values)
        {
            if (!desired.Services.ContainsKey(have.Key))
            {
                removedServices.Add(new TableOperation(KernelOperation.DeleteService, have.Key, have, null));
            }
        }

        return [.. services, .. additions, .. deletions, .. removedServices];
    }

    /// <summary>Applies operations to a table: what a backend that did them all holds afterwards.</summary>
    public static KernelTable Apply(KernelTable table, IEnumerable<TableOperation> operations)
    {
        foreach (var op in operations)
        {
            table = op.Kind switch
            {
                KernelOperation.AddService => table.With(op.ServiceAfter!.WithDestinations([])),
                KernelOperation.EditService => table.With(KernelService.Create(op.Service, op.ServiceAfter!.Scheduler, op.ServiceAfter.PersistenceTimeout,
                    op.ServiceAfter.PersistenceNetmask, table.Services[op.Service].Destinations.Values)),
                KernelOperation.DeleteService => table.Without(op.Service),
                KernelOperation.AddDestination or KernelOperation.EditDestination =>
                    table.With(table.Services[op.Service] with { Destinations = table.Services[op.Service].Destinations.SetItem(op.DestinationAfter!.Key, op.DestinationAfter) }),
                KernelOperation.DeleteDestination =>
                    table.With(table.Services[op.Service] with { Destinations = table.Services[op.Service].Destinations.Remove(op.DestinationBefore!.Key) }),
                _ => throw new ArgumentOutOfRangeException(nameof(operations), op.Kind, "not a table operation"),
            };
        }

        return table;
    }
}
