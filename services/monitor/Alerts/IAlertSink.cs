using LvsEvents.Contracts;

namespace LvsEvents.Monitor.Alerts;

/// <summary>Somewhere an alert (<see cref="AlertRaised"/> or <see cref="AlertResolved"/>) is delivered besides the bus.</summary>
public interface IAlertSink
{
    string Name { get; }

    Task DeliverAsync(LvsEvent alert, CancellationToken cancellationToken);
}
