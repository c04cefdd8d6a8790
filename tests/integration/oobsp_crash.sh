#!/usr/bin/env bash
# Crash test: a fleet run against amtsim (real TLS, real Digest) while the
# service point is killed with SIGKILL at 30 random moments and restarted
# each time (leases of 1 s, so the restarted one takes the jobs over).  At
# the end every device is POST and every escrowed admin password works
# (independent curl --digest over the issued certificate).
set -u
B=${AMTP_BUILD:?}
SIM=$B/src/amtsim/amtsim
FLEET=$B/bench_oobsp_fleet
T=$(mktemp -d /tmp/oobsp_crash.XXXXXX)
SIMPID= SPPID=
cleanup() {
	[ -n "$SPPID" ] && kill -9 "$SPPID" 2>/dev/null && wait "$SPPID" 2>/dev/null
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

DOMAIN=fleet.example.test
NET=127.24.$((RANDOM % 200 + 20))
N=${OOBSP_CRASH_DEVICES:-12}
KILLS=${OOBSP_CRASH_KILLS:-30}
export OOBSP_LEASE=1

mkdir -p "$T/site"
"$FLEET" init "$T/site" $DOMAIN > /dev/null || fail "site init"
"$SIM" --state "$T/sim" --devices $N --address $NET.1 --pki-dns-suffix $DOMAIN \
	--trust-root "$T/site/lab-root.sha256" --no-fsync --quiet > "$T/sim.log" 2>&1 &
SIMPID=$!
for i in $(seq 1 50); do grep -q ready "$T/sim.log" 2>/dev/null && break; sleep 0.1; done
for i in $(seq 1 $N); do
	m=unix:$T/sim/$(printf %04d $i).mei
	"$SIM" hostcmd "$m" set-otp "OTP-crash-test-00000-$i" > /dev/null || fail "set-otp"
	"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || fail "start"
done
"$FLEET" enqueue "$T/site" $DOMAIN $N $NET.1 OTP-crash-test-00000- || fail "enqueue"

killed=0
while [ $killed -lt $KILLS ]; do
	"$FLEET" serve "$T/site" 8 >> "$T/serve.out" 2>> "$T/serve.err" &
	SPPID=$!
	# 50..650 ms into the run
	sleep "0.$(printf %03d $((RANDOM % 600 + 50)))"
	if kill -9 $SPPID 2>/dev/null; then
		killed=$((killed + 1))
	fi
	wait $SPPID 2>/dev/null
	SPPID=
done
timeout 90 "$FLEET" serve "$T/site" 8 >> "$T/serve.out" 2>> "$T/serve.err" ||
	{ tail -20 "$T/serve.err"; fail "final serve"; }
"$FLEET" status "$T/site" > "$T/status" || { cat "$T/status"; fail "not every job is done"; }

envelope='<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:To>/wsman</a:To><w:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings</w:ResourceURI><a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout></Header><Body/></Envelope>'
for i in $(seq 1 $N); do
	"$SIM" --state "$T/sim" --show $i --json | python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d["provisioning"]["state"]=="post", d["provisioning"]
' || fail "device $i is not POST"
	PW=$("$FLEET" password "$T/site" $i) || fail "no escrowed password for $i"
	code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u "admin:$PW" \
		--cacert "$T/site/ca-chain.pem" --resolve pc$i.$DOMAIN:16993:$NET.$i \
		-H 'Content-Type: application/soap+xml;charset=UTF-8' \
		--data-binary "$envelope" https://pc$i.$DOMAIN:16993/wsman)
	[ "$code" = 200 ] || fail "device $i: the escrowed admin password gets $code"
done
attempts=$(awk '{s += $4} END {print s}' "$T/status")
echo "oobsp_crash: ok ($N devices, $killed kills, $attempts claims)"
exit 0
