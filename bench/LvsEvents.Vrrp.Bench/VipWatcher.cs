using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using LvsEvents.Netlink;

namespace LvsEvents.Vrrp.Bench;

/// <summary>
/// Watches a node's namespace for the VIP being added, through an rtnetlink subscription (RTNLGRP_IPV4_IFADDR)
/// opened before the crash: the kernel notifies from inside the add, and each notification is stamped (Stopwatch
/// ticks) as soon as this thread reads it, instead of polling an address dump.
/// </summary>
public sealed class VipWatcher : IDisposable
{
    private readonly AddressNotifications _notifications;
    private readonly IPAddress _vip;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<long> _added = new();
    private readonly SemaphoreSlim _addedSignal = new(0);
    private volatile bool _stopped;
    private volatile Exception? _failure;

    public VipWatcher(string ns, IPAddress vip)
    {
        _vip = vip;
        _notifications = NetworkNamespace.Run(ns, AddressNotifications.Open);
        _thread = new Thread(Listen) { IsBackground = true, Name = "vip watcher", Priority = ThreadPriority.Highest };
        _thread.Start();
    }

    /// <summary>Whether the VIP was added at or before <paramref name="timestamp"/> (a false failover, before a crash).</summary>
    public bool AddedBefore(long timestamp) => _added.Any(t => t <= timestamp);

    /// <summary>The first time the VIP was added after <paramref name="timestamp"/>, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<long?> FirstAddedAfterAsync(long timestamp, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (_failure is { } failure)
                throw new InvalidOperationException("the address notifications failed", failure);
            var after = _added.Where(t => t > timestamp).ToList();
            if (after.Count > 0)
                return after.Min();
            var remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0)
                return null;
            await _addedSignal.WaitAsync(TimeSpan.FromSeconds(Math.Min(0.1, (double)remaining / Stopwatch.Frequency)));
        }
    }

    private void Listen()
    {
        MeasuringThreadPriority.Raise();
        while (!_stopped)
        {
            try
            {
                foreach (var n in _notifications.Receive(TimeSpan.FromMilliseconds(100)))
                {
                    if (n.Added && n.Address.Address.Equals(_vip))
                    {
                        _added.Enqueue(n.ReceivedTimestamp);
                        _addedSignal.Release();
                    }
                }
            }
            catch (Exception e)
            {
                if (!_stopped)
                    _failure = e;
                return;
            }
        }
    }

    public void Dispose()
    {
        _stopped = true;
        // The thread polls in 100 ms steps: joined before the socket closes under it.
        _thread.Join(TimeSpan.FromSeconds(2));
        _notifications.Dispose();
        _addedSignal.Dispose();
    }
}
