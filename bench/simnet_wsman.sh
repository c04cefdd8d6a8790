#!/usr/bin/env bash
# Benchmark: Digest-authenticated WS-Management Get requests per second
# against amtsim's network side, on one keep-alive connection and across N
# devices (default 1,000), each in the TLS-PKI setup session.  Use a release
# build without sanitizers for the figures:
#   cmake -S . -B build/rel -DCMAKE_BUILD_TYPE=Release
#   cmake --build build/rel --target amtsim bench_simnet_wsman
#   bench/simnet_wsman.sh build/rel [N] [REQUESTS_ONE] [REQUESTS_PER_DEVICE]
set -u
BD=${1:-${AMTP_BUILD:-build}}
N=${2:-1000}
R1=${3:-5000}
RN=${4:-20}
SRC=$(cd "$(dirname "$0")/.." && pwd)
F=$SRC/tests/fixtures/simnet
B=$BD/src/amtsim/amtsim
BENCH=$BD/bench_simnet_wsman
[ -x "$BENCH" ] || BENCH=$(find "$BD" -name bench_simnet_wsman -type f | head -1)
T=$(mktemp -d /tmp/simnet-bench.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
[ -x "$B" ] && [ -x "$BENCH" ] || { echo "build amtsim and bench_simnet_wsman in $BD"; exit 2; }
ulimit -n "$(ulimit -Hn)"
ADDR=127.21.0.1
"$B" --state "$T/s" --devices "$N" --address "$ADDR" --dns-suffix corp.example \
    --trust-root "$F/roots.sha256" --create-only --no-fsync >/dev/null 2>&1 || exit 1
"$B" --state "$T/s" --no-fsync --quiet >"$T/log" 2>&1 &
PID=$!
for _ in $(seq 600); do grep -q "amtsim: ready" "$T/log" && break; sleep 0.1; done
t0=$(date +%s.%N)
seq -f "%04g" 1 "$N" | xargs -P 4 -I{} "$B" hostcmd "unix:$T/s/{}.mei" \
    start-configuration >/dev/null || { echo "activation failed"; exit 1; }
t1=$(date +%s.%N)
echo "activated $N devices in $(echo "$t1 - $t0" | bc) s"
awk 'BEGIN{c=0} /BEGIN CERT/{c++} {print > (c==1 ? "'"$T"'/leaf" : "'"$T"'/rest")}' "$F/good.pem"
cat "$T/leaf" "$T/rest" > "$T/chain.pem"
"$BENCH" "$ADDR" "$N" "$R1" "$RN" "$T/chain.pem" "$F/leaf.key" \
    "$F/requests/01_AMT_GeneralSettings_Get.xml" || exit 1
echo "RSS of amtsim: $(awk '/VmRSS/{print $2, $3}' /proc/$PID/status)"
