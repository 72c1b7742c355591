using System.Threading.Channels;
using LvsEvents.Contracts;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Definitions;
using LvsEvents.Vrrp.Notification;
using LvsEvents.Vrrp.Protocol;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>
/// The one owner of a VRRP instance: a single loop feeds the pure state machine (packets, timers, tracking,
/// sync-group moves) and carries out its decisions on the link, in order: the wire first, then the events.
/// </summary>
public sealed class VrrpInstanceRunner : IAsyncDisposable
{
    private readonly VrrpInstanceDefinition _definition;
    private readonly IVrrpInstanceLink _link;
    private readonly VrrpEventWriter _events;
    private readonly NotifyScriptRunner _notify;
    private readonly string? _namespace;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly VrrpInstanceStateMachine _machine;
    private readonly Channel<Func<DateTimeOffset, VrrpDecision>> _inputs =
        Channel.CreateUnbounded<Func<DateTimeOffset, VrrpDecision>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly GratuitousArpAnnouncer _announcer;
    private Task? _loop;
    private Task? _receiver;
    private long _sent;
    private long _received;

    public VrrpInstanceRunner(VrrpInstanceDefinition definition, IVrrpInstanceLink link, VrrpEventWriter events,
        NotifyScriptRunner notify, string? networkNamespace, TimeProvider clock, ILogger logger)
    {
        _definition = definition;
        _link = link;
        _events = events;
        _notify = notify;
        _namespace = networkNamespace;
        _clock = clock;
        _logger = logger;
        _machine = new VrrpInstanceStateMachine(definition.ToProtocolOptions(link.SourceAddress));
        _announcer = new GratuitousArpAnnouncer(definition, link, events, logger);
        foreach (var warning in _machine.Warnings)
            logger.LogWarning("{Warning}", warning);
    }

    public VrrpInstanceDefinition Definition => _definition;
    public string Name => _definition.Name;

    /// <summary>The state as of the last decision (read from other threads for status and sync groups).</summary>
    public VrrpState State { get; private set; } = VrrpState.Initialize;

    public int EffectivePriority => _machine.EffectivePriority;
    public long AdvertsSent => Interlocked.Read(ref _sent);
    public long AdvertsReceived => Interlocked.Read(ref _received);
    public RejectionCounters Rejections => _machine.Counters;

    /// <summary>Raised on the loop after every state change (the speaker moves sync groups with it).</summary>
    public event Action<VrrpInstanceRunner, StateTransition>? StateChanged;

    /// <param name="resumeAsMaster">see <see cref="VrrpInstanceStateMachine.Start"/>.</param>
    public void Start(bool resumeAsMaster = false)
    {
        Post(now => _machine.Start(now, resumeAsMaster));
        _loop = Task.Run(LoopAsync);
        _receiver = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Queues an input for the loop; <paramref name="input"/> runs on it with the current time.</summary>
    public void Post(Func<DateTimeOffset, VrrpDecision> input) => _inputs.Writer.TryWrite(input);

    /// <param name="clearedBy">why a fault ends, when this verdict ends one (interface up, script recovered).</param>
    public void OnTracking(int effectivePriority, VrrpTransitionReason? fault, string cause, VrrpTransitionReason clearedBy)
        => Post(now =>
        {
            if (fault is { } reason)
                return _machine.OnFault(reason, now);
            if (_machine.State == VrrpState.Fault)
            {
                var cleared = _machine.OnFaultCleared(clearedBy, now);
                var priority = _machine.OnPriorityChanged(effectivePriority, now, cause);
                return new VrrpDecision([.. cleared.Actions, .. priority.Actions]);
            }
            return _machine.OnPriorityChanged(effectivePriority, now, cause);
        });

    public void FollowSyncGroup(VrrpState target) => Post(now => _machine.FollowSyncGroup(target, now));

    public void FaultFromSyncGroup(bool fault)
        => Post(now => fault
            ? _machine.OnFault(VrrpTransitionReason.SyncGroupMemberChanged, now)
            : _machine.OnFaultCleared(VrrpTransitionReason.SyncGroupMemberChanged, now));

    /// <summary>
    /// Leaves the protocol: graceful (priority 0 advert, VIPs released, notify_stop) or, for a reload that keeps
    /// the instance, detached (the wire and the VIPs stay as they are for the next runner). Returns the last state.
    /// </summary>
    public async Task<VrrpState> StopAsync(bool graceful)
    {
        if (graceful)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Post(now =>
            {
                var decision = _machine.Shutdown(now);
                done.TrySetResult();
                return decision;
            });
            _inputs.Writer.TryComplete();
            await done.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        else
        {
            _inputs.Writer.TryComplete();
        }
        if (_loop is not null)
            await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        _announcer.Stop();
        if (_receiver is not null)
            await _receiver.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return State;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
            await StopAsync(graceful: false).ConfigureAwait(false);
        _link.Dispose();
        _stopping.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var packet = await _link.ReceiveAsync(token).ConfigureAwait(false);
                // Our own multicast adverts loop back on some setups; they are not news.
                if (packet.Source.Equals(_link.SourceAddress))
                    continue;
                Interlocked.Increment(ref _received);
                Post(now => _machine.Receive(packet.Payload.Span, packet.IpHeader, now));
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogWarning("{Instance}: receive failed: {Error}", Name, e.Message);
                await Task.Delay(100, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task LoopAsync()
    {
        var reader = _inputs.Reader;
        Task<bool>? waiting = null;
        while (true)
        {
            var now = _clock.GetUtcNow();
            if (_machine.NextDeadline is { } deadline && deadline <= now)
            {
                await ExecuteAsync(_machine.OnTimer(now)).ConfigureAwait(false);
                continue;
            }
            if (reader.TryRead(out var input))
            {
                await ExecuteAsync(input(now)).ConfigureAwait(false);
                continue;
            }
            // One pending wait is kept across timer wake-ups, so waits never pile up on a quiet channel.
            waiting ??= reader.WaitToReadAsync().AsTask();
            if (_machine.NextDeadline is { } next)
            {
                var delay = next - now;
                if (await Task.WhenAny(waiting, Task.Delay(delay, _clock)).ConfigureAwait(false) != waiting)
                    continue;
            }
            else
            {
                await waiting.ConfigureAwait(false);
            }
            if (!await waiting.ConfigureAwait(false))
                return; // completed: stopped
            waiting = null;
        }
    }

    private async Task ExecuteAsync(VrrpDecision decision)
    {
        if (decision.RejectReason is { } reason)
        {
            _logger.LogDebug("{Instance}: advert rejected: {Reason}", Name, reason);
            return;
        }
        if (decision.Actions.Count == 0)
            return;
        var transition = decision.Actions.OfType<StateTransition>().FirstOrDefault();
        var cause = transition is null ? (Guid?)null : Guid.CreateVersion7();
        foreach (var action in decision.Actions)
        {
            try
            {
                await CarryOutAsync(action, cause).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One failed step (e.g. netlink refusing an address) must not stop the protocol.
                _logger.LogError("{Instance}: {Action} failed: {Error}", Name, action.GetType().Name, e.Message);
            }
        }
    }

    private async Task CarryOutAsync(VrrpAction action, Guid? cause)
    {
        switch (action)
        {
            case SendAdvertisement send:
                await _link.SendAsync(send.Advertisement, CancellationToken.None).ConfigureAwait(false);
                Interlocked.Increment(ref _sent);
                break;
            case AcquireVirtualAddresses:
                foreach (var address in _definition.OwnedAddresses)
                {
                    if (await _link.AddAddressAsync(address, CancellationToken.None).ConfigureAwait(false))
                        _events.Post(new VipAcquired
                        {
                            Instance = Name, VirtualRouterId = _definition.VirtualRouterId, Address = address.ToString(),
                            Interface = address.Interface, Label = address.Label, CorrelationId = cause ?? default, CausationId = cause,
                        });
                }
                break;
            case ReleaseVirtualAddresses release:
                _announcer.Stop();
                await ReleaseAddressesAsync(_definition.OwnedAddresses, release.Reason.ToString(), cause).ConfigureAwait(false);
                break;
            case SendGratuitousArps arps:
                _announcer.Announce(arps.Reason, cause);
                break;
            case StateTransition t:
                State = t.To;
                if (t.To != VrrpState.Master)
                    _announcer.Stop();
                _logger.LogInformation("{Instance}: {From} -> {To} ({Reason}; priority {Priority}, last advert from {LastFrom} prio {LastPriority}, missed {Missed})",
                    Name, t.From, t.To, t.Reason, t.EffectivePriority, t.Evidence.LastAdvertFrom ?? "none", t.Evidence.LastAdvertPriority, t.Evidence.MissedAdverts);
                _events.Post(new VrrpStateChanged
                {
                    EventId = cause ?? Guid.CreateVersion7(), Instance = Name, VirtualRouterId = _definition.VirtualRouterId,
                    From = t.From, To = t.To, Reason = t.Reason, Priority = t.Priority, EffectivePriority = t.EffectivePriority, Evidence = t.Evidence,
                });
                if (t.From == VrrpState.Initialize && t.To == VrrpState.Backup)
                {
                    // A backup must not hold the VIPs: a previous run killed with -9 may have left them.
                    await ReleaseAddressesAsync(_definition.OwnedAddresses, "startup as backup: left over from a previous run", cause).ConfigureAwait(false);
                }
                _notify.OnStateChanged(_definition.Notify, "INSTANCE", Name, t.To, t.EffectivePriority, _namespace);
                StateChanged?.Invoke(this, t);
                break;
            case EffectivePriorityChange p:
                _logger.LogInformation("{Instance}: priority {Old} -> {New} ({Cause})", Name, p.OldPriority, p.NewPriority, p.Cause);
                _events.Post(new VrrpPriorityChanged
                {
                    Instance = Name, VirtualRouterId = _definition.VirtualRouterId, OldPriority = p.OldPriority, NewPriority = p.NewPriority, Cause = p.Cause,
                });
                break;
            case SplitBrainSuspicion s:
                _logger.LogWarning("{Instance}: split brain suspected: {Peer} (priority {PeerPriority}) is master too, {Intervals} adverts seen",
                    Name, s.PeerAddress, s.PeerPriority, s.IntervalsObserved);
                _events.Post(new SplitBrainSuspected
                {
                    Instance = Name, VirtualRouterId = _definition.VirtualRouterId, PeerAddress = s.PeerAddress.ToString(),
                    PeerPriority = s.PeerPriority, LocalPriority = s.LocalPriority, IntervalsObserved = s.IntervalsObserved,
                });
                break;
            case SplitBrainEnded e:
                _logger.LogInformation("{Instance}: split brain with {Peer} ended after {Intervals} adverts ({Outcome})",
                    Name, e.PeerAddress, e.IntervalsObserved, e.StillMaster ? "we stay master" : "we yielded");
                break;
        }
    }

    private async Task ReleaseAddressesAsync(IEnumerable<VirtualAddress> addresses, string reason, Guid? cause)
    {
        foreach (var address in addresses)
        {
            if (await _link.RemoveAddressAsync(address, CancellationToken.None).ConfigureAwait(false))
                _events.Post(new VipReleased
                {
                    Instance = Name, VirtualRouterId = _definition.VirtualRouterId, Address = address.ToString(), Interface = address.Interface,
                    Reason = reason, CorrelationId = cause ?? default, CausationId = cause,
                });
        }
    }

    /// <summary>Removes VIPs a reload took out of this instance (whatever its state, they are no longer ours).</summary>
    public Task ReleaseDroppedAsync(IReadOnlyList<VirtualAddress> dropped)
        => ReleaseAddressesAsync(dropped, "removed from the configuration", null);
}
