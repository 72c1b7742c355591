#!/usr/bin/env python3
"""One line of the lab's live status: VIP owner (from the directors' namespaces), each real server's health and
weight (the monitor's live cluster view, through `lvsctl state --json`), the weights in each director's kernel,
and the requests each real server answered in the last --window seconds (the client's log)."""
import argparse, json, subprocess, time

parser = argparse.ArgumentParser()
parser.add_argument("--client-log", required=True)
parser.add_argument("--lvsctl", nargs="+", required=True)
parser.add_argument("--window", type=float, default=5.0)
# The store may also hold other clusters (tests, other labs on the same broker): show the lab's only.
parser.add_argument("--service", default="10.77.0.100:80")
parser.add_argument("--nodes", default="director-1,director-2")
args = parser.parse_args()

def owner():
    owners = []
    for i in (1, 2):
        out = subprocess.run(["ip", "-n", f"lvlab-d{i}", "-4", "-o", "addr", "show", "dev", "eth0"], capture_output=True, text=True).stdout
        if "10.77.0.100/" in out:
            owners.append(f"director-{i}")
    return ",".join(owners) or "(none)"

def client(window):
    now, ok, fail, per = time.time(), 0, 0, {}
    try:
        with open(args.client_log) as f:
            lines = f.readlines()[-2000:]
    except OSError:
        return "client: no log yet"
    for line in lines:
        parts = line.split()
        if len(parts) < 2 or now - float(parts[0]) > window:
            continue
        if parts[1] == "ok":
            ok += 1
            server = parts[2] if len(parts) > 2 else "?"
            per[server] = per.get(server, 0) + 1
        else:
            fail += 1
    answers = " ".join(f"{k}:{v}" for k, v in sorted(per.items()))
    return f"requests {window:.0f}s: {answers or '-'} failed:{fail}"

view = {}
state = subprocess.run(args.lvsctl + ["state", "--json"], capture_output=True, text=True)
if state.returncode == 0:
    try:
        view = json.loads(state.stdout)
    except json.JSONDecodeError:
        view = {}
servers = []
nodes = set(args.nodes.split(","))
for key, vs in (view.get("virtualServices") or {}).items():
    if not key.endswith("/" + args.service) and key != args.service and args.service not in key:
        continue
    for name, rs in (vs.get("realServers") or {}).items():
        kernel = ",".join(f"{k.replace('director-', 'd')}={v}" for k, v in sorted((rs.get("kernelWeights") or {}).items()) if k in nodes)
        servers.append(f"{name.split('->')[-1]} {rs.get('health')} w{rs.get('weight')} [{kernel}]")
print(f"{time.strftime('%H:%M:%S')}  VIP 10.77.0.100 owner {owner()} | {' | '.join(servers) or 'no real servers in the store yet'} | {client(args.window)}", flush=True)
