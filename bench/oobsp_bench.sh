#!/usr/bin/env bash
# Benchmark of the service point (role oobsp): N simulated devices (amtsim,
# zero latency, real TLS and Digest) put in IN state over MEI, queued, and
# provisioned through every step by one service point process with W jobs
# at once.  Prints devices per second, the service point's CPU ms per
# device (user + system of the oobsp_fleet process) and, apart, that of its
# certificate signer (a process of its own, as in the role) and of amtsim.
#
#   bench/oobsp_bench.sh [BUILD_DIR] [N] [W]     (defaults: build, 200, 64)
#
#   OOBSP_BENCH_TMP     where the site database goes (default /tmp: a disk;
#                       every commit waits for it, as in production)
#   OOBSP_BENCH_SIMTMP  where amtsim's flash goes (default /dev/shm; empty:
#                       next to the database)
#   OOBSP_BENCH_POOLWAIT  seconds to let amtsim make its N keys first
#
# Use a release build: ASan multiplies the CPU figures.
set -u
BUILD=${1:-${AMTP_BUILD:-build}}
N=${2:-200}
W=${3:-64}
SIM=$BUILD/src/amtsim/amtsim
FLEET=$BUILD/bench_oobsp_fleet
T=$(mktemp -d "${OOBSP_BENCH_TMP:-/tmp}/oobsp_bench.XXXXXX")
# the simulator's flash (its devices' own storage, not the product's) on
# tmpfs when there is one: its file writes are not what this measures
SIMDIR=$T/sim
if [ -z "${OOBSP_BENCH_SIMTMP+x}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	OOBSP_BENCH_SIMTMP=/dev/shm
fi
if [ -n "${OOBSP_BENCH_SIMTMP:-}" ]; then
	SIMDIR=$(mktemp -d "$OOBSP_BENCH_SIMTMP/oobsp_bench_sim.XXXXXX")
fi
SIMPID=
cleanup() {
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	rm -rf "$T" "$SIMDIR"
}
trap cleanup EXIT
DOMAIN=fleet.example.test
NET=127.25.$((RANDOM % 100 + 20))

mkdir -p "$T/site"
"$FLEET" init "$T/site" $DOMAIN > /dev/null || exit 1
"$SIM" --state "$SIMDIR" --devices $N --address $NET.1 --pki-dns-suffix $DOMAIN \
	--trust-root "$T/site/lab-root.sha256" --no-fsync --quiet \
	--keypool $((N < 10000 ? N : 10000)) > "$T/sim.log" 2>&1 &
SIMPID=$!
for i in $(seq 1 300); do grep -q ready "$T/sim.log" 2>/dev/null && break; sleep 0.1; done
for i in $(seq 1 $N); do
	m=unix:$SIMDIR/$(printf %04d $i).mei
	"$SIM" hostcmd "$m" set-otp "OTP-bench-0000000000-$i" > /dev/null &&
	"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || exit 1
done
# the address block must not pass a /24 for this simple numbering
"$FLEET" enqueue "$T/site" $DOMAIN $N $NET.1 OTP-bench-0000000000- || exit 1
# let amtsim fill its key pool (one RSA key every ~50 ms + its generation):
# key generation in the simulator is not what this measures
sleep ${OOBSP_BENCH_POOLWAIT:-$(( N * 70 / 1000 + 2 ))}
simcpu() {	# utime + stime of amtsim, in ms
	awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' /proc/$SIMPID/stat
}
echo "service point: $N devices, $W at once"
s0=$(simcpu)
${OOBSP_BENCH_WRAP:-} "$FLEET" serve "$T/site" $W || exit 1
s1=$(simcpu)
awk -v a="$s0" -v b="$s1" -v n=$N 'BEGIN {printf "simulator cpu-ms/device %.2f (amtsim is one thread: its TLS handshakes and signatures bound the wall time)\n", (b - a) / n}'
"$FLEET" status "$T/site" | awk '$3 != "done" {bad++} END {print (bad ? bad : 0) " jobs not done"}'
