#!/usr/bin/env bash
# LvsEvents local backing stack (RabbitMQ, PostgreSQL 15, InfluxDB 1.x) on
# 127.0.0.1, without systemd and without Docker.
#
#   scripts/stack.sh install          apt-get install what is missing (Debian 12)
#   scripts/stack.sh start            start all three servers (idempotent)
#   scripts/stack.sh stop             stop all three servers (idempotent)
#   scripts/stack.sh status           one line per server, no secrets
#   scripts/stack.sh env              export lines for eval "$(scripts/stack.sh env)"
#   scripts/stack.sh start-rabbitmq   start only the broker, wait for AMQP login
#   scripts/stack.sh stop-rabbitmq    stop only the broker
#
# State (credentials, configs, RabbitMQ and InfluxDB data, logs) lives under
# $LVSEVENTS_STACK_DIR (default /var/lib/lvsevents/stack). PostgreSQL uses
# Debian's cluster 15/main (created if missing).
#
# Optional overrides: LVSEVENTS_INFLUX_PORT (default 8086),
# LVSEVENTS_INFLUX_RPC_PORT (default 8088), LVSEVENTS_START_TIMEOUT (default 60 s),
# LVSEVENTS_RABBITMQ_MANAGEMENT=1 (enable management UI on 127.0.0.1:15672).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${LVSEVENTS_STACK_DIR:-/var/lib/lvsevents/stack}"
CREDS="$STATE/credentials.env"
TIMEOUT="${LVSEVENTS_START_TIMEOUT:-60}"

HOST=127.0.0.1
DBNAME=lvsevents
DBUSER=lvsevents

RMQ_PORT=5672
RMQ_DIST_PORT=25672
RMQ_NODE="lvsevents@localhost"
RMQ_DIR="$STATE/rabbitmq"
RMQ_LOG_DIR="$RMQ_DIR/log"
RMQ_LOG="$RMQ_LOG_DIR/$RMQ_NODE.log"
RMQ_STARTUP_LOG="$RMQ_LOG_DIR/startup.log"
RMQ_PIDFILE="$RMQ_DIR/rabbitmq.pid"
RMQ_BIN=/usr/lib/rabbitmq/bin

PG_VERSION=15
PG_CLUSTER=main
PG_PORT=5432
PG_CONF_DIR="/etc/postgresql/$PG_VERSION/$PG_CLUSTER"
PG_LOG="/var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"

INFLUX_DIR="$STATE/influxdb"
INFLUX_CONF="$INFLUX_DIR/influxdb.conf"
INFLUX_LOG="$INFLUX_DIR/influxd.log"
INFLUX_PIDFILE="$INFLUX_DIR/influxd.pid"
INFLUX_PORTS_FILE="$INFLUX_DIR/ports.env"

PACKAGES=(rabbitmq-server postgresql influxdb influxdb-client nftables keepalived
          iproute2 curl ca-certificates util-linux perl-base procps
          # test peers and servers: HAProxy (health-check benchmark), dnsmasq (DNS_CHECK), openssl (SSL_GET)
          haproxy dnsmasq-base openssl iputils-ping
          # the postmortem report is checked in a headless browser
          chromium
          # the real IPVS kernel under qemu (this machine's kernel has no IPVS)
          qemu-system-x86 linux-image-amd64 busybox-static ipvsadm)

# ---------------------------------------------------------------- helpers
say()  { printf '%s\n' "$*"; }
die()  { printf 'stack.sh: %s\n' "$*" >&2; exit 1; }
need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (it starts servers as their own system users)."; }

# Quote a value for a POSIX shell (single quotes).
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

gen_secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# Effective InfluxDB ports: env override, else what the running/last start used, else defaults.
# "start" ignores the saved ports unless our influxd is still running on them.
load_influx_ports() {
    local saved_http="" saved_rpc=""
    if [[ -r $INFLUX_PORTS_FILE ]]; then
        saved_http=$(sed -n 's/^INFLUX_PORT=//p' "$INFLUX_PORTS_FILE")
        saved_rpc=$(sed -n 's/^INFLUX_RPC_PORT=//p' "$INFLUX_PORTS_FILE")
    fi
    if [[ ${1:-} == start ]] && ! influx_pid >/dev/null; then
        # Not running: a new start uses the override or the default ports.
        saved_http="" saved_rpc=""
    elif [[ ${1:-} == start && -n $saved_http ]]; then
        # Our influxd is running: describe it as it is.
        LVSEVENTS_INFLUX_PORT=$saved_http LVSEVENTS_INFLUX_RPC_PORT=$saved_rpc
    fi
    INFLUX_PORT="${LVSEVENTS_INFLUX_PORT:-${saved_http:-8086}}"
    INFLUX_RPC_PORT="${LVSEVENTS_INFLUX_RPC_PORT:-${saved_rpc:-8088}}"
    [[ $INFLUX_PORT =~ ^[0-9]+$ && $INFLUX_RPC_PORT =~ ^[0-9]+$ ]] \
        || die "LVSEVENTS_INFLUX_PORT / LVSEVENTS_INFLUX_RPC_PORT must be numeric."
    INFLUX_URL="http://$HOST:$INFLUX_PORT"
}

# Load (or generate once) the passwords; mode 600, owner root.
load_creds() {
    mkdir -p "$STATE"
    chmod 755 "$STATE"
    if [[ ! -s $CREDS ]]; then
        ( umask 077
          { printf '# LvsEvents local stack credentials (generated %s)\n' "$(date -u +%FT%TZ)"
            printf 'RABBITMQ_PASSWORD=%s\n' "$(gen_secret)"
            printf 'POSTGRES_PASSWORD=%s\n' "$(gen_secret)"
            printf 'INFLUXDB_PASSWORD=%s\n' "$(gen_secret)"
            printf 'RABBITMQ_ERLANG_COOKIE=%s\n' "$(gen_secret | tr 'a-f' 'A-F')"
          } > "$CREDS.tmp" && mv "$CREDS.tmp" "$CREDS" )
    fi
    chmod 600 "$CREDS"
    RABBITMQ_PASSWORD=$(sed -n 's/^RABBITMQ_PASSWORD=//p' "$CREDS")
    POSTGRES_PASSWORD=$(sed -n 's/^POSTGRES_PASSWORD=//p' "$CREDS")
    INFLUXDB_PASSWORD=$(sed -n 's/^INFLUXDB_PASSWORD=//p' "$CREDS")
    RABBITMQ_ERLANG_COOKIE=$(sed -n 's/^RABBITMQ_ERLANG_COOKIE=//p' "$CREDS")
    [[ -n $RABBITMQ_PASSWORD && -n $POSTGRES_PASSWORD && -n $INFLUXDB_PASSWORD && -n $RABBITMQ_ERLANG_COOKIE ]] \
        || die "credentials file $CREDS is incomplete; delete it (and the stack state) to regenerate."
}

# Serialise start/stop between concurrent invocations (run.sh + test.sh).
take_lock() {
    mkdir -p "$STATE"
    exec 9>"$STATE/.lock"
    flock -w 120 9 || die "another stack.sh (or a process it leaked) holds $STATE/.lock for more than 120 s."
}

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
pid_from() { [[ -r $1 ]] && tr -dc '0-9' < "$1" || true; }

# "pid=123 (name)" of whatever listens on 127.0.0.1:PORT (or any address), empty if free.
port_listener() {
    local port=$1 line
    line=$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n1) || true
    [[ -n $line ]] || return 1
    local who
    who=$(grep -o 'users:((.*))' <<<"$line" | sed -E 's/users:\(\("([^"]*)",pid=([0-9]+).*/pid \2 (\1)/') || true
    printf '%s\n' "${who:-an unknown process}"
}
port_pids() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u; }

# Run as a system user, exec'ing (keeps the pid), with a clean environment.
as_user() {
    local user=$1; shift
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"
}

wait_until() {  # wait_until SECONDS CMD...; polls every 0.25 s
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        (( SECONDS < deadline )) || return 1
        sleep 0.25
    done
}

# ---------------------------------------------------------------- install
cmd_install() {
    need_root
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        say "install: all ${#PACKAGES[@]} packages already present"
        return 0
    fi
    say "install: installing ${missing[*]}"
    # Keep maintainer scripts from starting the servers with their distro
    # defaults (RabbitMQ on 0.0.0.0, ...); we start them ourselves.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; added_policy=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    local log=/var/log/lvsevents-stack-install.log
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; die "apt-get install of ${missing[*]} failed; read $log."; }
    if ((added_policy)); then rm -f "$policy"; trap - EXIT; fi
    say "install: done (log $log)"
}

check_installed() {
    local b
    for b in "$RMQ_BIN/rabbitmq-server" /usr/bin/pg_ctlcluster /usr/bin/influxd /usr/bin/curl /usr/bin/setpriv /usr/bin/flock /usr/bin/ss; do
        [[ -x $b || -x /usr/sbin/${b##*/} || -x /sbin/${b##*/} ]] || die "$b is missing; run 'scripts/stack.sh install' first."
    done
}

# ---------------------------------------------------------------- RabbitMQ
rmq_env_init() {
    RMQ_ENV=(PATH=/usr/lib/rabbitmq/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 LC_ALL=C.UTF-8
        HOME="$RMQ_DIR"
        RABBITMQ_NODENAME="$RMQ_NODE"
        RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"
        RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
        RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
        RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
        RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia"
        RABBITMQ_LOG_BASE="$RMQ_LOG_DIR"
        RABBITMQ_PID_FILE="$RMQ_PIDFILE"
        RABBITMQ_NODE_IP_ADDRESS="$HOST"
        RABBITMQ_NODE_PORT="$RMQ_PORT"
        RABBITMQ_DIST_PORT="$RMQ_DIST_PORT"
        ERL_EPMD_ADDRESS="$HOST"
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}")
    RMQ_GID=$(id -g rabbitmq)
}
# External commands only (no shell function) so fd 9 (the lock) is really closed.
rmqctl() { env -i "${RMQ_ENV[@]}" setpriv --reuid=rabbitmq --regid="$RMQ_GID" --init-groups -- "$RMQ_BIN/rabbitmqctl" -n "$RMQ_NODE" "$@" 9>&-; }

rmq_pid() {
    local pid; pid=$(pid_from "$RMQ_PIDFILE")
    pid_alive "$pid" && [[ $(ps -o user= -p "$pid" 2>/dev/null) == rabbitmq* ]] && printf '%s' "$pid"
}
rmq_listening() { local pid; pid=$(rmq_pid) || return 1; port_pids "$RMQ_PORT" | grep -qx "$pid"; }
amqp_login() {
    AMQP_PASSWORD="$RABBITMQ_PASSWORD" perl "$SCRIPT_DIR/lib/amqp-check.pl" "$HOST" "$RMQ_PORT" "$DBNAME" "$DBUSER"
}

rmq_write_config() {
    install -d -o rabbitmq -g rabbitmq -m 750 "$RMQ_DIR" "$RMQ_DIR/mnesia" "$RMQ_LOG_DIR"
    runuser -u rabbitmq -- test -w "$RMQ_DIR" 2>/dev/null \
        || die "user rabbitmq cannot write $RMQ_DIR (a parent of $STATE is not traversable); choose another LVSEVENTS_STACK_DIR."
    local mgmt=""
    if [[ ${LVSEVENTS_RABBITMQ_MANAGEMENT:-0} == 1 ]]; then
        mgmt=$'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = 15672\n'
        printf '[rabbitmq_management].\n' > "$RMQ_DIR/enabled_plugins"
    else
        printf '[].\n' > "$RMQ_DIR/enabled_plugins"
    fi
    cat > "$RMQ_DIR/rabbitmq.conf" <<EOF
# Generated by scripts/stack.sh - LvsEvents local broker (loopback only).
listeners.tcp.default = $HOST:$RMQ_PORT
loopback_users.guest = true
log.file.level = info
log.console = false
disk_free_limit.absolute = 50MB
${mgmt}
EOF
    : > "$RMQ_DIR/rabbitmq-env.conf"
    printf '%s' "$RABBITMQ_ERLANG_COOKIE" > "$RMQ_DIR/.erlang.cookie"
    chown rabbitmq:rabbitmq "$RMQ_DIR/rabbitmq.conf" "$RMQ_DIR/enabled_plugins" "$RMQ_DIR/rabbitmq-env.conf" "$RMQ_DIR/.erlang.cookie"
    chmod 400 "$RMQ_DIR/.erlang.cookie"
}

rmq_provision() {
    if ! rmqctl -q list_users 2>/dev/null | awk '{print $1}' | grep -qx "$DBUSER"; then
        rmqctl -q add_user "$DBUSER" "$RABBITMQ_PASSWORD" >/dev/null
    else
        rmqctl -q change_password "$DBUSER" "$RABBITMQ_PASSWORD" >/dev/null
    fi
    rmqctl -q list_vhosts 2>/dev/null | grep -qx "$DBNAME" || rmqctl -q add_vhost "$DBNAME" >/dev/null
    rmqctl -q set_permissions -p "$DBNAME" "$DBUSER" '.*' '.*' '.*' >/dev/null
    rmqctl -q set_user_tags "$DBUSER" management >/dev/null
}

start_rabbitmq() {
    local t0=$SECONDS pid
    if pid=$(rmq_pid); then
        if rmq_listening && amqp_login 2>/dev/null; then
            say "rabbitmq: already running (pid $pid), amqp://$HOST:$RMQ_PORT/$DBNAME answers"
            return 0
        fi
        rmq_write_config
        say "rabbitmq: running (pid $pid), waiting for it to accept the $DBUSER login"
    else
        local busy
        if busy=$(port_listener "$RMQ_PORT"); then
            die "rabbitmq: port $RMQ_PORT is busy by another process ($busy), not ours; stop it first."
        fi
        if busy=$(port_listener "$RMQ_DIST_PORT"); then
            die "rabbitmq: distribution port $RMQ_DIST_PORT is busy by another process ($busy); stop it first."
        fi
        rmq_write_config
        rm -f "$RMQ_PIDFILE"
        say "rabbitmq: starting node $RMQ_NODE on $HOST:$RMQ_PORT (log $RMQ_LOG)"
        ( exec 9>&- </dev/null >>"$RMQ_STARTUP_LOG" 2>&1; cd "$RMQ_DIR"
          exec env -i "${RMQ_ENV[@]}" setsid setpriv --reuid=rabbitmq --regid="$RMQ_GID" --init-groups -- \
            "$RMQ_BIN/rabbitmq-server" ) &
        local deadline=$((SECONDS + TIMEOUT))
        until [[ -s $RMQ_PIDFILE ]]; do
            (( SECONDS < deadline )) || die "rabbitmq: no pid file after ${TIMEOUT}s; read $RMQ_STARTUP_LOG and $RMQ_LOG."
            sleep 0.2
        done
        pid=$(pid_from "$RMQ_PIDFILE")
        if ! rmqctl -q wait --pid "$pid" --timeout "$((deadline - SECONDS > 5 ? deadline - SECONDS : 5))" >/dev/null 2>&1; then
            pid_alive "$pid" || die "rabbitmq: the broker exited during startup; read $RMQ_LOG and $RMQ_STARTUP_LOG."
            die "rabbitmq: did not finish starting within ${TIMEOUT}s; read $RMQ_LOG and $RMQ_STARTUP_LOG."
        fi
    fi
    if ! amqp_login 2>/dev/null; then
        say "rabbitmq: provisioning user $DBUSER and vhost $DBNAME"
        rmq_provision || die "rabbitmq: creating user/vhost $DBUSER/$DBNAME failed; read $RMQ_LOG."
    fi
    local err
    if ! wait_until "$TIMEOUT" amqp_login; then
        err=$(amqp_login 2>&1) || true
        die "rabbitmq: AMQP login as $DBUSER to vhost $DBNAME on $HOST:$RMQ_PORT failed (${err#amqp-check: }); read $RMQ_LOG."
    fi
    say "rabbitmq: ready on amqp://$HOST:$RMQ_PORT/$DBNAME ($((SECONDS - t0))s)"
}

stop_rabbitmq() {
    local pid
    if ! pid=$(rmq_pid); then
        rm -f "$RMQ_PIDFILE"
        say "rabbitmq: already stopped"
        return 0
    fi
    say "rabbitmq: stopping (pid $pid)"
    rmqctl -q shutdown --timeout "$TIMEOUT" >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$TIMEOUT" bash -c "! kill -0 $pid"; then
        die "rabbitmq: pid $pid did not stop within ${TIMEOUT}s; read $RMQ_LOG."
    fi
    rm -f "$RMQ_PIDFILE"
    say "rabbitmq: stopped"
}

# ---------------------------------------------------------------- PostgreSQL
pg_status() { pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null 2>&1; }
pg_psql() {  # superuser psql over the unix socket, SQL on stdin
    ( cd / && as_user postgres psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "$PG_PORT" -d postgres "$@" )
}
pg_tcp_login() {  # pg_tcp_login PASSWORD
    ( cd / && PGPASSWORD="$1" PGCONNECT_TIMEOUT=5 psql -X -q -At -w -h "$HOST" -p "$PG_PORT" -U "$DBUSER" -d "$DBNAME" -c 'select 1' ) 2>/dev/null | grep -qx 1
}

pg_write_config() {
    local f="$PG_CONF_DIR/conf.d/lvsevents.conf" new
    new=$(cat <<EOF
# Generated by scripts/stack.sh - LvsEvents test box settings.
listen_addresses = '$HOST'
port = $PG_PORT
password_encryption = 'scram-sha-256'
max_connections = 200
# An event store takes steady bulk inserts: room for the working set, fewer checkpoints and
# full-page writes. Durability stays as it is (fsync, synchronous_commit on).
shared_buffers = 1GB
max_wal_size = 4GB
checkpoint_timeout = 15min
wal_compression = on
wal_buffers = 16MB
EOF
)
    mkdir -p "$PG_CONF_DIR/conf.d"
    if [[ ! -f $f || $(cat "$f") != "$new" ]]; then
        printf '%s\n' "$new" > "$f"
        PG_CONF_CHANGED=1
    fi
}

start_postgres() {
    local t0=$SECONDS
    PG_CONF_CHANGED=0
    if ! pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx "$PG_VERSION/$PG_CLUSTER"; then
        say "postgres: creating cluster $PG_VERSION/$PG_CLUSTER"
        pg_createcluster "$PG_VERSION" "$PG_CLUSTER" -p "$PG_PORT" >/dev/null 2>&1 \
            || die "postgres: pg_createcluster $PG_VERSION $PG_CLUSTER failed; read $PG_LOG."
    fi
    pg_write_config
    # No systemd-tmpfiles here: make the socket directory ourselves.
    install -d -o postgres -g postgres -m 2775 /var/run/postgresql
    if pg_status; then
        if ((PG_CONF_CHANGED)); then
            say "postgres: configuration changed, restarting $PG_VERSION/$PG_CLUSTER"
            pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" restart >/dev/null 2>&1 9>&- \
                || die "postgres: restart of cluster $PG_VERSION/$PG_CLUSTER failed; read $PG_LOG."
        else
            say "postgres: already running (cluster $PG_VERSION/$PG_CLUSTER)"
        fi
    else
        local busy
        if busy=$(port_listener "$PG_PORT"); then
            die "postgres: port $PG_PORT is busy by another process ($busy), not cluster $PG_VERSION/$PG_CLUSTER; stop it first."
        fi
        say "postgres: starting cluster $PG_VERSION/$PG_CLUSTER on $HOST:$PG_PORT (log $PG_LOG)"
        pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start >/dev/null 2>&1 9>&- \
            || die "postgres: pg_ctlcluster $PG_VERSION $PG_CLUSTER start failed; read $PG_LOG."
    fi
    wait_until "$TIMEOUT" pg_isready -q -h "$HOST" -p "$PG_PORT" \
        || die "postgres: not accepting connections on $HOST:$PG_PORT after ${TIMEOUT}s; read $PG_LOG."

    pg_psql >/dev/null <<SQL || die "postgres: creating role/database $DBUSER failed; read $PG_LOG."
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DBUSER') THEN CREATE ROLE $DBUSER LOGIN; END IF;
END \$\$;
ALTER ROLE $DBUSER WITH LOGIN PASSWORD '$POSTGRES_PASSWORD';
SELECT 'CREATE DATABASE $DBNAME OWNER $DBUSER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DBNAME') \gexec
ALTER DATABASE $DBNAME OWNER TO $DBUSER;
SQL
    # Password auth over TCP must work, and must be enforced (not trust).
    if pg_tcp_login "wrong-$POSTGRES_PASSWORD"; then
        say "postgres: TCP login is not password-protected; adding a scram-sha-256 rule to pg_hba.conf"
        local hba="$PG_CONF_DIR/pg_hba.conf"
        sed -i '/# lvsevents-stack$/d' "$hba"
        sed -i "0,/^[[:space:]]*[a-z]/s//host    $DBNAME       $DBUSER       $HOST\/32            scram-sha-256 # lvsevents-stack\n&/" "$hba"
        pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" reload >/dev/null 2>&1 9>&- || true
        sleep 0.5
        ! pg_tcp_login "wrong-$POSTGRES_PASSWORD" || die "postgres: a wrong password still logs in over TCP; fix $hba."
    fi
    pg_tcp_login "$POSTGRES_PASSWORD" \
        || die "postgres: password login as $DBUSER over TCP $HOST:$PG_PORT failed; read $PG_LOG and $PG_CONF_DIR/pg_hba.conf."
    say "postgres: ready on $HOST:$PG_PORT database $DBNAME ($((SECONDS - t0))s)"
}

stop_postgres() {
    if ! pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx "$PG_VERSION/$PG_CLUSTER" || ! pg_status; then
        say "postgres: already stopped"
        return 0
    fi
    say "postgres: stopping cluster $PG_VERSION/$PG_CLUSTER"
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" stop -m fast >/dev/null 2>&1 9>&- \
        || die "postgres: pg_ctlcluster $PG_VERSION $PG_CLUSTER stop failed; read $PG_LOG."
    say "postgres: stopped"
}

# ---------------------------------------------------------------- InfluxDB 1.x
influx_pid() {
    local pid; pid=$(pid_from "$INFLUX_PIDFILE")
    pid_alive "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == influxd ]] && printf '%s' "$pid"
}
influx_ping() { curl -sf -o /dev/null --max-time 2 "$INFLUX_URL/ping"; }
# influx_query USER_OR_EMPTY QUERY  (query and password go via stdin/config, not argv)
influx_query() {
    local user=$1 q=$2
    {
        printf 'silent\nshow-error\nmax-time = 10\nurl = "%s/query"\n' "$INFLUX_URL"
        [[ -z $user ]] || printf 'user = "%s:%s"\n' "$user" "$INFLUXDB_PASSWORD"
    } | curl -K - -f --data-urlencode "q@"<(printf '%s' "$q")
}

influx_write_config() {
    install -d -o influxdb -g "$(id -g influxdb)" -m 750 "$INFLUX_DIR" "$INFLUX_DIR/meta" "$INFLUX_DIR/data" "$INFLUX_DIR/wal"
    runuser -u influxdb -- test -w "$INFLUX_DIR/meta" 2>/dev/null \
        || die "user influxdb cannot write $INFLUX_DIR (a parent of $STATE is not traversable); choose another LVSEVENTS_STACK_DIR."
    cat > "$INFLUX_CONF" <<EOF
# Generated by scripts/stack.sh - LvsEvents local InfluxDB 1.x (loopback only).
reporting-disabled = true
bind-address = "$HOST:$INFLUX_RPC_PORT"

[meta]
  dir = "$INFLUX_DIR/meta"
  retention-autocreate = true
  logging-enabled = true

[data]
  dir = "$INFLUX_DIR/data"
  wal-dir = "$INFLUX_DIR/wal"
  index-version = "inmem"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "$HOST:$INFLUX_PORT"
  auth-enabled = true
  log-enabled = true
  suppress-write-log = true
  pprof-enabled = false
  unix-socket-enabled = false

[logging]
  format = "logfmt"
  level = "info"
  suppress-logo = true

[ifql]
  enabled = false

[continuous_queries]
  enabled = true
EOF
    chmod 644 "$INFLUX_CONF"
    printf 'INFLUX_PORT=%s\nINFLUX_RPC_PORT=%s\n' "$INFLUX_PORT" "$INFLUX_RPC_PORT" > "$INFLUX_PORTS_FILE"
}

start_influx() {
    local t0=$SECONDS pid busy
    if pid=$(influx_pid); then
        if influx_ping; then
            say "influxdb: already running (pid $pid), $INFLUX_URL answers"
        else
            say "influxdb: running (pid $pid), waiting for $INFLUX_URL/ping"
        fi
    else
        if busy=$(port_listener "$INFLUX_PORT"); then
            die "influxdb: port $HOST:$INFLUX_PORT is busy by another process ($busy), not ours; stop it or set LVSEVENTS_INFLUX_PORT."
        fi
        if busy=$(port_listener "$INFLUX_RPC_PORT"); then
            die "influxdb: RPC port $HOST:$INFLUX_RPC_PORT is busy by another process ($busy); stop it or set LVSEVENTS_INFLUX_RPC_PORT."
        fi
        influx_write_config
        rm -f "$INFLUX_PIDFILE"
        say "influxdb: starting on $INFLUX_URL (log $INFLUX_LOG)"
        ( exec 9>&- </dev/null >>"$INFLUX_LOG" 2>&1; cd /
          exec env -i PATH=/usr/bin:/bin HOME="$INFLUX_DIR" setsid setpriv --reuid=influxdb --regid="$(id -g influxdb)" \
            --init-groups -- /usr/bin/influxd -config "$INFLUX_CONF" -pidfile "$INFLUX_PIDFILE" ) &
    fi
    local deadline=$((SECONDS + TIMEOUT))
    until influx_ping; do
        if (( SECONDS > 3 + t0 )) && ! influx_pid >/dev/null; then
            die "influxdb: influxd exited during startup; read $INFLUX_LOG."
        fi
        (( SECONDS < deadline )) || die "influxdb: $INFLUX_URL/ping did not answer within ${TIMEOUT}s; read $INFLUX_LOG."
        sleep 0.2
    done
    influx_pid >/dev/null || die "influxdb: $INFLUX_URL answers but not from our influxd (pid file $INFLUX_PIDFILE); read $INFLUX_LOG."

    if ! influx_query "$DBUSER" 'SHOW USERS' >/dev/null 2>&1; then
        say "influxdb: creating admin user $DBUSER"
        influx_query "" "CREATE USER \"$DBUSER\" WITH PASSWORD '$INFLUXDB_PASSWORD' WITH ALL PRIVILEGES" >/dev/null 2>&1 \
            || die "influxdb: cannot create admin user $DBUSER and the stored password is refused (state $INFLUX_DIR has another admin); read $INFLUX_LOG."
    fi
    influx_query "$DBUSER" "CREATE DATABASE \"$DBNAME\"" >/dev/null 2>&1 \
        || die "influxdb: CREATE DATABASE $DBNAME as $DBUSER failed; read $INFLUX_LOG."
    say "influxdb: ready on $INFLUX_URL database $DBNAME ($((SECONDS - t0))s)"
}

stop_influx() {
    local pid
    if ! pid=$(influx_pid); then
        rm -f "$INFLUX_PIDFILE"
        say "influxdb: already stopped"
        return 0
    fi
    say "influxdb: stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until 30 bash -c "! kill -0 $pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        wait_until 5 bash -c "! kill -0 $pid" || die "influxdb: pid $pid did not stop; read $INFLUX_LOG."
    fi
    rm -f "$INFLUX_PIDFILE"
    say "influxdb: stopped"
}

# ---------------------------------------------------------------- commands
cmd_start() {
    need_root; check_installed; take_lock; load_creds; load_influx_ports start; rmq_env_init
    local t0=$SECONDS
    # Start the slow one (RabbitMQ) in the background while the others come up.
    local rmq_out; rmq_out=$(mktemp)
    ( start_rabbitmq ) >"$rmq_out" 2>&1 &
    local rmq_job=$!
    local rc=0
    ( start_postgres ) || rc=1
    ( start_influx ) || rc=1
    wait "$rmq_job" || rc=1
    cat "$rmq_out"; rm -f "$rmq_out"
    ((rc == 0)) || die "start failed (see the message above)."
    say "stack: ready in $((SECONDS - t0))s (state $STATE)"
}

cmd_stop() {
    need_root; take_lock; load_influx_ports; rmq_env_init
    local rc=0
    ( stop_rabbitmq ) || rc=1
    ( stop_postgres ) || rc=1
    ( stop_influx ) || rc=1
    ((rc == 0)) || die "stop failed (see the message above)."
}

cmd_status() {
    load_influx_ports
    local s
    if rmq_listening 2>/dev/null; then s=running; else s=stopped; fi
    printf '%-10s %-8s amqp://%s:%s/%s\n' rabbitmq "$s" "$HOST" "$RMQ_PORT" "$DBNAME"
    if pg_status && pg_isready -q -h "$HOST" -p "$PG_PORT" 2>/dev/null; then s=running; else s=stopped; fi
    printf '%-10s %-8s postgresql://%s:%s/%s\n' postgres "$s" "$HOST" "$PG_PORT" "$DBNAME"
    if influx_pid >/dev/null && influx_ping; then s=running; else s=stopped; fi
    printf '%-10s %-8s %s (database %s)\n' influxdb "$s" "$INFLUX_URL" "$DBNAME"
}

cmd_env() {
    load_creds; load_influx_ports
    printf 'export ConnectionStrings__rabbitmq=%s\n' \
        "$(shq "amqp://$DBUSER:$RABBITMQ_PASSWORD@$HOST:$RMQ_PORT/$DBNAME")"
    printf 'export ConnectionStrings__eventstore=%s\n' \
        "$(shq "Host=$HOST;Port=$PG_PORT;Database=$DBNAME;Username=$DBUSER;Password=$POSTGRES_PASSWORD")"
    printf 'export ConnectionStrings__influxdb=%s\n' \
        "$(shq "Url=$INFLUX_URL;Database=$DBNAME;Username=$DBUSER;Password=$INFLUXDB_PASSWORD")"
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

case "${1:-}" in
    install)        cmd_install ;;
    start)          cmd_start ;;
    stop)           cmd_stop ;;
    status)         cmd_status ;;
    env)            cmd_env ;;
    start-rabbitmq) need_root; check_installed; take_lock; load_creds; rmq_env_init; start_rabbitmq ;;
    stop-rabbitmq)  need_root; take_lock; rmq_env_init; stop_rabbitmq ;;
    -h|--help|help) usage ;;
    *)              usage >&2; exit 2 ;;
esac
