using LvsEvents.Contracts;
using LvsEvents.Netlink;
using LvsEvents.Vrrp.Definitions;
using LvsEvents.Vrrp.Protocol;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Vrrp.Speaking;

/// <summary>
/// keepalived's gratuitous ARP timing for a master: a burst of <c>garp_master_repeat</c> per VIP at once, another
/// after <c>garp_master_delay</c>, and <c>garp_master_refresh_repeat</c> every <c>garp_master_refresh</c> while
/// master. Also the burst after another master went away (keepalived #166 leaves the LAN's caches stale there).
/// </summary>
public sealed class GratuitousArpAnnouncer(VrrpInstanceDefinition definition, IVrrpInstanceLink link, VrrpEventWriter events, ILogger logger)
{
    private CancellationTokenSource? _schedule;

    public void Announce(GratuitousArpReason reason, Guid? cause)
    {
        if (reason == GratuitousArpReason.OtherMasterGone)
        {
            // Keeps the master's schedule running: this is an extra burst.
            _ = Task.Run(() => BurstAsync(definition.GratuitousArp.Repeat, "split brain healed: the other master went quiet; re-announcing", cause, CancellationToken.None));
            return;
        }
        Stop();
        // The first ARP of the burst goes now, on the protocol thread (one sendto per VIP, microseconds), as keepalived
        // sends it: clients whose cache still points at the old master recover as soon as the VIP is up. The rest of
        // the burst and the later ones go off the loop, so that they never hold up its next advert or input.
        var first = new HashSet<VirtualAddress>();
        if (definition.GratuitousArp.Repeat > 0)
        {
            foreach (var address in definition.OwnedAddresses)
            {
                try
                {
                    link.SendGratuitousArp(address);
                    first.Add(address);
                }
                catch (Exception e)
                {
                    logger.LogWarning("{Instance}: gratuitous ARP for {Address} failed: {Error}", definition.Name, address, e.Message);
                }
            }
        }

        var schedule = _schedule = new CancellationTokenSource();
        var token = schedule.Token;
        _ = Task.Run(() => RunScheduleAsync(cause, first, token));
    }

    public void Stop()
    {
        var schedule = Interlocked.Exchange(ref _schedule, null);
        schedule?.Cancel();
        schedule?.Dispose();
    }

    private async Task RunScheduleAsync(Guid? cause, IReadOnlySet<VirtualAddress> firstSent, CancellationToken token)
    {
        var settings = definition.GratuitousArp;
        try
        {
            await BurstAsync(settings.Repeat, "became master", cause, token, firstSent).ConfigureAwait(false);
            if (settings.Delay > TimeSpan.Zero && settings.Repeat > 0)
            {
                await Task.Delay(settings.Delay, token).ConfigureAwait(false);
                await BurstAsync(settings.Repeat, $"garp_master_delay {settings.Delay.TotalSeconds:0.###} s after becoming master", cause, token).ConfigureAwait(false);
            }
            if (settings.Refresh > TimeSpan.Zero && settings.RefreshRepeat > 0)
            {
                using var timer = new PeriodicTimer(settings.Refresh);
                while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
                    await BurstAsync(settings.RefreshRepeat, null, cause, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <param name="reason">null for a periodic refresh: logged, not an event (it would be one every few seconds).</param>
    /// <param name="alreadySent">addresses whose first ARP of this burst went out already (on the protocol thread).</param>
    private async Task BurstAsync(int count, string? reason, Guid? cause, CancellationToken token, IReadOnlySet<VirtualAddress>? alreadySent = null)
    {
        if (count <= 0)
            return;
        var sent = new List<(string Address, string Interface)>();
        foreach (var address in definition.OwnedAddresses)
        {
            try
            {
                var first = alreadySent?.Contains(address) == true;
                if (first && definition.GratuitousArp.Interval > TimeSpan.Zero)
                    await Task.Delay(definition.GratuitousArp.Interval, token).ConfigureAwait(false);
                await link.SendGratuitousArpsAsync(address, first ? count - 1 : count, definition.GratuitousArp.Interval, token).ConfigureAwait(false);
                sent.Add((address.Address.ToString(), address.Interface));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("{Instance}: gratuitous ARP for {Address} failed: {Error}", definition.Name, address, e.Message);
            }
        }
        if (sent.Count == 0)
            return;
        if (reason is null)
        {
            logger.LogDebug("{Instance}: refreshed gratuitous ARPs for {Addresses}", definition.Name, sent.Select(s => s.Address));
            return;
        }
        foreach (var onInterface in sent.GroupBy(s => s.Interface))
        {
            events.Post(new GratuitousArpSent
            {
                Instance = definition.Name, Addresses = onInterface.Select(s => s.Address).ToList(), Interface = onInterface.Key, Count = count,
                Reason = reason, CorrelationId = cause ?? default, CausationId = cause,
            });
        }
    }
}
