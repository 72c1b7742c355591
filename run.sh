#!/usr/bin/env bash
# The main job, the lab: installs what is missing, starts RabbitMQ, PostgreSQL and InfluxDB on 127.0.0.1,
# builds, builds a network of namespaces (scripts/lab/lab.sh: a client LAN, two directors, three real
# HTTP servers), and runs a director pair on it: lvs-vrrp, lvs-health, lvs-ipvs-writer and lvs-recovery per
# director (each working inside its director's namespace while it reaches the bus from here) and one lvs-monitor.
#   ./run.sh         client traffic and a live status (VIP owner, health and weights, requests per server) until Ctrl-C
#   ./run.sh drill   the drills unattended (master killed, a real server down and back), judged from the event
#                    store; exits 0 only when every step met its expectation
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
mode=live
case ${1:-} in
    "") ;;
    drill|--once) mode=drill ;;
    *) echo "usage: ./run.sh [drill]" >&2; exit 2 ;;
esac

command -v dotnet >/dev/null || { echo "run.sh: the .NET 10 SDK (dotnet) is not on PATH; install it first." >&2; exit 1; }
bash scripts/stack.sh install
bash scripts/stack.sh start
eval "$(bash scripts/stack.sh env)"

echo "build: dotnet build LvsEvents.sln -c Release"
dotnet build LvsEvents.sln -c Release -nologo -v quiet

lab=.lab
rm -rf "$lab/run" "$lab/config"
# Each run is a new cluster: recovery's saved state (recent health transitions, ramps, canaries) belongs to the last
# one, and carried over it would count the last drill's outage as flapping. The spools stay (unsent events).
rm -f "$lab"/spool/*/recovery-state.json "$lab"/spool/*/recovery-canary.json
mkdir -p "$lab/logs" "$lab/config"
pids=()
cleanup() {
    trap - EXIT INT TERM
    if ((${#pids[@]})); then
        echo "stopping the services"
        kill -TERM "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
    bash scripts/lab/lab.sh down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/lab/lab.sh down >/dev/null
bash scripts/lab/lab.sh up

# director-1 is the article's master; director-2 the same file as BACKUP at priority 90.
cp scripts/lab/keepalived.conf "$lab/config/director-1.conf"
sed -e 's/router_id director-1/router_id director-2/' -e 's/state MASTER/state BACKUP/' -e 's/priority 100/priority 90/' \
    scripts/lab/keepalived.conf > "$lab/config/director-2.conf"

start() {  # start SERVICE NODE ARGS...
    local service=$1 node=$2; shift 2
    local folder=$service
    local dll="services/$folder/bin/Release/net10.0/lvs-$service.dll"
    dotnet "$dll" "$@" --Eventing:NodeId="$node" --Eventing:SpoolDirectory="$PWD/$lab/spool/$node" \
        --Eventing:RunDirectory="$PWD/$lab/run/$node" >"$lab/logs/$node-$service.log" 2>&1 &
    pids+=($!)
    echo "started lvs-$service for $node (pid $!, log $lab/logs/$node-$service.log)"
}

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start monitor monitor
for i in 1 2; do
    node=director-$i
    config="$PWD/$lab/config/$node.conf"
    start vrrp "$node" --config "$config" --Vrrp:NetworkNamespace=lvlab-d$i
    start ipvs-writer "$node" --config "$config" --IpvsWriter:NetworkNamespace=lvlab-d$i
    start health "$node" --config "$config" --Health:NetworkNamespace=lvlab-d$i
    # Slow start in 5 s steps, so the lab shows a whole ramp in seconds rather than the default 30 s per step.
    start recovery "$node" --config "$config" --Recovery:SlowStart:Interval=00:00:05
done

lvsctl() { dotnet cli/lvsctl/bin/Release/net10.0/lvsctl.dll "$@"; }
owner() { for i in 1 2; do ip -n lvlab-d$i -4 -o addr show dev eth0 | grep -q 10.77.0.100/ && echo "director-$i"; done; }
echo "waiting for director-1 to own the VIP 10.77.0.100 ..."
for _ in $(seq 1 120); do [[ $(owner) == director-1 ]] && break; sleep 1; done
[[ $(owner) == director-1 ]] || { echo "run.sh: director-1 did not take the VIP; see $lab/logs/" >&2; exit 1; }
echo "VIP owner: $(owner)"
sleep 2
if [[ $mode == drill ]]; then
    status=0
    python3 scripts/lab/drill.py --lab "$lab" --lvsctl dotnet cli/lvsctl/bin/Release/net10.0/lvsctl.dll || status=$?
    # The whole report goes to files (the store may also hold other clusters' events); its failovers and the
    # lab's real servers are shown here.
    lvsctl postmortem --from "$started" --html "$lab/postmortem.html" > "$lab/postmortem.txt" 2>/dev/null || true
    echo
    echo "from the incident report (lvsctl postmortem --from $started; all of it in $lab/postmortem.txt and .html):"
    sed -n '/^FAILOVERS/,/^$/p' "$lab/postmortem.txt"
    grep -A1 -E '^  TCP/10\.77\.0\.100:80' "$lab/postmortem.txt" | sed -n '1,12p' || true
    exit $status
fi

echo "client traffic: a new connection to 10.77.0.100:80 every 100 ms (log $lab/logs/client.log)"
ip netns exec lvlab-client python3 scripts/lab/client.py --log "$lab/logs/client.log" --interval 0.1 >/dev/null 2>&1 &
pids+=($!)
echo "live status every 5 s (Ctrl-C stops the lab; lvsctl status shows the same from any director):"
while true; do
    python3 scripts/lab/status.py --client-log "$lab/logs/client.log" --lvsctl dotnet cli/lvsctl/bin/Release/net10.0/lvsctl.dll || true
    sleep 5
done
