#!/usr/bin/env bash
# The lab's network, in namespaces only (nothing is configured outside them, so no packet leaves):
#   lvlab-lan     two bridges: br0 the client LAN 10.77.0.0/24, br1 the server LAN 10.77.1.0/24
#   lvlab-d1/-d2  the directors: eth0 10.77.0.1/.2 on br0, eth1 10.77.1.1/.2 on br1, forwarding on
#   lvlab-rs1..3  real servers 10.77.1.20-22, an HTTP server on :80 (/ and /health), default route via
#                 10.77.1.254 (the directors' inner VIP, as keepalived's NAT mode wants)
#   lvlab-client  10.77.0.50 on the client LAN, where the VIP 10.77.0.100 is
# Usage: scripts/lab/lab.sh up|down|status. Idempotent; `down` also kills what runs inside.
set -euo pipefail
P=lvlab
NS=($P-lan $P-d1 $P-d2 $P-rs1 $P-rs2 $P-rs3 $P-client)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { printf 'lab.sh: %s\n' "$*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces)"

down() {
    for ns in "${NS[@]}"; do
        if ip netns list | grep -qw "^$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
}

veth() {  # veth NS IFNAME BRIDGE ADDR/PREFIX PORTNAME
    local ns=$1 ifname=$2 bridge=$3 addr=$4 port=$5
    ip -n $P-lan link add "$port" type veth peer name "$ifname" netns "$ns"
    ip -n $P-lan link set "$port" master "$bridge" up
    ip -n "$ns" addr add "$addr" dev "$ifname"
    ip -n "$ns" link set "$ifname" up
}

up() {
    if ip netns list | grep -qw "^$P-lan"; then echo "lab: already up"; return 0; fi
    modprobe nf_conntrack 2>/dev/null || true
    for ns in "${NS[@]}"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
    for br in br0 br1; do
        ip -n $P-lan link add $br type bridge mcast_snooping 0
        ip -n $P-lan link set $br up
    done
    for i in 1 2; do
        veth $P-d$i eth0 br0 10.77.0.$i/24 d${i}o
        veth $P-d$i eth1 br1 10.77.1.$i/24 d${i}i
        ip netns exec $P-d$i sysctl -qw net.ipv4.ip_forward=1
        # Packet and byte counts per connection for the IPVS writer's kernel statistics (conntrack under nftables).
        ip netns exec $P-d$i sysctl -qw net.netfilter.nf_conntrack_acct=1 2>/dev/null || true
    done
    for i in 1 2 3; do
        veth $P-rs$i eth0 br1 10.77.1.$((19 + i))/24 rs$i
        ip -n $P-rs$i route add default via 10.77.1.254
        mkdir -p "/run/$P/rs$i"
        printf 'rs%s\n' "$i" > "/run/$P/rs$i/index.html"
        printf 'ok\n' > "/run/$P/rs$i/health"
        # python3's http.server: a real HTTP server, nothing to install; logs go nowhere.
        ip netns exec $P-rs$i setsid python3 -m http.server 80 --bind 0.0.0.0 --directory "/run/$P/rs$i" >/dev/null 2>&1 < /dev/null &
    done
    veth $P-client eth0 br0 10.77.0.50/24 cl
    echo "lab: up (namespaces ${NS[*]})"
}

status() {
    for ns in "${NS[@]}"; do
        printf '%-13s ' "$ns"
        ip netns list | grep -qw "^$ns" || { echo "absent"; continue; }
        ip -n "$ns" -4 -o addr show scope global | awk '{printf "%s %s  ", $2, $4}'
        echo
    done
}

case ${1:-} in
    up) up ;;
    down) down; echo "lab: down" ;;
    status) status ;;
    *) die "usage: lab.sh up|down|status" ;;
esac
