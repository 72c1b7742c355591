using System.Collections.Concurrent;
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
/// The loop and the receiver are threads of their own, blocking on the socket, a timed wait and netlink: a
/// failover never queues behind other work in the thread pool (a busy director is when failovers happen).
/// </summary>
public sealed partial class VrrpInstanceRunner : IAsyncDisposable
{
    private readonly VrrpInstanceDefinition _definition;
    private readonly IVrrpInstanceLink _link;
    private readonly VrrpEventWriter _events;
    private readonly NotifyScriptRunner _notify;
    private readonly string? _namespace;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    // Replaced only on the loop: a drill's crash and restart, or a restore after a resign Stop.
    private VrrpInstanceStateMachine _machine;
    private readonly ConcurrentQueue<Func<DateTimeOffset, VrrpDecision>> _inputs = new();
    // The loop's only wait: the next deadline (timerfd) or a queued input (eventfd).
    private readonly Transport.DeadlineWaiter _wake = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly GratuitousArpAnnouncer _announcer;
    // The same instances the link prepared its adds for (it finds them by reference).
    private readonly VirtualAddress[] _ownedAddresses;
    private volatile bool _inputsClosed;
    private Thread? _loop;
    private Thread? _receiver;
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
        _ownedAddresses = [.. definition.OwnedAddresses];
        _trackedPriority = definition.Priority;
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
        WarmUp();
        Post(now => _machine.Start(now, resumeAsMaster));
        _loop = new Thread(Loop) { IsBackground = true, Name = $"vrrp {Name}" };
        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = $"vrrp {Name} receive" };
        _loop.Start();
        _receiver.Start();
    }

    /// <summary>Queues an input for the loop; <paramref name="input"/> runs on it with the current time.</summary>
    public void Post(Func<DateTimeOffset, VrrpDecision> input)
    {
        if (_inputsClosed)
            return;
        _inputs.Enqueue(input);
        _wake.Signal();
    }

    /// <summary>
    /// Runs the takeover's code once before it counts (encoding our advert, the netlink request, the events), so
    /// that the first failover does not pay for just-in-time compilation.
    /// </summary>
    private void WarmUp()
    {
        var advert = _machine.BuildAdvertisement(_machine.EffectivePriority);
        _ = advert.Encode(_link.SourceAddress, Transport.VrrpSocket.MulticastGroup);
        var probe = new VrrpInstanceStateMachine(_definition.ToProtocolOptions(_link.SourceAddress) with { InitialState = VrrpState.Master });
        var decision = probe.Start(_clock.GetUtcNow());
        foreach (var address in _definition.OwnedAddresses)
        {
            _ = Netlink.AddressMessage.Encode(Netlink.AddressMessage.RtmNewAddr, 0, 0, address, 1);
            _ = Netlink.GratuitousArp.Build(address.Address, new byte[6]);
        }
        // A backup's takeover is OnTimer at the master-down deadline, a path a backup never runs until it counts.
        var backupProbe = new VrrpInstanceStateMachine(_definition.ToProtocolOptions(_link.SourceAddress) with { InitialState = VrrpState.Backup });
        backupProbe.Start(_clock.GetUtcNow());
        if (backupProbe.NextDeadline is { } due)
            _ = backupProbe.OnTimer(due);
        _ = _link.HasPendingPacket();
        // The takeover's VIP step itself, call for call down to the netlink round trip, against an interface index no
        // interface has: nothing changes and no event is posted (nothing was added).
        using (_link.RehearseAddressAdds())
            _ = AddOwnedAddresses();
        // The loop's look before a due timer, with nothing queued and the machine not started yet: it changes nothing.
        _ = BeforeTheTimer(DateTimeOffset.MinValue, _clock.GetUtcNow());
        (_drainedFor, _graceFor) = (null, null);
        foreach (var t in decision.OfType<StateTransition>())
            _ = Contracts.EventJson.Serialize(new VrrpStateChanged
            {
                Instance = Name, VirtualRouterId = _definition.VirtualRouterId, From = t.From, To = t.To, Reason = t.Reason,
                Priority = t.Priority, EffectivePriority = t.EffectivePriority, Evidence = t.Evidence,
            });
    }

    /// <param name="clearedBy">why a fault ends, when this verdict ends one (interface up, script recovered).</param>
    public void OnTracking(int effectivePriority, VrrpTransitionReason? fault, string cause, VrrpTransitionReason clearedBy)
        => Post(now =>
        {
            (_trackedPriority, _trackedFault) = (effectivePriority, fault);
            // A resignation overrides what tracking says until it is restored.
            if (_resignPriority is { } resigned)
                (effectivePriority, cause) = (resigned, $"resigned ({cause} ignored until restored)");
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
            await done.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        _inputsClosed = true;
        _wake.Signal();
        await _stopping.CancelAsync().ConfigureAwait(false);
        _announcer.Stop();
        await Task.Run(() =>
        {
            _loop?.Join(TimeSpan.FromSeconds(5));
            _receiver?.Join(TimeSpan.FromSeconds(5));
        }).ConfigureAwait(false);
        return State;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
            await StopAsync(graceful: false).ConfigureAwait(false);
        _link.Dispose();
        _stopping.Dispose();
        // Only after the loop is gone (StopAsync joined it), or a loop still waiting would use a closed fd.
        if (_loop is null || !_loop.IsAlive)
            _wake.Dispose();
    }

    /// <summary>The nice value the protocol threads ask for (see <see cref="ProtocolThreadPriority"/>).</summary>
    public int ThreadNice { get; init; }

    private void RaisePriority()
    {
        if (ProtocolThreadPriority.TrySet(ThreadNice) is { } problem)
            _logger.LogWarning("{Instance}: cannot set the protocol thread's nice to {Nice}: {Problem}", Name, ThreadNice, problem);
    }

    private void ReceiveLoop()
    {
        RaisePriority();
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                if (_link.Receive(TimeSpan.FromMilliseconds(200)) is not { } packet)
                    continue;
                // Timed at arrival by the kernel's receive timestamp, not when this thread or the loop got to it:
                // the master-down timer runs from there.
                var arrived = packet.ArrivedAt(_clock.GetUtcNow(), DateTimeOffset.UtcNow);
                // Our own multicast adverts loop back on some setups; they are not news. A partition drill drops the rest.
                if (packet.Source.Equals(_link.SourceAddress) || _deaf)
                    continue;
                Interlocked.Increment(ref _received);
                Post(now => _machine.Receive(packet.Payload.Span, packet.IpHeader, arrived < now ? arrived : now));
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                _logger.LogWarning("{Instance}: receive failed: {Error}", Name, e.Message);
                token.WaitHandle.WaitOne(100);
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    // Compiled optimized at once: the takeover runs through here, and tier-0 code would be on its clock.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Loop()
    {
        RaisePriority();
        while (true)
        {
            var now = _clock.GetUtcNow();
            if (_machine.NextDeadline is { } deadline && deadline <= now)
            {
                if (BeforeTheTimer(deadline, now))
                    continue;
                var woke = System.Diagnostics.Stopwatch.GetTimestamp();
                var decision = _machine.OnTimer(now);
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                Execute(decision);
                if (decision.OfType<StateTransition>().Any())
                    _logger.LogDebug("{Instance}: timer transition {Late:0.000} ms after its deadline, decided in {Decided:0.000} ms, VIPs on {VipsOn:0.000} ms after the decision, carried out in {Took:0.000} ms",
                        Name, (now - deadline).TotalMilliseconds, System.Diagnostics.Stopwatch.GetElapsedTime(woke, started).TotalMilliseconds,
                        _vipsAddedAt > started ? System.Diagnostics.Stopwatch.GetElapsedTime(started, _vipsAddedAt).TotalMilliseconds : double.NaN,
                        System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                continue;
            }
            if (_inputs.TryDequeue(out var input))
            {
                Execute(input(now));
                _command = null;
                continue;
            }
            if (_inputsClosed)
                return;
            // Until the deadline to the nanosecond (a timerfd, as keepalived's scheduler), or until an input is posted.
            // A backup's deadline is the master-down timer, the one a failover waits on: the timerfd wakes the loop
            // MasterDownPreWake before it and the loop spins to it, so the takeover starts at the deadline itself,
            // not a scheduler wake-up after it. The deadline is unchanged. While the master speaks the deadline never
            // comes this close (each advert moves it a whole Master_Down_Interval away), so the spin costs nothing
            // until a takeover is actually due.
            if (_machine.NextDeadline is not { } next)
                _wake.Wait(null);
            else if (_machine.State != VrrpState.Backup)
                _wake.Wait(next - now);
            else if (next - now > MasterDownPreWake)
                _wake.Wait(next - now - MasterDownPreWake);
            else
                SpinUntil(next);
        }
    }

    private static readonly TimeSpan MasterDownPreWake = TimeSpan.FromMilliseconds(0.5);

    /// <summary>Spins until <paramref name="deadline"/>, an input, or the end; yields now and then so that the receive thread can run on one core.</summary>
    private void SpinUntil(DateTimeOffset deadline)
    {
        var spinner = new SpinWait();
        while (_clock.GetUtcNow() < deadline && _inputs.IsEmpty && !_inputsClosed)
            spinner.SpinOnce(sleep1Threshold: -1);
    }

    // When the last VIP add returned (Stopwatch ticks), for the debug account of a takeover's timing.
    private long _vipsAddedAt;

    // The deadline whose expiry already had its inputs drained and its grace for a pending advert: once each.
    private DateTimeOffset? _drainedFor;
    private DateTimeOffset? _graceFor;
    private static readonly TimeSpan PendingAdvertGrace = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Before a due timer fires: what had already happened goes first, as keepalived's scheduler hands a readable
    /// socket its packet before it times the read out. Inputs queued by then are carried out (an advert that arrived
    /// before the master-down deadline must not lose the race to it and cause a false failover), and a backup whose
    /// socket holds a packet the receive thread has not read yet gives it up to <see cref="PendingAdvertGrace"/> to be
    /// read and posted. Once per deadline each, so that a flood of packets cannot hold a takeover back. Returns
    /// whether the loop should look again before firing.
    /// </summary>
    // Compiled optimized at once: the takeover runs through here, and tier-0 code would be on its clock.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private bool BeforeTheTimer(DateTimeOffset deadline, DateTimeOffset now)
    {
        if (_drainedFor != deadline)
        {
            _drainedFor = deadline;
            var drained = false;
            for (var queued = _inputs.Count; queued > 0 && _inputs.TryDequeue(out var input); queued--)
            {
                Execute(input(now));
                _command = null;
                drained = true;
            }
            if (drained)
                return true;
        }
        if (_graceFor != deadline && _machine.State == VrrpState.Backup && _link.HasPendingPacket())
        {
            _graceFor = deadline;
            _drainedFor = null;
            _wake.Wait(PendingAdvertGrace);
            return true;
        }
        return false;
    }

    // Compiled optimized at once: the takeover runs through here, and tier-0 code would be on its clock.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Execute(VrrpDecision decision)
    {
        if (decision.RejectReason is { } reason)
        {
            _logger.LogDebug("{Instance}: advert rejected: {Reason}", Name, reason);
            return;
        }
        if (decision.Actions.Count == 0)
            return;
        // A takeover's VIPs go on before anything else is worked out (event ids, the command's tag): they are what
        // the clients wait for. Their events follow in the action's turn.
        var vipsAdded = decision.Actions[0] is AcquireVirtualAddresses ? AddOwnedAddresses() : null;
        var transition = decision.Actions.OfType<StateTransition>().FirstOrDefault();
        var cause = transition is null ? (Guid?)null : Guid.CreateVersion7();
        // A command's input (resign, drill) ties what it caused to the command; so does the first transition after a resign.
        var command = _command ?? (transition is null ? null : TakeTransitionTag());
        foreach (var action in decision.Actions)
        {
            try
            {
                var began = System.Diagnostics.Stopwatch.GetTimestamp();
                if (action is AcquireVirtualAddresses && vipsAdded is not null)
                {
                    ReportAcquired(vipsAdded, cause, command);
                    vipsAdded = null;
                }
                else
                {
                    CarryOut(action, cause, command);
                }
                var took = System.Diagnostics.Stopwatch.GetElapsedTime(began);
                if (took > TimeSpan.FromMilliseconds(1))
                    _logger.LogDebug("{Instance}: {Action} took {Took:0.000} ms", Name, action.GetType().Name, took.TotalMilliseconds);
            }
            catch (Exception e)
            {
                // One failed step (e.g. netlink refusing an address) must not stop the protocol.
                _logger.LogError("{Instance}: {Action} failed: {Error}", Name, action.GetType().Name, e.Message);
            }
        }
    }

    // Compiled optimized at once: the takeover runs through here, and tier-0 code would be on its clock.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void CarryOut(VrrpAction action, Guid? cause, CommandContext? command)
    {
        switch (action)
        {
            case SendAdvertisement send:
                _link.Send(send.Advertisement);
                Interlocked.Increment(ref _sent);
                break;
            case AcquireVirtualAddresses:
                ReportAcquired(AddOwnedAddresses(), cause, command);
                break;
            case ReleaseVirtualAddresses release:
                _announcer.Stop();
                ReleaseAddresses(_definition.OwnedAddresses, release.Reason.ToString(), cause, command);
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
                    EventId = cause ?? Guid.CreateVersion7(), CorrelationId = command?.CorrelationId ?? default, CausationId = command?.CausationId,
                    Instance = Name, VirtualRouterId = _definition.VirtualRouterId, From = t.From, To = t.To, Reason = t.Reason, Priority = t.Priority, EffectivePriority = t.EffectivePriority, Evidence = t.Evidence,
                });
                if (t.From == VrrpState.Initialize && t.To == VrrpState.Backup)
                {
                    // A backup must not hold the VIPs: a previous run killed with -9 may have left them.
                    ReleaseAddresses(_definition.OwnedAddresses, "startup as backup: left over from a previous run", cause, command);
                }
                _notify.OnStateChanged(_definition.Notify, "INSTANCE", Name, t.To, t.EffectivePriority, _namespace);
                StateChanged?.Invoke(this, t);
                break;
            case EffectivePriorityChange p:
                _logger.LogInformation("{Instance}: priority {Old} -> {New} ({Cause})", Name, p.OldPriority, p.NewPriority, p.Cause);
                _events.Post(new VrrpPriorityChanged
                {
                    Instance = Name, VirtualRouterId = _definition.VirtualRouterId, OldPriority = p.OldPriority, NewPriority = p.NewPriority, Cause = p.Cause,
                    CorrelationId = command?.CorrelationId ?? default, CausationId = command?.CausationId,
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

    /// <summary>Puts every owned VIP on; which ones this added (false: already there, or its add failed and was logged).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private bool[] AddOwnedAddresses()
    {
        var addresses = _ownedAddresses;
        var added = new bool[addresses.Length];
        for (var i = 0; i < addresses.Length; i++)
        {
            try
            {
                added[i] = _link.AddAddress(addresses[i]);
            }
            catch (Exception e)
            {
                // One VIP refused (e.g. its interface is gone) must not keep the others off.
                _logger.LogError("{Instance}: adding {Address} failed: {Error}", Name, addresses[i], e.Message);
            }
        }
        _vipsAddedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        return added;
    }

    private void ReportAcquired(bool[] added, Guid? cause, CommandContext? command)
    {
        var addresses = _ownedAddresses;
        for (var i = 0; i < addresses.Length && i < added.Length; i++)
        {
            if (added[i])
                _events.Post(new VipAcquired
                {
                    Instance = Name, VirtualRouterId = _definition.VirtualRouterId, Address = addresses[i].ToString(),
                    Interface = addresses[i].Interface, Label = addresses[i].Label, CorrelationId = command?.CorrelationId ?? cause ?? default, CausationId = cause ?? command?.CausationId,
                });
        }
    }

    private void ReleaseAddresses(IEnumerable<VirtualAddress> addresses, string reason, Guid? cause, CommandContext? command = null)
    {
        foreach (var address in addresses)
        {
            if (_link.RemoveAddress(address))
                _events.Post(new VipReleased
                {
                    Instance = Name, VirtualRouterId = _definition.VirtualRouterId, Address = address.ToString(), Interface = address.Interface,
                    Reason = reason, CorrelationId = command?.CorrelationId ?? cause ?? default, CausationId = cause ?? command?.CausationId,
                });
        }
    }

    /// <summary>Removes VIPs a reload took out of this instance (whatever its state, they are no longer ours).</summary>
    public Task ReleaseDroppedAsync(IReadOnlyList<VirtualAddress> dropped)
        => Task.Run(() => ReleaseAddresses(dropped, "removed from the configuration", null));
}
