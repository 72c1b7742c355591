using System.Buffers.Binary;
using System.Net;
using LvsEvents.Contracts;

namespace LvsEvents.Vrrp.Protocol;

/// <summary>
/// One VRRP instance (RFC 3768 §6.4, RFC 5798 §6.4, plus keepalived's Fault state and choices). Pure: no
/// sockets, no clock. Every input carries <c>now</c>; every output is a <see cref="VrrpDecision"/>, and
/// <see cref="NextDeadline"/> says when to call <see cref="OnTimer"/>. Not thread-safe: feed it from one loop.
/// </summary>
public sealed class VrrpInstanceStateMachine
{
    private readonly VrrpInstanceOptions _options;
    private readonly AdvertisementValidator _validator;
    private readonly VrrpAdvertisement _template;
    private readonly uint _primaryAddress;
    private readonly Dictionary<IPAddress, SplitBrainEpisode> _episodes = [];

    private int _basePriority;
    private int _effectivePriority;
    private TimeSpan _masterAdvertisementInterval;
    private DateTimeOffset? _deadline;

    // Evidence for the next transition: what was last seen, and since when nothing acceptable arrived.
    private (IPAddress From, int Priority, DateTimeOffset At)? _lastSeen;
    private DateTimeOffset _silentSince;
    private DateTimeOffset _backupSince;
    private bool _priorityZeroPending;
    private bool _discardingLowerPriority;
    private DateTimeOffset? _preemptAllowedAt;

    public VrrpInstanceStateMachine(VrrpInstanceOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException($"VRRP instance {options.Name}: {string.Join("; ", errors)}", nameof(options));
        (_options, Warnings) = options.Normalize();
        _validator = new AdvertisementValidator(_options.ToExpectations());
        _basePriority = _effectivePriority = _options.Priority;
        _masterAdvertisementInterval = _options.AdvertisementInterval;
        _primaryAddress = ToUInt32(_options.PrimaryAddress);
        _template = _options.Version == VrrpVersion.V2
            ? VrrpAdvertisement.CreateV2(_options.VirtualRouterId, 0, (byte)_options.AdvertisementInterval.TotalSeconds,
                _options.VirtualAddresses, _options.AuthenticationType, _options.AuthenticationPassword)
            : VrrpAdvertisement.CreateV3(_options.VirtualRouterId, 0,
                (ushort)(_options.AdvertisementInterval.Ticks / (TimeSpan.TicksPerMillisecond * 10)), _options.VirtualAddresses);
    }

    /// <summary>The options after keepalived's fix-ups.</summary>
    public VrrpInstanceOptions Options => _options;

    /// <summary>What keepalived would log about contradictory settings it fixed up.</summary>
    public IReadOnlyList<string> Warnings { get; }

    public VrrpState State { get; private set; } = VrrpState.Initialize;
    public int Priority => _basePriority;
    public int EffectivePriority => _effectivePriority;

    /// <summary>v2: our interval; v3: learnt from the master's adverts while backup (RFC 5798 §6.4.2).</summary>
    public TimeSpan MasterAdvertisementInterval => _masterAdvertisementInterval;

    public TimeSpan SkewTime => VrrpTimers.SkewTime(_options.Version, _effectivePriority, _masterAdvertisementInterval);

    public TimeSpan MasterDownInterval => VrrpTimers.MasterDownInterval(
        _options.Version, _effectivePriority, _masterAdvertisementInterval, _options.DownTimerAdverts);

    /// <summary>When <see cref="OnTimer"/> must run next: the master-down timer in Backup, the advert timer in Master.</summary>
    public DateTimeOffset? NextDeadline => _deadline;

    public RejectionCounters Counters { get; } = new();

    /// <summary>Our advert at a given priority, ready to encode.</summary>
    public VrrpAdvertisement BuildAdvertisement(int priority) => _template with { Priority = (byte)priority };

    /// <param name="resumeAsMaster">
    /// A reload replaced this instance's settings while it was master: carry on as master (the VIPs stay where
    /// they are) instead of starting over as backup, so a reload moves no VIP that need not move.
    /// </param>
    public VrrpDecision Start(DateTimeOffset now, bool resumeAsMaster = false)
    {
        if (State != VrrpState.Initialize)
            return VrrpDecision.None;
        var actions = new List<VrrpAction>();
        // keepalived: `state MASTER` (and any address owner) starts as master at once; otherwise BACKUP and
        // wait a whole Master_Down_Interval for a master to speak.
        if (resumeAsMaster)
            BecomeMaster(actions, now, VrrpTransitionReason.ConfigurationChanged, Evidence(0));
        else if (_options.InitialState == VrrpState.Master)
            BecomeMaster(actions, now, VrrpTransitionReason.Startup, Evidence(0));
        else
            EnterBackup(actions, now, VrrpTransitionReason.Startup);
        return new VrrpDecision(actions);
    }

    /// <summary>
    /// A member of this instance's <c>vrrp_sync_group</c> became master or backup: follow it (keepalived moves
    /// the whole group together). Fault is <see cref="OnFault"/>'s business.
    /// </summary>
    public VrrpDecision FollowSyncGroup(VrrpState target, DateTimeOffset now)
    {
        var actions = new List<VrrpAction>();
        if (target == VrrpState.Master && State == VrrpState.Backup)
        {
            BecomeMaster(actions, now, VrrpTransitionReason.SyncGroupMemberChanged, Evidence(0));
        }
        else if (target == VrrpState.Backup && State == VrrpState.Master)
        {
            EndAllEpisodes(actions, stillMaster: false);
            actions.Add(new ReleaseVirtualAddresses(VrrpTransitionReason.SyncGroupMemberChanged));
            EnterBackup(actions, now, VrrpTransitionReason.SyncGroupMemberChanged);
        }
        return new VrrpDecision(actions);
    }

    /// <summary>The receive path: validate, count, and (only if accepted) act. Never throws on packet content.</summary>
    public VrrpDecision Receive(ReadOnlySpan<byte> payload, ReceivedIpHeader ip, DateTimeOffset now)
    {
        var validation = _validator.Validate(payload, ip);
        Counters.Record(validation);
        if (validation.RejectReason is { } reason)
            return VrrpDecision.Rejected(reason);
        return OnAdvertisement(validation.Advertisement!, ip.Source, now) with { Observations = validation.Observations };
    }

    /// <summary>An advert that already passed <see cref="AdvertisementValidator"/>; use <see cref="Receive"/> for raw packets.</summary>
    public VrrpDecision OnAdvertisement(VrrpAdvertisement advert, IPAddress source, DateTimeOffset now)
    {
        if (State is not (VrrpState.Backup or VrrpState.Master))
            return VrrpDecision.None;
        _lastSeen = (source, advert.Priority, now);
        return State == VrrpState.Backup ? BackupReceived(advert, now) : MasterReceived(advert, source, now);
    }

    // Optimized at once (not tier 0): a backup's takeover runs through here, on the failover's clock.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public VrrpDecision OnTimer(DateTimeOffset now)
    {
        if (_deadline is not { } deadline || now < deadline)
            return VrrpDecision.None;
        var actions = new List<VrrpAction>();
        if (State == VrrpState.Backup)
        {
            var reason = _priorityZeroPending ? VrrpTransitionReason.PriorityZeroReceived
                : _discardingLowerPriority ? VrrpTransitionReason.Preempted
                : VrrpTransitionReason.MasterDownTimerExpired;
            var missed = _priorityZeroPending ? 0 : (int)((now - _silentSince).Ticks / _masterAdvertisementInterval.Ticks);
            BecomeMaster(actions, now, reason, Evidence(missed));
        }
        else if (State == VrrpState.Master)
        {
            actions.Add(new SendAdvertisement(BuildAdvertisement(_effectivePriority)));
            _deadline = now + _options.AdvertisementInterval;
            EndQuietEpisodes(actions, now);
        }
        return new VrrpDecision(actions);
    }

    /// <summary>
    /// Tracking moved the priority we advertise. keepalived keeps it within 1–254 (255 only for the owner's
    /// own base priority); going to FAULT is <see cref="OnFault"/>'s business.
    /// </summary>
    public VrrpDecision OnPriorityChanged(int effectivePriority, DateTimeOffset now, string cause = "tracking")
    {
        var priority = effectivePriority >= VrrpInstanceOptions.OwnerPriority && _basePriority == VrrpInstanceOptions.OwnerPriority
            ? VrrpInstanceOptions.OwnerPriority
            : Math.Clamp(effectivePriority, 1, VrrpInstanceOptions.OwnerPriority - 1);
        if (priority == _effectivePriority || State == VrrpState.Stopped)
            return VrrpDecision.None;
        var actions = new List<VrrpAction> { new EffectivePriorityChange(_effectivePriority, priority, cause) };
        _effectivePriority = priority;
        // Tell the backups at once: a lower master priority lets a preempting backup stop resetting its timer
        // one interval sooner; the advert timer keeps its phase.
        if (State == VrrpState.Master)
            actions.Insert(0, new SendAdvertisement(BuildAdvertisement(priority)));
        return new VrrpDecision(actions);
    }

    /// <summary>A tracked script or interface failed (the caller aggregates several into one fault).</summary>
    public VrrpDecision OnFault(VrrpTransitionReason reason, DateTimeOffset now)
    {
        if (State is VrrpState.Fault or VrrpState.Stopped)
            return VrrpDecision.None;
        var actions = new List<VrrpAction>();
        var from = State;
        // keepalived leaves master with a priority 0 advert so a backup takes over after Skew_Time, not 3 intervals.
        if (from == VrrpState.Master)
        {
            actions.Add(new SendAdvertisement(BuildAdvertisement(0)));
            actions.Add(new ReleaseVirtualAddresses(reason));
        }
        EndAllEpisodes(actions, stillMaster: false);
        State = VrrpState.Fault;
        _deadline = null;
        actions.Add(Transition(from, VrrpState.Fault, reason, Evidence(0)));
        return new VrrpDecision(actions);
    }

    /// <summary>
    /// All tracked failures cleared. keepalived (try_up_instance): the address owner goes back to master, anyone
    /// else to BACKUP with the configured interval and a full Master_Down_Interval.
    /// </summary>
    public VrrpDecision OnFaultCleared(VrrpTransitionReason reason, DateTimeOffset now)
    {
        if (State != VrrpState.Fault)
            return VrrpDecision.None;
        var actions = new List<VrrpAction>();
        _masterAdvertisementInterval = _options.AdvertisementInterval;
        if (_basePriority == VrrpInstanceOptions.OwnerPriority)
            BecomeMaster(actions, now, reason, Evidence(0));
        else
            EnterBackup(actions, now, reason);
        return new VrrpDecision(actions);
    }

    /// <summary>RFC 3768 §6.4.3: a master leaving sends priority 0 so a backup takes over after Skew_Time.</summary>
    public VrrpDecision Shutdown(DateTimeOffset now)
    {
        if (State == VrrpState.Stopped)
            return VrrpDecision.None;
        var actions = new List<VrrpAction>();
        var from = State;
        if (from == VrrpState.Master)
        {
            actions.Add(new SendAdvertisement(BuildAdvertisement(0)));
            actions.Add(new ReleaseVirtualAddresses(VrrpTransitionReason.Shutdown));
        }
        EndAllEpisodes(actions, stillMaster: false);
        State = VrrpState.Stopped;
        _deadline = null;
        actions.Add(Transition(from, VrrpState.Stopped, VrrpTransitionReason.Shutdown, Evidence(0)));
        return new VrrpDecision(actions);
    }

    private VrrpDecision BackupReceived(VrrpAdvertisement advert, DateTimeOffset now)
    {
        // Adverts are timed at their arrival (the kernel's receive timestamp), and one that waited in the socket from
        // before this backup period began (queued while the instance was starting) must not date the master-down
        // timer before it: it counts as arriving when the period began, which is where the timer started anyway.
        if (now < _backupSince)
            now = _backupSince;
        if (advert.Priority == 0)
        {
            // The master is leaving: take over after Skew_Time, so the highest-priority backup wins the race.
            _deadline = now + SkewTime;
            _priorityZeroPending = true;
            return VrrpDecision.None;
        }
        var preemptDelayed = _options.PreemptDelay > TimeSpan.Zero && (_preemptAllowedAt is null || _preemptAllowedAt > now);
        if (_options.Nopreempt || advert.Priority >= _effectivePriority || preemptDelayed)
        {
            if (_options.Version == VrrpVersion.V3)
                _masterAdvertisementInterval = advert.AdvertisementInterval;
            _deadline = now + MasterDownInterval;
            _silentSince = now;
            _priorityZeroPending = false;
            _discardingLowerPriority = false;
            // keepalived's preempt_delay: the first lower-priority master seen starts the delay; a master at
            // least as good as us cancels it.
            if (_options.PreemptDelay > TimeSpan.Zero)
            {
                if (advert.Priority >= _effectivePriority)
                    _preemptAllowedAt = null;
                else
                    _preemptAllowedAt ??= now + _options.PreemptDelay;
            }
            return VrrpDecision.None;
        }
        // A lower-priority master and we may preempt: ignore it, so our master-down timer runs out (RFC 3768 §6.4.2).
        _discardingLowerPriority = true;
        return VrrpDecision.None;
    }

    private VrrpDecision MasterReceived(VrrpAdvertisement advert, IPAddress source, DateTimeOffset now)
    {
        var actions = new List<VrrpAction>();
        var comparison = ToUInt32(source).CompareTo(_primaryAddress);
        if (advert.Priority == 0)
        {
            // RFC: answer at once and restart the advert timer, so the backups do not take over.
            actions.Add(new SendAdvertisement(BuildAdvertisement(_effectivePriority)));
            _deadline = now + _options.AdvertisementInterval;
            if (_episodes.Remove(source, out var leaving))
            {
                actions.Add(new SendGratuitousArps(GratuitousArpReason.OtherMasterGone));
                if (leaving.Suspected)
                    actions.Add(new SplitBrainEnded(source, leaving.AdvertsSeen, StillMaster: true));
            }
            return new VrrpDecision(actions);
        }
        if (advert.Priority == _effectivePriority && comparison == 0)
            return VrrpDecision.None; // our own address: a loop or a clone; keepalived only warns.
        if (advert.Priority == _effectivePriority && _effectivePriority == VrrpInstanceOptions.OwnerPriority)
        {
            // Two address owners: keepalived reports the configuration error and steps down to 254.
            actions.Add(new EffectivePriorityChange(_effectivePriority, VrrpInstanceOptions.OwnerPriority - 1, "both address owners"));
            _basePriority = _effectivePriority = VrrpInstanceOptions.OwnerPriority - 1;
        }

        if (advert.Priority < _effectivePriority || (advert.Priority == _effectivePriority && comparison < 0))
        {
            if (_options.AdvertOnLowerPriority)
                actions.Add(new SendAdvertisement(BuildAdvertisement(_effectivePriority)));
            if (!_episodes.TryGetValue(source, out var episode))
                _episodes[source] = episode = new SplitBrainEpisode(source, now);
            episode.AdvertsSeen++;
            episode.LastSeen = now;
            episode.PeerPriority = advert.Priority;
            episode.PeerInterval = advert.AdvertisementInterval;
            if (!episode.Suspected && episode.AdvertsSeen > _options.SplitBrainIntervals)
            {
                episode.Suspected = true;
                actions.Add(new SplitBrainSuspicion(source, advert.Priority, _effectivePriority, episode.AdvertsSeen));
            }
            return new VrrpDecision(actions);
        }

        // Higher priority, or equal priority from a higher address: yield (RFC 3768 §6.4.3).
        if (_options.Version == VrrpVersion.V3)
            _masterAdvertisementInterval = advert.AdvertisementInterval;
        EndAllEpisodes(actions, stillMaster: false);
        actions.Add(new ReleaseVirtualAddresses(VrrpTransitionReason.HigherPriorityAdvertSeen));
        EnterBackup(actions, now, VrrpTransitionReason.HigherPriorityAdvertSeen, keepLearntInterval: true);
        return new VrrpDecision(actions);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void BecomeMaster(List<VrrpAction> actions, DateTimeOffset now, VrrpTransitionReason reason, VrrpEvidence evidence)
    {
        var from = State;
        // The VIPs go on first, as keepalived does (vrrp_state_become_master adds them before its first advert): the
        // RFC's takeover (RFC 3768 / 5798 §6.4.2: advert, gratuitous ARPs, Master) does not order the addresses, and
        // they are what clients wait for. The advert still precedes our gratuitous ARPs, so that a preempted master
        // drops the VIPs before the LAN is told they moved.
        actions.Add(new AcquireVirtualAddresses());
        actions.Add(new SendAdvertisement(BuildAdvertisement(_effectivePriority)));
        actions.Add(new SendGratuitousArps(GratuitousArpReason.BecameMaster));
        State = VrrpState.Master;
        _deadline = now + _options.AdvertisementInterval;
        _episodes.Clear();
        _preemptAllowedAt = null;
        _priorityZeroPending = false;
        _discardingLowerPriority = false;
        actions.Add(Transition(from, VrrpState.Master, reason, evidence));
    }

    private void EnterBackup(List<VrrpAction> actions, DateTimeOffset now, VrrpTransitionReason reason, bool keepLearntInterval = false)
    {
        var previous = State;
        if (!keepLearntInterval)
            _masterAdvertisementInterval = _options.AdvertisementInterval;
        State = VrrpState.Backup;
        _deadline = now + MasterDownInterval;
        _silentSince = now;
        _backupSince = now;
        _priorityZeroPending = false;
        _discardingLowerPriority = false;
        // A fresh backup period starts a fresh preempt_delay (keepalived clears it when leaving FAULT too).
        _preemptAllowedAt = null;
        actions.Add(Transition(previous, VrrpState.Backup, reason, Evidence(0)));
    }

    private void EndQuietEpisodes(List<VrrpAction> actions, DateTimeOffset now)
    {
        // The peer yielded or died once it has been silent for as long as a backup would wait for a master.
        var ended = _episodes.Values
            .Where(e => now - e.LastSeen > TimeSpan.FromTicks(_options.DownTimerAdverts * e.PeerInterval.Ticks))
            .ToList();
        if (ended.Count == 0)
            return;
        actions.Add(new SendGratuitousArps(GratuitousArpReason.OtherMasterGone));
        foreach (var episode in ended)
        {
            _episodes.Remove(episode.Peer);
            if (episode.Suspected)
                actions.Add(new SplitBrainEnded(episode.Peer, episode.AdvertsSeen, StillMaster: true));
        }
    }

    private void EndAllEpisodes(List<VrrpAction> actions, bool stillMaster)
    {
        foreach (var episode in _episodes.Values)
            if (episode.Suspected)
                actions.Add(new SplitBrainEnded(episode.Peer, episode.AdvertsSeen, stillMaster));
        _episodes.Clear();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private StateTransition Transition(VrrpState from, VrrpState to, VrrpTransitionReason reason, VrrpEvidence evidence)
        => new(from, to, reason, _basePriority, _effectivePriority, evidence);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private VrrpEvidence Evidence(int missedAdverts) => new(
        _lastSeen?.From.ToString(),
        _lastSeen?.Priority,
        _lastSeen?.At,
        missedAdverts,
        MasterDownInterval);

    private static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        return address.TryWriteBytes(bytes, out var written) && written == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : 0;
    }
}
