#!/usr/bin/env bash
# Benchmark: amtsim with many devices (default 10,000).  Prints the time to
# create the fleet, the time until a restarted amtsim is ready (every
# device's flash loaded and MEI socket listening), and its RSS.  Use a
# release build without sanitizers for the figures:
#   cmake -S . -B build/rel -DCMAKE_BUILD_TYPE=Release && \
#   cmake --build build/rel --target amtsim && \
#   bench/amtsim_start.sh build/rel/src/amtsim/amtsim [N] [--no-fsync]
# Extra options for the serving run go in AMTSIM_ARGS (e.g. --no-network to
# measure the host side alone).
# Exits non-zero when the start takes more than 10 s or RSS exceeds 512 MiB.
set -u
B=${1:-${AMTP_BUILD:-build}/src/amtsim/amtsim}
N=${2:-10000}
NOFSYNC=${3:-}
T=$(mktemp -d /tmp/amtsim-bench.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
now() { date +%s.%N; }
ms() { echo "($2 - $1) * 1000 / 1" | bc; }

[ -x "$B" ] || { echo "no amtsim at $B"; exit 2; }
ulimit -n "$(ulimit -Hn)"

t0=$(now)
"$B" --state "$T/s" --devices "$N" --amt-versions 8.1.40,11.8.50,15.0.23,16.1.25 \
	--dns-suffix fleet.example.test --wireless-every 3 --create-only --quiet $NOFSYNC || exit 1
t1=$(now)
echo "create: $N devices in $(ms "$t0" "$t1") ms${NOFSYNC:+ ($NOFSYNC)}"

t0=$(now)
# shellcheck disable=SC2086
"$B" --state "$T/s" --quiet ${AMTSIM_ARGS:-} >"$T/log" 2>&1 &
PID=$!
until grep -q '^amtsim: ready' "$T/log" 2>/dev/null; do
	kill -0 "$PID" 2>/dev/null || { cat "$T/log"; exit 1; }
	sleep 0.02
done
t1=$(now)
start_ms=$(ms "$t0" "$t1")
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
echo "restart${AMTSIM_ARGS:+ ($AMTSIM_ARGS)}: ready in $start_ms ms ($(sed -n 's/.*(\([0-9]*\) ms).*/\1/p' "$T/log") ms inside amtsim)"
echo "rss: $((rss_kb / 1024)) MiB (peak $((hwm_kb / 1024)) MiB) for $N devices"
last=$(printf %04d "$N")
"$B" hostcmd "unix:$T/s/$last.mei" get-provisioning-state --json | grep -q '"state":0' ||
	{ echo "device $last does not answer"; exit 1; }
echo "device $last answers over MEI"
kill "$PID"; wait "$PID"; PID=
[ "$start_ms" -le 10000 ] && [ "$hwm_kb" -le $((512 * 1024)) ]
