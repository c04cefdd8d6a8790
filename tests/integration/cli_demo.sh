#!/usr/bin/env bash
# Integration test of the fleet demo (scripts/fleet-demo.sh) on this build,
# with a small fleet: 8 devices, two of them planted failures.  The demo
# must exit 0 (every other device provisioned, both planted ones failed for
# their planted reason, explained), leave no process running, and keep the
# site, whose database agrees with what it printed.
set -u

B=${AMTP_BUILD:?AMTP_BUILD must name the build directory}
S=${AMTP_SRC:?AMTP_SRC must name the source directory}
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
T=$(mktemp -d /tmp/amtp_cli_demo.XXXXXX)
cleanup() {
	[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	if [ -n "${AMTP_KEEP:-}" ]; then echo "kept $T"; else
		rm -rf "$T"
		[ -n "$DEMO_ID" ] && rm -rf "/tmp/amtprov-demo.$DEMO_ID"
	fi
}
DEMO_ID=
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# an address range of our own (other tests use 127.20-22)
ADDR=127.23.$(( $$ % 250 )).1
AMTP_DEMO_BUILD=$B bash "$S/scripts/fleet-demo.sh" --devices 8 --parallel 4 \
	--address "$ADDR" --timeout 240 > "$T/out" 2>&1
rc=$?
DEMO_ID=$(grep -o '/tmp/amtprov-demo\.[A-Za-z0-9]*' "$T/out" | head -1 | cut -d. -f2)
if [ $rc = 3 ]; then cat "$T/out"; echo "SKIP: a part is not built"; exit 77; fi
[ $rc = 0 ] && ok "demo exit 0" || { cat "$T/out"; fail "demo exit $rc"; }
grep -q "ok: all 6 expected devices provisioned" "$T/out" && ok "6 devices provisioned" || fail "not all provisioned"
grep -q "ok: pc0007 (device [0-9]*) failed as planted (wrong OTP)" "$T/out" && ok "wrong OTP planted and refused" || fail "wrong OTP"
grep -q "ok: pc0008 (device [0-9]*) failed as planted (firmware does not trust the lab root)" "$T/out" &&
	ok "untrusted root planted and refused" || fail "untrusted root"
grep -q "why: root hash not in firmware" "$T/out" && grep -q "why: the OTP in the firmware is not the one" "$T/out" &&
	ok "both failures explained" || fail "explanations missing"
grep -q "^summary after" "$T/out" || fail "no summary"
# not a terminal: plain progress lines
grep -Eq '^\[[#.]+\] [0-9]+/8 ' "$T/out" && ok "plain progress lines" || fail "progress lines"
# nothing left running
SITE=/tmp/amtprov-demo.$DEMO_ID/site
if pgrep -f "amtprov-demo.$DEMO_ID" >/dev/null; then
	fail "processes left: $(pgrep -af "amtprov-demo.$DEMO_ID")"
else
	ok "no process left"
fi
python3 - "$SITE/site.db" <<'PY' && ok "database: 6 provisioned, 2 failed jobs" || fail "database disagrees"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
st = dict(db.execute("select status, count(*) from devices group by status").fetchall())
jobs = dict(db.execute("select state, count(*) from jobs group by state").fetchall())
assert st.get("provisioned") == 6 and jobs.get("failed") == 2, (st, jobs)
PY
# the inspect commands it printed work once the site runs again
PID=
start=$(grep -o "^   [^ ]*/amtprovd -c [^ ]*/amtprovd.conf" "$T/out" | head -1)
if [ -n "$start" ]; then
	$start > "$T/daemon.log" 2>&1 &
	PID=$!
	for _ in $(seq 1 100); do grep -q "serving https" "$T/daemon.log" && break; sleep 0.1; done
	A=("$B/src/cli/amtprov" --dir "$SITE")
	[ "$("${A[@]}" devices --failed --names | sort | tr '\n' ' ')" = "pc0007 pc0008 " ] &&
		ok "devices --failed: the two planted ones" || fail "devices --failed: $("${A[@]}" devices --failed; "${A[@]}" jobs)"
	ID7=$("${A[@]}" devices --brief --search pc0007 | awk '$2 == "pc0007" {print $1}')
	"${A[@]}" device show "$ID7" | grep -q "why: the OTP in the firmware" &&
		ok "device show explains the wrong OTP" || fail "device show $ID7"
	ID1=$("${A[@]}" devices --brief --search pc0001 | awk '$2 == "pc0001" {print $1}')
	pw=$("${A[@]}" device password "$ID1" --reveal --reason test 2>/dev/null)
	[ ${#pw} -ge 8 ] && ok "the admin password of a provisioned device is revealed" || fail "reveal: [$pw]"
	kill "$PID"; wait "$PID" 2>/dev/null
else
	fail "no start command printed"
fi
[ $fails = 0 ] && echo PASS || { echo "$fails failure(s)"; exit 1; }
