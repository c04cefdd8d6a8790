#!/usr/bin/env bash
# Benchmark of the service point (role oobsp): N simulated devices (amtsim,
# zero latency, real TLS and Digest) put in IN state over MEI, queued, and
# provisioned through every step by one service point process with W jobs
# at once.  Prints devices per second and the service point's CPU ms per
# device (user + system of the oobsp_fleet process, which also signs the
# certificates: the site CA runs in-process there, where the role uses a
# separate signer process).
#
#   bench/oobsp_bench.sh [BUILD_DIR] [N] [W]     (defaults: build, 200, 64)
#
# Use a release build: ASan multiplies the CPU figures.
set -u
BUILD=${1:-${AMTP_BUILD:-build}}
N=${2:-200}
W=${3:-64}
SIM=$BUILD/src/amtsim/amtsim
FLEET=$BUILD/bench_oobsp_fleet
T=$(mktemp -d /tmp/oobsp_bench.XXXXXX)
SIMPID=
cleanup() {
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
DOMAIN=fleet.example.test
NET=127.25.$((RANDOM % 100 + 20))

mkdir -p "$T/site"
"$FLEET" init "$T/site" $DOMAIN > /dev/null || exit 1
"$SIM" --state "$T/sim" --devices $N --address $NET.1 --pki-dns-suffix $DOMAIN \
	--trust-root "$T/site/lab-root.sha256" --no-fsync --quiet \
	--keypool $((N < 64 ? N : 64)) > "$T/sim.log" 2>&1 &
SIMPID=$!
for i in $(seq 1 300); do grep -q ready "$T/sim.log" 2>/dev/null && break; sleep 0.1; done
for i in $(seq 1 $N); do
	m=unix:$T/sim/$(printf %04d $i).mei
	"$SIM" hostcmd "$m" set-otp "OTP-bench-0000000000-$i" > /dev/null &&
	"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || exit 1
done
# the address block must not pass a /24 for this simple numbering
"$FLEET" enqueue "$T/site" $DOMAIN $N $NET.1 OTP-bench-0000000000- || exit 1
sleep 1	# let amtsim refill its key pool
echo "service point: $N devices, $W at once"
"$FLEET" serve "$T/site" $W || exit 1
"$FLEET" status "$T/site" | awk '$3 != "done" {bad++} END {print (bad ? bad : 0) " jobs not done"}'
