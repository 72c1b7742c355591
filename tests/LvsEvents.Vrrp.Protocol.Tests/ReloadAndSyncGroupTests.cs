using LvsEvents.Contracts;
using static LvsEvents.Vrrp.Protocol.Tests.Lab;

namespace LvsEvents.Vrrp.Protocol.Tests;

/// <summary>The inputs the speaker adds for reloads (carry on as master) and sync groups (follow a member).</summary>
public class ReloadAndSyncGroupTests
{
    [Fact]
    public void A_reloaded_master_carries_on_as_master_at_once_even_when_configured_backup()
    {
        var m = new VrrpInstanceStateMachine(Options(100));
        var start = m.Start(T0, resumeAsMaster: true);
        start.AssertBecameMaster(VrrpTransitionReason.ConfigurationChanged);
        Assert.Equal(T0 + TimeSpan.FromSeconds(1), m.NextDeadline);
        // And stays a normal instance: a higher priority still takes over.
        var yielded = m.Hear(Peer(20), 150, At(0.5));
        Assert.Equal(VrrpState.Backup, m.State);
        Assert.Contains(yielded.Actions, a => a is ReleaseVirtualAddresses);
    }

    [Fact]
    public void Following_the_group_to_master_and_back()
    {
        var m = Started(Options(100));
        Assert.Equal(VrrpState.Backup, m.State);
        var up = m.FollowSyncGroup(VrrpState.Master, At(1));
        up.AssertBecameMaster(VrrpTransitionReason.SyncGroupMemberChanged);

        var down = m.FollowSyncGroup(VrrpState.Backup, At(2));
        Assert.Equal(VrrpState.Backup, m.State);
        Assert.Equal([typeof(ReleaseVirtualAddresses), typeof(StateTransition)], down.Kinds());
        Assert.Equal(VrrpTransitionReason.SyncGroupMemberChanged, down.Transition().Reason);
        Assert.True(m.FollowSyncGroup(VrrpState.Backup, At(3)).IsEmpty);
    }

    [Fact]
    public void A_faulted_member_does_not_follow_the_group_to_master()
    {
        var m = Started(Options(100));
        m.OnFault(VrrpTransitionReason.ScriptFailed, At(1));
        Assert.True(m.FollowSyncGroup(VrrpState.Master, At(2)).IsEmpty);
        Assert.Equal(VrrpState.Fault, m.State);
    }
}
