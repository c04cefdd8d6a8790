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
cleanup() { [ -n "${AMTP_KEEP:-}" ] && echo "kept $T" || rm -rf "$T" /tmp/amtprov-demo."$DEMO_ID"; }
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
[ $fails = 0 ] && echo PASS || { echo "$fails failure(s)"; exit 1; }
