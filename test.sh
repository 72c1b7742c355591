#!/usr/bin/env bash
# Runs every test of LvsEvents on this machine: installs what is missing (Debian packages), starts
# RabbitMQ, PostgreSQL and InfluxDB on 127.0.0.1, builds, and runs the test projects against them.
# Idempotent: a second run reuses what is installed and running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK (dotnet) is not on PATH; install it first." >&2; exit 1; }

bash scripts/stack.sh install
bash scripts/stack.sh start
eval "$(bash scripts/stack.sh env)"

echo "build: dotnet build LvsEvents.sln -c Release"
dotnet build LvsEvents.sln -c Release -nologo -v quiet

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
# -m:1: one test project at a time; the outage test stops the shared broker, which must not stall another project.
dotnet test LvsEvents.sln -c Release --no-build -nologo -m:1 --results-directory "$results" --logger "trx" "$@" 2>&1 | tee "$results/output.txt" || status=$?

# One closing line for all test projects: 'N passed, N failed, N skipped'.
python3 - "$results" <<'PY' || status=1
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
files = glob.glob(sys.argv[1] + "/*.trx")
for f in files:
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns)
    passed += int(c.get("passed")); failed += int(c.get("failed")) + int(c.get("error")) + int(c.get("timeout")) + int(c.get("aborted"))
    skipped += int(c.get("notExecuted"))
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or not files or passed == 0 else 0)
PY
exit $status
