#!/usr/bin/env bash
# The main job: installs what is missing, starts RabbitMQ, PostgreSQL and InfluxDB on 127.0.0.1,
# builds, starts the four services (vrrp, health, ipvs-writer, monitor) of one director and shows the
# events they emit arriving in the event store, until Ctrl-C. `./run.sh --once` shows them once and exits.
# (The full two-director lab with real servers in network namespaces replaces this as it lands.)
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
node=director-1
mkdir -p "$lab/logs"
pids=()
cleanup() {
    trap - EXIT INT TERM
    if ((${#pids[@]})); then
        echo "stopping the services"
        kill -TERM "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for service in monitor vrrp health ipvs-writer; do
    project=$(case $service in monitor) echo services/monitor/LvsEvents.Monitor;; vrrp) echo services/vrrp/LvsEvents.Vrrp;;
              health) echo services/health/LvsEvents.Health;; ipvs-writer) echo services/ipvs-writer/LvsEvents.IpvsWriter;; esac)
    dll="$(dirname "$project")/bin/Release/net10.0/lvs-$service.dll"
    config=()
    [[ $service != monitor ]] && config=(--config "$PWD/scripts/lab/keepalived.conf")
    dotnet "$dll" "${config[@]}" --Eventing:NodeId="$node" --Eventing:SpoolDirectory="$PWD/$lab/spool" \
        --Eventing:RunDirectory="$PWD/$lab/run" >"$lab/logs/$service.log" 2>&1 &
    pids+=($!)
    echo "started lvs-$service (pid $!, log $lab/logs/$service.log)"
done

lvsctl() { dotnet cli/lvsctl/bin/Release/net10.0/lvsctl.dll "$@"; }
echo "waiting for the services' events to reach the event store ..."
for _ in $(seq 1 60); do
    count=$(lvsctl events --since "$started" --limit 1000 2>/dev/null | grep -c "^.*  $node/" || true)
    ((count >= 7)) && break
    sleep 1
done
lvsctl events --since "$started" --limit 1000 | grep "  $node/" | cut -c1-200 || { echo "run.sh: no events from $node reached the store; see $lab/logs/" >&2; exit 1; }
echo "events flow: service -> spool -> RabbitMQ -> monitor -> PostgreSQL (Marten) and InfluxDB"
$once && exit 0

echo "watching new events (Ctrl-C stops the services) ..."
last=$started
while true; do
    sleep 2
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    lvsctl events --since "$last" --limit 1000 2>/dev/null | grep "  $node/" | cut -c1-200 || true
    last=$now
done
