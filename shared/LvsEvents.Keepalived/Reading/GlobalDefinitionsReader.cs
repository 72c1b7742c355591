using LvsEvents.Keepalived.Model;
using LvsEvents.Keepalived.Syntax;

namespace LvsEvents.Keepalived.Reading;

/// <summary>Reads a global_defs block.</summary>
internal sealed class GlobalDefinitionsReader(StatementValues values)
{
    /// <summary>global_defs keywords keepalived 2.2 documents that are kept as pass-through settings.</summary>
    private static readonly HashSet<string> Documented = new(StringComparer.Ordinal)
    {
        "bfd_cpu_affinity", "bfd_no_swap", "bfd_priority", "bfd_process_name", "bfd_rlimit_rttime", "bfd_rt_priority",
        "checker_cpu_affinity", "checker_log_all_failures", "checker_no_swap", "checker_priority", "checker_process_name",
        "checker_rlimit_rttime", "checker_rt_priority", "config_save_dir", "data_use_instance", "dbus_service_name",
        "disable_local_igmp", "dynamic_interfaces", "enable_dbus", "enable_snmp_checker", "enable_snmp_rfc",
        "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_snmp_vrrp", "enable_traps", "fifo_write_vrrp_states_on_reload",
        "include_check", "log_unknown_vrids", "lvs_flush_on_stop", "lvs_netlink_cmd_rcv_bufs",
        "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs", "lvs_netlink_monitor_rcv_bufs_force",
        "lvs_notify_fifo", "lvs_notify_fifo_script", "lvs_sync_daemon", "lvs_timeouts", "max_auto_priority",
        "min_auto_priority_delay", "nftables", "nftables_counters", "nftables_ifindex", "nftables_ipvs",
        "nftables_ipvs_priority", "nftables_ipvs_start_fwmark", "nftables_priority", "no_checker_emails",
        "no_email_faults", "notify_fifo", "notify_fifo_script", "process_monitor_rcv_bufs",
        "process_monitor_rcv_bufs_force", "process_name", "process_names", "random_seed", "reload_check_config",
        "reload_file", "reload_repeat", "reload_time_file", "rs_init_notifies", "shutdown_script",
        "shutdown_script_timeout", "snmp_socket", "startup_script", "startup_script_timeout", "tmp_config_directory",
        "umask", "vmac_addr_prefix", "vmac_prefix", "vrrp_check_unicast_src", "vrrp_cpu_affinity",
        "vrrp_down_timer_adverts", "vrrp_garp_extra_if", "vrrp_higher_prio_send_advert", "vrrp_ipsets", "vrrp_iptables",
        "vrrp_lower_prio_no_advert", "vrrp_min_garp", "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force",
        "vrrp_netlink_monitor_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs_force", "vrrp_no_swap", "vrrp_notify_fifo",
        "vrrp_notify_fifo_script", "vrrp_notify_priority_changes", "vrrp_priority", "vrrp_process_name",
        "vrrp_rlimit_rttime", "vrrp_rt_priority", "vrrp_rx_bufs_multiplier", "vrrp_rx_bufs_policy",
        "vrrp_skip_check_adv_addr", "vrrp_startup_delay", "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets",
        "instance", "use_pid_dir", "linkbeat_use_polling", "child_wait_time", "checker_log_all_failures",
    };

    public GlobalDefinitions Read(ConfigurationNode node, GlobalDefinitions current)
    {
        var result = current with { Location = current.Location ?? node.Location };
        var explicitLowerPrioDelay = false;
        var explicitLowerPrioRepeat = false;
        var other = new List<PassThroughSetting>(current.OtherSettings);
        foreach (var item in node.Block ?? [])
        {
            switch (item.Keyword)
            {
                case "router_id":
                    values.ExtraArguments(item, 1);
                    result = result with { RouterId = values.String(item) };
                    break;
                case "notification_email":
                    values.ExpectBlock(item);
                    result = result with
                    {
                        NotificationEmails = result.NotificationEmails
                            .Concat((item.Block ?? []).SelectMany(n => n.Words).Select(t => t.Text)).ToList(),
                    };
                    break;
                case "notification_email_from":
                    values.ExtraArguments(item, 1);
                    result = result with { NotificationEmailFrom = values.String(item) };
                    break;
                case "smtp_server":
                    var server = values.Argument(item);
                    if (server is null)
                    {
                        break;
                    }

                    result = result with { SmtpServer = server.Text };
                    if (item.Arguments.Count > 1 && values.Port(item.Arguments[1], "smtp_server port") is { } port)
                    {
                        result = result with { SmtpServerPort = port };
                    }

                    break;
                case "smtp_helo_name":
                    values.ExtraArguments(item, 1);
                    result = result with { SmtpHeloName = values.String(item) };
                    break;
                case "smtp_connect_timeout":
                    result = result with { SmtpConnectTimeout = values.Integer(item, 1, 3600) ?? result.SmtpConnectTimeout };
                    break;
                case "smtp_alert":
                    result = result with { SmtpAlert = values.Boolean(item) };
                    break;
                case "smtp_alert_vrrp":
                    result = result with { SmtpAlertVrrp = values.Boolean(item) };
                    break;
                case "smtp_alert_checker":
                    result = result with { SmtpAlertChecker = values.Boolean(item) };
                    break;
                case "enable_script_security":
                    result = result with { EnableScriptSecurity = true };
                    break;
                case "script_user":
                    result = result with
                    {
                        ScriptUser = values.String(item),
                        ScriptGroup = item.Arguments.Count > 1 ? item.Arguments[1].Text : null,
                    };
                    break;
                case "default_interface":
                    result = result with { DefaultInterface = values.String(item) };
                    break;
                case "vrrp_version":
                    result = result with { VrrpVersion = values.Integer(item, 2, 3) ?? result.VrrpVersion };
                    break;
                case "vrrp_strict":
                    result = result with { VrrpStrict = true };
                    break;
                case "vrrp_mcast_group4":
                    result = result with { VrrpMcastGroup4 = values.IpAddress(item) ?? result.VrrpMcastGroup4 };
                    break;
                case "vrrp_mcast_group6":
                    result = result with { VrrpMcastGroup6 = values.IpAddress(item) ?? result.VrrpMcastGroup6 };
                    break;
                case "vrrp_garp_master_delay":
                    result = result with { VrrpGarpMasterDelay = values.Integer(item, 0, 86400) ?? result.VrrpGarpMasterDelay };
                    break;
                case "vrrp_garp_master_repeat":
                    result = result with { VrrpGarpMasterRepeat = values.Integer(item, 0, int.MaxValue) ?? result.VrrpGarpMasterRepeat };
                    break;
                case "vrrp_garp_master_refresh":
                    result = result with { VrrpGarpMasterRefresh = values.Integer(item, 0, 86400) ?? result.VrrpGarpMasterRefresh };
                    break;
                case "vrrp_garp_master_refresh_repeat":
                    result = result with { VrrpGarpMasterRefreshRepeat = values.Integer(item, 0, int.MaxValue) ?? result.VrrpGarpMasterRefreshRepeat };
                    break;
                case "vrrp_garp_lower_prio_delay":
                    explicitLowerPrioDelay = true;
                    result = result with { VrrpGarpLowerPrioDelay = values.Integer(item, 0, 86400) ?? result.VrrpGarpLowerPrioDelay };
                    break;
                case "vrrp_garp_lower_prio_repeat":
                    explicitLowerPrioRepeat = true;
                    result = result with { VrrpGarpLowerPrioRepeat = values.Integer(item, 0, int.MaxValue) ?? result.VrrpGarpLowerPrioRepeat };
                    break;
                case "vrrp_garp_interval":
                    result = result with { VrrpGarpInterval = values.Seconds(item, 0, 1) ?? result.VrrpGarpInterval };
                    break;
                case "vrrp_gna_interval":
                    result = result with { VrrpGnaInterval = values.Seconds(item, 0, 1) ?? result.VrrpGnaInterval };
                    break;
                case "lvs_flush":
                    result = result with { LvsFlush = true };
                    break;
                default:
                    if (!Documented.Contains(item.Keyword))
                    {
                        values.UnknownKeyword(item, "global_defs");
                    }

                    other.Add(StatementValues.PassThrough(item));
                    break;
            }
        }

        // The lower-priority GARP settings default to the master ones.
        if (!explicitLowerPrioDelay)
        {
            result = result with { VrrpGarpLowerPrioDelay = result.VrrpGarpMasterDelay };
        }

        if (!explicitLowerPrioRepeat)
        {
            result = result with { VrrpGarpLowerPrioRepeat = result.VrrpGarpMasterRepeat };
        }

        return result with { OtherSettings = other };
    }
}
