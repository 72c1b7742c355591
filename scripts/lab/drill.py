#!/usr/bin/env python3
"""`./run.sh drill`: the article's drills on the running lab, unattended, judged from the event store.

1. master failure: director-1's lvs-vrrp is killed (SIGKILL) and its LAN link goes down, as a crashed director;
2. backend outage: real server rs2 (10.77.1.21) stops answering (its HTTP server is killed);
3. recovery: rs2 is started again and must come back to its configured weight (through recovery's slow start).
A client connects to the VIP every 50 ms throughout. The timings printed come from the recorded events (lvsctl
replay), the client's view from its log. Exit 0 only when every step met its expectation."""
import argparse, datetime, json, os, re, signal, subprocess, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--lab", required=True, help="the run's folder (.lab)")
parser.add_argument("--lvsctl", nargs="+", required=True)
args = parser.parse_args()

VIP, RS2, RS2_WEIGHT = "10.77.0.100", "10.77.1.21", 2
# keepalived's Master_Down_Interval for director-2 (priority 90, advert_int 1): 3 x 1 + (256 - 90) / 256.
MDI = 3 + (256 - 90) / 256
FAILOVER_LIMIT = MDI + 1.0
# The checker's bound from the lab's keepalived.conf: connect_timeout x (retry + 1) + delay_before_retry x retry + delay_loop.
DETECTION_LIMIT = 3 * 4 + 3 * 3 + 6
GRACE = 1.0  # a connection already under way when a window closes may still fail

def sh(*command, check=True):
    return subprocess.run(command, capture_output=True, text=True, check=check).stdout

def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()

def owner():
    return [f"director-{i}" for i in (1, 2) if f"{VIP}/" in sh("ip", "-n", f"lvlab-d{i}", "-4", "-o", "addr", "show", "dev", "eth0", check=False)]

def kernel_weight(director, address):
    """The weight of address in the director's nftables table: the width of its numgen range (0 when absent)."""
    text = sh("ip", "netns", "exec", director, "nft", "list", "table", "ip", "lvsevents", check=False)
    weight = 0
    for low, high in re.findall(r"(\d+)(?:-(\d+))? : " + re.escape(address) + r" \. 80", text):
        weight += (int(high) if high else int(low)) - int(low) + 1
    return weight

def wait(what, condition, limit, step=0.05):
    deadline = time.time() + limit
    while time.time() < deadline:
        if condition():
            return time.time()
        time.sleep(step)
    return None

def events(since):
    out = subprocess.run(args.lvsctl + ["replay", "--from", iso(since), "--no-probes", "--limit", "20000"], capture_output=True, text=True).stdout
    result = []
    for line in out.splitlines():
        parts = line.split("  ", 4)
        if len(parts) == 5:
            node, _, service = parts[1].partition("/")
            try:
                body = json.loads(parts[4])
            except json.JSONDecodeError:
                continue
            result.append({"at": parse_time(parts[0]), "node": node, "service": service, "type": parts[2], **body})
    return result

def first(items, predicate):
    return next((e for e in items if predicate(e)), None)

def rs2_http(start):
    if start:
        subprocess.Popen(["ip", "netns", "exec", "lvlab-rs2", "setsid", "python3", "-m", "http.server", "80", "--bind", "0.0.0.0", "--directory", "/run/lvlab/rs2"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    else:
        for pid in sh("ip", "netns", "pids", "lvlab-rs2", check=False).split():
            os.kill(int(pid), signal.SIGKILL)

results = []
def judge(name, ok, detail):
    results.append(ok)
    print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}", flush=True)

client_log = os.path.join(args.lab, "logs", "drill-client.log")
open(client_log, "w").close()
client = subprocess.Popen(["ip", "netns", "exec", "lvlab-client", "python3", os.path.join(os.path.dirname(__file__), "client.py"),
                           "--log", client_log, "--interval", "0.05", "--timeout", "0.5", "--max-seconds", "600"])
try:
    t0 = time.time()
    time.sleep(3)
    print(f"drill 1/3, master failure: SIGKILL to director-1's lvs-vrrp and its LAN link down ({iso(time.time())})", flush=True)
    t_kill = time.time()
    sh("ip", "-n", "lvlab-d1", "link", "set", "eth0", "down")
    subprocess.run(["pkill", "-KILL", "-f", "--", "--Vrrp:NetworkNamespace=lvlab-d1"])
    # The killed director keeps the address on its downed link (nothing removed it, as after a real crash): what
    # counts is that director-2 holds it.
    seen = wait("director-2 holds the VIP", lambda: "director-2" in owner(), 15)
    print(f"  director-2 holds the VIP (seen after {seen - t_kill:.2f} s; on the dead director-1's downed link too: {'director-1' in owner()})"
          if seen else "  the VIP did not move", flush=True)
    time.sleep(3)

    print(f"drill 2/3, backend outage: rs2 ({RS2}) stops answering ({iso(time.time())})", flush=True)
    t_down = time.time()
    rs2_http(False)
    removed = wait("rs2 out of director-2's kernel table", lambda: kernel_weight("lvlab-d2", RS2) == 0, DETECTION_LIMIT + 10, 0.1)
    print(f"  rs2 out of director-2's table after {removed - t_down:.2f} s" if removed else "  rs2 stayed in the table", flush=True)
    time.sleep(2)

    print(f"drill 3/3, recovery: rs2 answers again ({iso(time.time())})", flush=True)
    t_up = time.time()
    rs2_http(True)
    back = wait("rs2 at full weight", lambda: kernel_weight("lvlab-d2", RS2) == RS2_WEIGHT, 120, 0.2)
    print(f"  rs2 back at weight {RS2_WEIGHT} in director-2's table after {back - t_up:.2f} s" if back else "  rs2 did not come back to full weight", flush=True)
    time.sleep(1)
finally:
    client.send_signal(signal.SIGTERM)
    client.wait(timeout=10)

print("reading what happened from the event store ...", flush=True)
recorded = []
def complete():
    global recorded
    recorded = events(t0)
    return first(recorded, lambda e: e["type"] == "vrrp.vip-acquired" and e["node"] == "director-2") is not None and \
        first(recorded, lambda e: e["type"] == "health.real-server-health-changed" and RS2 in e.get("realServer", "") and e.get("to") == "Up" and e["at"] > t_up) is not None
wait("the events in the store", complete, 30, 1.0)

print("\nRESULTS (times from the recorded events; the kill, outage and restart times are this script's)")
acquired = first(recorded, lambda e: e["type"] == "vrrp.vip-acquired" and e["node"] == "director-2" and e.get("address", "").startswith(VIP) and e["at"] > t_kill)
changed = first(recorded, lambda e: e["type"] == "vrrp.state-changed" and e["node"] == "director-2" and e.get("to") == "Master" and e["at"] > t_kill)
judge("failover", acquired is not None and acquired["at"] - t_kill <= FAILOVER_LIMIT,
      f"director-2 acquired {VIP} {acquired['at'] - t_kill:.3f} s after the kill (reason: {changed.get('reason') if changed else '?'}; limit Master_Down_Interval {MDI:.3f} s + 1 s)"
      if acquired else "no vrrp.vip-acquired from director-2 in the store")

down = first(recorded, lambda e: e["type"] == "health.real-server-health-changed" and e["node"] == "director-2" and RS2 in e.get("realServer", "") and e.get("to") == "Down" and e["at"] > t_down)
judge("outage detected", down is not None and down["at"] - t_down <= DETECTION_LIMIT,
      f"director-2's health saw rs2 down {down['at'] - t_down:.3f} s after it stopped ({down.get('checker')}; keepalived's bound {DETECTION_LIMIT} s)" if down else "no health change to Down for rs2")
applied = first(recorded, lambda e: e["type"] == "kernel.rule-applied" and e["node"] == "director-2" and RS2 in (e.get("realServer") or "") and down is not None and e["at"] >= down["at"])
judge("weight change", applied is not None,
      f"director-2's kernel: {applied.get('operation')} {(applied.get('after') or applied.get('before') or '').strip()} {applied['at'] - down['at']:.3f} s after the health change" if applied else "no kernel change for rs2 after the health change")

up = first(recorded, lambda e: e["type"] == "health.real-server-health-changed" and e["node"] == "director-2" and RS2 in e.get("realServer", "") and e.get("to") == "Up" and e["at"] > t_up)
steps = [e for e in recorded if e["type"] == "kernel.rule-applied" and e["node"] == "director-2" and RS2 in (e.get("realServer") or "") and e["at"] > t_up]
weights = [m.group(1) for e in steps if (m := re.search(r"-w (\d+)", e.get("after") or ""))]
decisions = [e.get("action") for e in recorded if e["type"] == "recovery.decision" and RS2 in (e.get("subject") or "") and e["at"] > t_up and e["node"] == "director-2"]
judge("recovery", up is not None and back is not None and weights[-1:] == [str(RS2_WEIGHT)],
      f"rs2 up again {up['at'] - t_up:.3f} s after its restart; director-2's kernel weights {' -> '.join(weights) or '-'}; recovery decisions {', '.join(decisions) or '-'}; full weight {back - t_up:.1f} s after the restart"
      if up and back else "rs2 did not come back up at full weight")

# The client: every request outside the measured windows must have succeeded.
windows = []
if acquired:
    windows.append(("failover", t_kill, acquired["at"] + GRACE))
if removed:
    windows.append(("outage", t_down, removed + GRACE))
inside = {name: [0, 0] for name, _, _ in windows}
outside_fail, outside_ok = 0, 0
for line in open(client_log):
    parts = line.split()
    if len(parts) < 2:
        continue
    t, ok = float(parts[0]), parts[1] == "ok"
    window = next((name for name, a, b in windows if a <= t <= b), None)
    if window:
        inside[window][0 if ok else 1] += 1
    elif ok:
        outside_ok += 1
    else:
        outside_fail += 1
measured = "; ".join(f"{name} window {b - a:.2f} s: {inside[name][1]} failed of {sum(inside[name])}" for name, a, b in windows)
judge("client", outside_fail == 0 and outside_ok > 0 and len(windows) == 2,
      f"{outside_ok} requests outside the measured windows, {outside_fail} failed; {measured}")

print(f"\ndrill {'PASSED' if all(results) else 'FAILED'}: {sum(results)} of {len(results)} expectations met")
sys.exit(0 if all(results) else 1)
