#!/usr/bin/env bash
# The main job, the lab: installs what is missing, starts RabbitMQ, PostgreSQL and InfluxDB on 127.0.0.1,
# builds, builds a network of namespaces (scripts/lab/lab.sh: a client LAN, two directors, three real
# HTTP servers), and runs a director pair on it: lvs-vrrp, lvs-health and lvs-ipvs-writer per director
# (each working inside its director's namespace while it reaches the bus from here) and one lvs-monitor.
# Shows the events reaching the store until Ctrl-C; `./run.sh --once` shows a failover and exits.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
once=false
[[ ${1:-} == --once ]] && once=true

command -v dotnet >/dev/null || { echo "run.sh: the .NET 10 SDK (dotnet) is not on PATH; install it first." >&2; exit 1; }
bash scripts/stack.sh install
bash scripts/stack.sh start
eval "$(bash scripts/stack.sh env)"

echo "build: dotnet build LvsEvents.sln -c Release"
dotnet build LvsEvents.sln -c Release -nologo -v quiet

lab=.lab
rm -rf "$lab/run" "$lab/config"
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
done

lvsctl() { dotnet cli/lvsctl/bin/Release/net10.0/lvsctl.dll "$@"; }
owner() { for i in 1 2; do ip -n lvlab-d$i -4 -o addr show dev eth0 | grep -q 10.77.0.100/ && echo "director-$i"; done; }
echo "waiting for director-1 to own the VIP 10.77.0.100 ..."
for _ in $(seq 1 30); do [[ $(owner) == director-1 ]] && break; sleep 1; done
[[ $(owner) == director-1 ]] || { echo "run.sh: director-1 did not take the VIP; see $lab/logs/" >&2; exit 1; }
echo "VIP owner: $(owner)"
client() { for _ in 1 2 3 4 5 6; do ip netns exec lvlab-client curl -s -m 2 http://10.77.0.100/ || echo "(no answer)"; done | sort | uniq -c | tr '\n' ' '; echo; }
sleep 2
echo "client -> VIP:80 (answers by real server): $(client)"

echo "failover drill: SIGKILL to director-1's lvs-vrrp and its link down (a crashed director) ..."
ip -n lvlab-d1 link set eth0 down
pkill -KILL -f -- "--Vrrp:NetworkNamespace=lvlab-d1" || true
for _ in $(seq 1 20); do [[ $(owner) == *director-2* ]] && break; sleep 0.5; done
echo "VIP owner: $(owner)"
echo "client -> VIP:80 (answers by real server): $(client)"

echo "waiting for the events to reach the event store ..."
sleep 3
lvsctl events --since "$started" --limit 2000 | grep -E "director-[12]/" | cut -c1-200 \
    || { echo "run.sh: no events from the directors reached the store; see $lab/logs/" >&2; exit 1; }
echo "events flow: services -> spool -> RabbitMQ -> monitor -> PostgreSQL (Marten) and InfluxDB"
$once && exit 0

echo "watching new events (Ctrl-C stops the lab) ..."
last=$(date -u +%Y-%m-%dT%H:%M:%SZ)
while true; do
    sleep 2
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    lvsctl events --since "$last" --limit 1000 2>/dev/null | grep -E "director-[12]/" | cut -c1-200 || true
    last=$now
done
