using LvsEvents.Configuration;
using LvsEvents.Eventing;
using LvsEvents.Vrrp;

// lvs-vrrp --config /etc/keepalived/keepalived.conf: the VRRP half of keepalived, with every decision an event.
return await ServiceProgram.RunAsync("vrrp", args, builder => builder.AddKeepalivedConfiguration(args).AddVrrpSpeaker());
