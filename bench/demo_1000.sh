#!/usr/bin/env bash
# Benchmark of the demo path: scripts/fleet-demo.sh with 1,000 simulated
# devices (two planted failures), on a release build.  Prints the wall time
# of the provisioning (agents started to last job ended), devices
# provisioned per second, CPU per device (all processes together, and per
# process), and the peak RSS of each process.
#
#   bench/demo_1000.sh [BUILD_DIR] [--devices N] [--parallel P] [--address A]
#
# BUILD_DIR defaults to build/release (scripts/build.sh release).  It fails
# when the demo fails (a device that should provision did not).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$top/build/release
N=1000
PAR=16
ADDR=127.24.0.1
while [ $# -gt 0 ]; do
	case $1 in
	--devices) N=${2:?}; shift 2 ;;
	--parallel) PAR=${2:?}; shift 2 ;;
	--address) ADDR=${2:?}; shift 2 ;;
	-*) echo "usage: $0 [BUILD_DIR] [--devices N] [--parallel P] [--address A]" >&2; exit 2 ;;
	*) BUILD=$1; shift ;;
	esac
done
command -v python3 >/dev/null || { echo "bench: needs python3 (rusage of the agents)" >&2; exit 2; }
T=$(mktemp -d /tmp/amtp_bench_demo.XXXXXX)
trap 'rm -rf "$T"' EXIT

echo "bench: fleet demo with $N devices, $PAR agents at a time, build $BUILD"
AMTP_DEMO_BUILD=$BUILD AMTP_DEMO_STATS=$T/stats bash "$top/scripts/fleet-demo.sh" \
	--devices "$N" --parallel "$PAR" --address "$ADDR" --quiet > "$T/out" 2>&1
rc=$?
site=$(grep -o '/tmp/amtprov-demo\.[A-Za-z0-9]*' "$T/out" | head -1)
sed -n '/^summary after/,/^== 6/p' "$T/out" | sed '/^== 6/d; /^$/d'
[ -n "$site" ] && rm -rf "$site"
if [ $rc != 0 ]; then
	tail -30 "$T/out"
	echo "bench: the demo failed (exit $rc)"
	exit 1
fi
python3 - "$T/stats" "$N" <<'PY'
import sys
rows, wall, prov = [], None, None
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "wall":
        wall = float(f[1])
    elif f[0] == "provisioned":
        prov = int(f[1])
    elif f[0].endswith(".rusage"):
        rows.append((f[0][:-7] + " (all, rusage)", float(f[1]) + float(f[2]), int(f[3])))
    else:
        rows.append((f[0] + " pid " + f[1], float(f[2]) + float(f[3]), int(f[4])))
n = int(sys.argv[2])
cpu = sum(r[1] for r in rows)
print("figures")
print("  wall time (agents started .. last job ended): %.1f s" % wall)
print("  devices provisioned: %d of %d; %.1f devices/s" % (prov, n, prov / wall))
print("  CPU, all processes: %.1f s; %.1f ms per device" % (cpu, 1000 * cpu / n))
print("  %-34s %10s %12s %12s" % ("process", "CPU s", "ms/device", "peak RSS"))
for name, c, rss in rows:
    print("  %-34s %10.2f %12.2f %9.1f MiB" % (name, c, 1000 * c / n, rss / 1024))
print("  (amtprovd children in fork order: role site, role oobsp (its child:")
print("   the CA signer); agents: the sum of every agent run and its shell,")
print("   peak RSS = the largest one)")
PY
