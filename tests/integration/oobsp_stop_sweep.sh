#!/usr/bin/env bash
# Resume sweep: for stop points K spread over the whole provisioning plan
# (a device needs 28 requests), the service point stops as if killed just
# before request K+1, with its step log not committed since its first
# turn (OOBSP_LOG_FLUSH_MS long: the worst case of the batched log).  A
# second service point takes the job over when the lease runs out and must
# finish it: device POST, the escrowed admin password works (independent
# curl --digest over the device's certificate, verified against the site
# CA).  Each K on a device and site of its own.
#   OOBSP_SWEEP="1 2 3"  the stop points (default: every third, 1 to 25,
#                        and 27: the 28th request is the last, no stop
#                        after it)
set -u
B=${AMTP_BUILD:?}
SIM=$B/src/amtsim/amtsim
FLEET=$B/bench_oobsp_fleet
T=$(mktemp -d /tmp/oobsp_stop_sweep.XXXXXX)
SIMPID=
cleanup() {
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: K=$K: $*"; [ -f "$D/serve.err" ] && tail -15 "$D/serve.err"; exit 1; }

DOMAIN=fleet.example.test
export OOBSP_LEASE=1
envelope='<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:To>/wsman</a:To><w:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings</w:ResourceURI><a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout></Header><Body/></Envelope>'
n=0
for K in ${OOBSP_SWEEP:-1 4 7 10 13 16 19 22 25 27}; do
	D=$T/k$K
	NET=127.21.$((n + 20))
	n=$((n + 1))
	mkdir -p "$D/site"
	"$FLEET" init "$D/site" $DOMAIN > /dev/null || fail "site init"
	"$SIM" --state "$D/sim" --devices 1 --address $NET.1 --pki-dns-suffix $DOMAIN \
		--trust-root "$D/site/lab-root.sha256" --no-fsync --quiet > "$D/sim.log" 2>&1 &
	SIMPID=$!
	for i in $(seq 1 100); do grep -q ready "$D/sim.log" 2>/dev/null && break; sleep 0.1; done
	m=unix:$D/sim/0001.mei
	"$SIM" hostcmd "$m" set-otp "OTP-stop-sweep-000000-1" > /dev/null || fail "set-otp"
	"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || fail "start"
	"$FLEET" enqueue "$D/site" $DOMAIN 1 $NET.1 OTP-stop-sweep-000000- || fail "enqueue"
	OOBSP_DIE_AFTER=$K OOBSP_LOG_FLUSH_MS=600000 "$FLEET" serve "$D/site" 1 \
		> "$D/serve.out" 2> "$D/serve.err" && fail "the first service point did not stop"
	sleep 1.2	# its lease runs out
	timeout 90 "$FLEET" serve "$D/site" 1 >> "$D/serve.out" 2>> "$D/serve.err" ||
		fail "the second service point"
	"$FLEET" status "$D/site" > "$D/status" || fail "not done: $(cat "$D/status")"
	"$SIM" --state "$D/sim" --show 1 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["provisioning"]["state"] == "post", d["provisioning"]
' || fail "the device is not POST"
	PW=$("$FLEET" password "$D/site" 1) || fail "no escrowed admin password"
	code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u "admin:$PW" \
		--cacert "$D/site/ca-chain.pem" --resolve pc1.$DOMAIN:16993:$NET.1 \
		-H 'Content-Type: application/soap+xml;charset=UTF-8' \
		--data-binary "$envelope" https://pc1.$DOMAIN:16993/wsman)
	[ "$code" = 200 ] || fail "the escrowed admin password gets $code"
	kill "$SIMPID" 2>/dev/null
	wait "$SIMPID" 2>/dev/null
	SIMPID=
done
echo "oobsp_stop_sweep: ok ($n stop points)"
exit 0
