using LvsEvents.Contracts;

namespace LvsEvents.Monitor.Alerts;

/// <summary>
/// What is firing: turns the rules' verdicts into alert events, once per episode (a firing alert does not fire
/// again, a clear without a firing alert is nothing). Pure apart from the clock given to it.
/// </summary>
public sealed class AlertBook(IEnumerable<IAlertRule> rules)
{
    private readonly IReadOnlyList<IAlertRule> _rules = rules.ToList();
    private readonly Dictionary<string, (AlertFires Alert, DateTimeOffset Since)> _firing = [];

    public IReadOnlyCollection<string> Firing => _firing.Keys;

    public IReadOnlyList<LvsEvent> Observe(LvsEvent e, DateTimeOffset now)
    {
        // Alert events come back through the bus; they are ours, not news.
        if (e is AlertRaised or AlertResolved)
            return [];
        return Apply(_rules.SelectMany(r => r.Observe(e)), now);
    }

    public IReadOnlyList<LvsEvent> Tick(DateTimeOffset now) => Apply(_rules.SelectMany(r => r.Tick(now)), now);

    private List<LvsEvent> Apply(IEnumerable<AlertChange> changes, DateTimeOffset now)
    {
        var events = new List<LvsEvent>();
        foreach (var change in changes)
        {
            if (change is AlertFires fires && !_firing.ContainsKey(change.Key))
            {
                _firing[change.Key] = (fires, now);
                events.Add(new AlertRaised
                {
                    AlertKey = change.Key, Rule = change.Rule, Severity = fires.Severity, Subject = change.Subject, Message = fires.Message,
                    CorrelationId = fires.Cause, CausationId = fires.Cause, OccurredAt = now,
                });
            }
            else if (change is AlertClears clears && _firing.Remove(change.Key, out var was))
            {
                events.Add(new AlertResolved
                {
                    AlertKey = change.Key, Rule = change.Rule, Subject = change.Subject, Duration = now - was.Since,
                    CorrelationId = was.Alert.Cause, CausationId = clears.Cause, OccurredAt = now,
                });
            }
        }
        return events;
    }
}
