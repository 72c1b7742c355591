#!/usr/bin/env python3
"""The lab's client: one new HTTP connection to the VIP every --interval seconds, each result a line in --log:
'<unix time> ok <body>' or '<unix time> fail <reason>'. Runs inside the client namespace (run.sh starts it with
ip netns exec), stops on SIGTERM or after --max-seconds, whichever comes first."""
import argparse, signal, socket, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--url-host", default="10.77.0.100")
parser.add_argument("--port", type=int, default=80)
parser.add_argument("--interval", type=float, default=0.05)
parser.add_argument("--timeout", type=float, default=0.5)
parser.add_argument("--max-seconds", type=float, default=4 * 3600)
parser.add_argument("--log", required=True)
args = parser.parse_args()

running = True
def stop(*_):
    global running
    running = False
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)

request = f"GET / HTTP/1.0\r\nHost: {args.url_host}\r\n\r\n".encode()
deadline = time.time() + args.max_seconds
with open(args.log, "a", buffering=1) as log:
    while running and time.time() < deadline:
        started = time.time()
        try:
            with socket.create_connection((args.url_host, args.port), timeout=args.timeout) as s:
                s.settimeout(args.timeout)
                s.sendall(request)
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            status = head.split(b" ", 2)[1].decode() if b" " in head else "?"
            line = f"ok {body.decode(errors='replace').strip()}" if status == "200" else f"fail status-{status}"
        except (OSError, IndexError) as e:
            line = f"fail {type(e).__name__}"
        log.write(f"{started:.3f} {line}\n")
        time.sleep(max(0.0, args.interval - (time.time() - started)))
