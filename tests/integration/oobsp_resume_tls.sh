#!/usr/bin/env bash
# Resume test (found by oobsp_crash.sh): the service point stops right after
# binding the device's TLS certificate (AMT_TLSCredentialContext Create,
# request 13) before the step log holding tls-certificate's end is
# committed.  The next attempt runs tls-certificate again: it sees the step
# was tried, finds on the device the certificate this site issued for it
# and keeps it (before 2026-11-28 it made a second key and certificate that
# stayed unused), and tls-enable finds the context bound to it (AMT keeps
# one context: Create would answer AlreadyExists).
# Checked against amtsim over real TLS and Digest, then with an independent
# curl --digest over the certificate the device presents.
set -u
B=${AMTP_BUILD:?}
SIM=$B/src/amtsim/amtsim
FLEET=$B/bench_oobsp_fleet
T=$(mktemp -d /tmp/oobsp_resume_tls.XXXXXX)
SIMPID=
cleanup() {
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/serve.err" ] && tail -20 "$T/serve.err"; exit 1; }

DOMAIN=fleet.example.test
NET=127.23.$((RANDOM % 200 + 20))
export OOBSP_LEASE=1

mkdir -p "$T/site"
"$FLEET" init "$T/site" $DOMAIN > /dev/null || fail "site init"
"$SIM" --state "$T/sim" --devices 1 --address $NET.1 --pki-dns-suffix $DOMAIN \
	--trust-root "$T/site/lab-root.sha256" --no-fsync --quiet > "$T/sim.log" 2>&1 &
SIMPID=$!
for i in $(seq 1 50); do grep -q ready "$T/sim.log" 2>/dev/null && break; sleep 0.1; done
m=unix:$T/sim/0001.mei
"$SIM" hostcmd "$m" set-otp "OTP-resume-tls-000000-1" > /dev/null || fail "set-otp"
"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || fail "start"
"$FLEET" enqueue "$T/site" $DOMAIN 1 $NET.1 OTP-resume-tls-000000- || fail "enqueue"

# first attempt: stops after the Create of the TLS context; the log's
# rows since the first turn are lost with it
OOBSP_DIE_AFTER=13 OOBSP_LOG_FLUSH_MS=600000 "$FLEET" serve "$T/site" 1 \
	> "$T/serve.out" 2> "$T/serve.err" && fail "the first attempt did not stop"
dev_json() { "$SIM" --state "$T/sim" --show 1 --json; }
python3 - "$(dev_json)" <<'PY' || fail "after the stop: not one bound certificate in IN state"
import json, sys
d = json.loads(sys.argv[1])
assert d["provisioning"]["state"] == "in", d["provisioning"]
n = d["sections"]["net"]
assert len([c for c in n.get("certs", []) if not c.get("root")]) == 1, n.get("certs")
assert n.get("tlsctx", {}).get("cert", -1) >= 0, n.get("tlsctx")
PY
sleep 1.5	# the lease runs out
OOBSP_DEBUG=1 timeout 60 "$FLEET" serve "$T/site" 1 >> "$T/serve.out" 2>> "$T/serve.err" ||
	fail "second attempt"
"$FLEET" status "$T/site" > "$T/status" || { cat "$T/status"; fail "the job is not done"; }
grep -q "tls-certificate: .*added as .* by an earlier attempt: kept" "$T/serve.err" ||
	fail "the earlier attempt's certificate was not found and kept"
python3 - "$(dev_json)" <<'PY' || fail "after the resume"
import json, sys
d = json.loads(sys.argv[1])
assert d["provisioning"]["state"] == "post", d["provisioning"]
n = d["sections"]["net"]
certs = [c for c in n.get("certs", []) if not c.get("root")]
assert len(certs) == 1, certs          # no second, unused one
assert n["tlsctx"]["cert"] == certs[0]["handle"], n["tlsctx"]
PY
# independently: the escrowed admin password over the certificate the
# device presents, verified against the site CA
envelope='<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:To>/wsman</a:To><w:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings</w:ResourceURI><a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout></Header><Body/></Envelope>'
PW=$("$FLEET" password "$T/site" 1) || fail "no escrowed password"
code=$(curl -s -o "$T/gs.xml" -w '%{http_code}' --digest -u "admin:$PW" \
	--cacert "$T/site/ca-chain.pem" --resolve pc1.$DOMAIN:16993:$NET.1 \
	-H 'Content-Type: application/soap+xml;charset=UTF-8' \
	--data-binary "$envelope" https://pc1.$DOMAIN:16993/wsman)
[ "$code" = 200 ] || fail "the escrowed admin password gets $code"
grep -q "<g:HostName>pc1</g:HostName>" "$T/gs.xml" || fail "host name not set"
echo "oobsp_resume_tls: ok"
exit 0
