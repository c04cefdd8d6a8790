#!/usr/bin/env bash
# Integration: the lab provisioning chain made by the enrollment point
# (amtp_ca_make_lab_provisioning_chain) passes every rule of the simulator's
# TLS setup session.  amtsim trusts the printed lab-root.sha256; curl
# presents prov-chain.pem and its key.  A device whose DNS suffix is the
# domain or a subdomain of it accepts the session (401 without credentials,
# 200 with Digest admin); a device in another domain refuses it
# (CN_OUTSIDE_SUFFIX), and the leaf without its intermediate is refused
# (CHAIN_INCOMPLETE).
set -u
SRC=${AMTP_SRC:?}
BUILD=${AMTP_BUILD:?}
SIM=$BUILD/src/amtsim/amtsim
DRV=$BUILD/unit_amtprovd_ca_import
REQ=$SRC/tests/fixtures/simnet/requests/01_AMT_GeneralSettings_Get.xml
[ -x "$SIM" ] || { echo "FAIL: $SIM not built"; exit 1; }
[ -x "$DRV" ] || { echo "FAIL: $DRV not built"; exit 1; }
[ -f "$REQ" ] || { echo "SKIP: $REQ missing"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

T=$(mktemp -d /tmp/amtp-calab-XXXXXX)
PID=
cleanup() {
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/log" ] && tail -20 "$T/log"; exit 1; }

DOMAIN=fleet.example.test
mkdir "$T/site"
HEX=$("$DRV" lab "$T/site" "$DOMAIN") || fail "lab chain"
[ "$(cat "$T/site/lab-root.sha256")" = "$HEX" ] || fail "printed hash differs from the file"
[ "$(openssl x509 -in "$T/site/lab-root.pem" -noout -fingerprint -sha256 |
    sed 's/.*=//; s/://g' | tr A-F a-f)" = "$HEX" ] || fail "hash is not the root's SHA-256"

# Three devices: the domain, a subdomain, another domain.
NET=127.20.$(( ($$ % 200) + 30 ))
S=$T/state
"$SIM" --state "$S" --devices 3 --address "$NET.1" --dns-suffix "$DOMAIN" \
    --trust-root "$T/site/lab-root.sha256" --create-only --no-fsync >/dev/null 2>&1 ||
	fail "amtsim create"
python3 - "$S" <<'PY' || fail "flash edit"
import json, sys
for i, suffix in ((2, "site7.fleet.example.test"), (3, "other.example.test")):
    p = "%s/%04d.json" % (sys.argv[1], i)
    d = json.load(open(p))
    d["dns"]["pki_suffix"] = suffix
    d["dns"]["dhcp_suffix"] = suffix
    json.dump(d, open(p, "w"))
PY
"$SIM" --state "$S" --no-fsync --keypool 0 -v >"$T/log" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "amtsim: ready" "$T/log" && break; sleep 0.1; done
grep -q "amtsim: ready" "$T/log" || fail "amtsim did not start"
for i in 1 2 3; do
	"$SIM" hostcmd "unix:$S/000$i.mei" set-otp Otp-Test-0123456 >/dev/null ||
		fail "set-otp $i"
	"$SIM" hostcmd "unix:$S/000$i.mei" start-configuration >/dev/null ||
		fail "start-configuration $i"
done
sleep 0.3

post() {	# post ADDR CHAIN [curl args...] -> HTTP code (000: no TLS session)
	local addr=$1 chain=$2; shift 2
	curl -sk -o /dev/null -w '%{http_code}' --max-time 10 --cert "$chain" \
	    --key "$T/site/prov-key.pem" "$@" "https://$addr:16993/wsman" \
	    --data-binary @"$REQ"
}
CHAIN=$T/site/prov-chain.pem
for dev in 1 2; do
	code=$(post "$NET.$dev" "$CHAIN")
	[ "$code" = 401 ] || fail "device $dev: setup session without credentials: $code"
	code=$(post "$NET.$dev" "$CHAIN" --digest -u admin:)
	[ "$code" = 200 ] || fail "device $dev: setup session with Digest: $code"
done
echo "ok: lab chain accepted by devices in $DOMAIN and in a subdomain"

code=$(post "$NET.3" "$CHAIN")
[ "$code" = 000 ] || fail "device in another domain answered $code"
sleep 0.2
grep -q "refused: CN_OUTSIDE_SUFFIX" "$T/log" || fail "no CN_OUTSIDE_SUFFIX in the log"
echo "ok: a device in another domain refuses it (CN_OUTSIDE_SUFFIX)"

awk 'BEGIN{c=0} /BEGIN CERT/{c++} c==1' "$CHAIN" > "$T/leaf.pem"
code=$(post "$NET.1" "$T/leaf.pem")
[ "$code" = 000 ] || fail "leaf alone answered $code"
sleep 0.2
grep -q "refused: CHAIN_INCOMPLETE" "$T/log" || fail "no CHAIN_INCOMPLETE in the log"
echo "ok: the leaf without its chain is refused (CHAIN_INCOMPLETE)"
echo "PASS"
