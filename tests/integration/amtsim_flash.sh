#!/usr/bin/env bash
# amtsim flash and provisioning period: the period ends IN (from the timer
# while running, and at start for a device killed in IN); a truncated or
# corrupt flash file stops amtsim with a message naming the file, never a
# crash.
set -u
B=${AMTP_BUILD:?}/src/amtsim/amtsim
T=$(mktemp -d /tmp/amtsim-flash.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/log*; do [ -f "$f" ] && tail -5 "$f"; done; exit 1; }
start_sim() {
	rm -f "$T/log"
	"$B" --state "$T/s" --no-network "$@" >"$T/log.new" 2>&1 &
	PID=$!
	for _ in $(seq 1 100); do
		if grep -q '^amtsim: ready' "$T/log.new" 2>/dev/null; then
			mv "$T/log.new" "$T/log"
			return 0
		fi
		kill -0 "$PID" 2>/dev/null || fail "amtsim exited"
		sleep 0.1
	done
	fail "amtsim not ready"
}
cmd() { "$B" hostcmd "unix:$T/s/$(printf %04d "$1").mei" "${@:2}" --json; }
state_of() { cmd "$1" get-provisioning-state | sed -n 's/.*"state":\([0-9]\).*/\1/p'; }

# Creation only; the files are JSON a person can read.
"$B" --state "$T/s" --devices 3 --create-only --no-fsync --quiet || fail "create"
for i in 1 2 3; do
	python3 -m json.tool "$T/s/000$i.json" >/dev/null || fail "flash $i not JSON"
done
# Creating again over an existing fleet does not overwrite it.
cp "$T/s/0001.json" "$T/before"
"$B" --state "$T/s" --devices 9 --create-only 2>"$T/warn" || fail "second create"
grep -q "fleet exists" "$T/warn" || fail "no warning for an existing fleet"
cmp -s "$T/before" "$T/s/0001.json" || fail "existing device rewritten"

start_sim --provisioning-period 2 --quiet
cmd 1 start-configuration-ex 0 | grep -q '"status":0,' || fail "start 1"
[ "$(state_of 1)" = 1 ] || fail "device 1 not IN"
sleep 3
[ "$(state_of 1)" = 0 ] || fail "device 1 still IN after its period"
grep -Eq '"state": ?"pre"' "$T/s/0001.json" || fail "period end not in flash"
# Killed while IN; the period ends while it is down.
cmd 2 start-configuration-ex 0 | grep -q '"status":0,' || fail "start 2"
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=
"$B" --state "$T/s" --show 2 --json | grep -q '"state": "in"' || fail "device 2 flash not IN"
sleep 3
start_sim --provisioning-period 2 --quiet
[ "$(state_of 2)" = 0 ] || fail "device 2 IN after its period passed while down"
kill "$PID"; wait "$PID"; PID=

# Corrupt flash: a clear error naming the file, exit status 1, no crash.
cp "$T/s/0003.json" "$T/good3"
head -c 100 "$T/good3" > "$T/s/0003.json"
"$B" --state "$T/s" --no-network --quiet >"$T/log.bad" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "truncated flash: exit status $rc"
grep -q "$T/s/0003.json" "$T/log.bad" || fail "error does not name the file"
printf '\x00\xff garbage' > "$T/s/0003.json"
"$B" --state "$T/s" --no-network --quiet >"$T/log.bad" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "garbage flash: exit status $rc"
grep -q "0003.json.*not valid JSON" "$T/log.bad" || fail "garbage: $(cat "$T/log.bad")"
: > "$T/s/0003.json"
"$B" --state "$T/s" --show 3 >"$T/log.bad" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "empty" "$T/log.bad" || fail "empty flash: $(cat "$T/log.bad")"
cp "$T/good3" "$T/s/0003.json"
# A half-written temp file from a killed amtsim is removed; the committed
# file wins.
head -c 50 "$T/good3" > "$T/s/0003.json.tmp.99999"
start_sim --quiet
[ ! -e "$T/s/0003.json.tmp.99999" ] || fail "stale temp file kept"
[ "$(state_of 3)" = 0 ] || fail "device 3 after repair"
echo "PASS"
