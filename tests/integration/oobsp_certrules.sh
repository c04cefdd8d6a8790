#!/usr/bin/env bash
# The device's provisioning-certificate rules, seen from the service point
# (amtsim applies them on the TLS setup session): a chain whose root is in
# the device's firmware but whose leaf has neither the AMT OID nor the
# Intel OU (NO_AMT_OID), and a chain presented without its root
# (CHAIN_INCOMPLETE).  Each job fails at connect with the TLS refusal and
# writes nothing; a correct chain from the same root then provisions the
# device.  (ROOT_NOT_TRUSTED and CN_OUTSIDE_SUFFIX: oobsp_faults.sh.)
set -u
B=${AMTP_BUILD:?}
SIM=$B/src/amtsim/amtsim
FLEET=$B/bench_oobsp_fleet
T=$(mktemp -d /tmp/oobsp_cr.XXXXXX)
SIMPID=
cleanup() {
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

DOMAIN=fleet.example.test
NET=127.27.$((RANDOM % 200 + 20))
cd "$T" || fail "tmp"
# a test PKI: root, intermediate, leaves
cat > ext.cnf <<CNF
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf_oid]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth, 2.16.840.1.113741.1.2.3
[leaf_nooid]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
CNF
openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 30 \
	-subj "/CN=oobsp test root" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || fail "root"
openssl req -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr -subj "/CN=oobsp test CA" 2>/dev/null &&
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial -out inter.pem \
	-days 30 -extfile ext.cnf -extensions ca 2>/dev/null || fail "intermediate"
for kind in oid nooid; do
	openssl req -newkey rsa:2048 -nodes -keyout leaf_$kind.key -out leaf_$kind.csr \
		-subj "/CN=prov.$DOMAIN" 2>/dev/null &&
	openssl x509 -req -in leaf_$kind.csr -CA inter.pem -CAkey inter.key -CAcreateserial \
		-out leaf_$kind.pem -days 30 -extfile ext.cnf -extensions leaf_$kind 2>/dev/null ||
		fail "leaf $kind"
done
cat leaf_nooid.pem inter.pem root.pem > chain_nooid.pem
cat leaf_oid.pem inter.pem > chain_noroot.pem
cat leaf_oid.pem inter.pem root.pem > chain_ok.pem
openssl x509 -in root.pem -outform DER | sha256sum | cut -c1-64 > root.sha256

mkdir -p site
"$FLEET" init site $DOMAIN > /dev/null || fail "site init"
"$SIM" --state sim --devices 3 --address $NET.1 --pki-dns-suffix $DOMAIN \
	--trust-root root.sha256 --no-fsync --quiet > sim.log 2>&1 &
SIMPID=$!
for i in $(seq 1 50); do grep -q ready sim.log 2>/dev/null && break; sleep 0.1; done
for i in 1 2 3; do
	"$SIM" hostcmd unix:sim/000$i.mei set-otp "OTP-certrules-00000-$i" > /dev/null &&
	"$SIM" hostcmd unix:sim/000$i.mei start-configuration-ex 0 > /dev/null || fail "activate $i"
done
# serve_one DEV CHAIN KEY
serve_one() {
	"$FLEET" enqueue site $DOMAIN 1 $NET.$1 OTP-certrules-00000- $1 || fail "enqueue $1"
	OOBSP_PROV_CHAIN=$2 OOBSP_PROV_KEY=$3 timeout 60 "$FLEET" serve site 4 \
		>> serve.out 2>> serve.err || fail "serve $1"
}
serve_one 1 chain_nooid.pem leaf_nooid.key
serve_one 2 chain_noroot.pem leaf_oid.key
serve_one 3 chain_ok.pem leaf_oid.key
"$FLEET" status site > status
grep -q "^1 1 failed 1 connect: the device refused the provisioning TLS session" status ||
	{ cat status; fail "job 1"; }
grep -q "^2 2 failed 1 connect: the device refused the provisioning TLS session" status ||
	{ cat status; fail "job 2"; }
grep -q "^3 3 done " status || { cat status; fail "job 3 with the correct chain"; }
grep -q "NO_AMT_OID" sim.log || { cat sim.log; fail "amtsim did not name NO_AMT_OID"; }
grep -q "CHAIN_INCOMPLETE" sim.log || { cat sim.log; fail "amtsim did not name CHAIN_INCOMPLETE"; }
for i in 1 2; do
	"$SIM" --state sim --show $i --json | python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d["provisioning"]["state"]=="in", d["provisioning"]
' || fail "device $i changed"
done
echo "oobsp_certrules: ok"
exit 0
