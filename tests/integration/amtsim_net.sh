#!/bin/bash
# amtsim network side with real third-party clients (openssl s_client,
# curl): the TLS-PKI setup session is accepted with a good provisioning
# chain and refused, each with its own reason (log and audit state), for
# every rule of spec 3.1/3.2; Digest gives 401 without credentials and 200
# with them; 16992 stays closed during setup.
set -u
B=${AMTP_BUILD:?}/src/amtsim/amtsim
F=${AMTP_SRC:?}/tests/fixtures/simnet
T=$(mktemp -d /tmp/amtsim_net.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- log"; tail -30 "$T/log"; exit 1; }

# A private 127.20.X.0/24 for this run (other tests may use the ports).
NET=127.20.$(( ($$ % 200) + 30 ))
S=$T/state
"$B" --state "$S" --devices 3 --address "$NET.1" --dns-suffix corp.example \
    --trust-root "$F/roots.sha256" --create-only --no-fsync >/dev/null 2>&1 ||
	fail "create"
# Device 2: the test root's hash is in the table but not active.
python3 - "$S/0002.json" <<'EOF' || fail "flash edit"
import json, sys
p = sys.argv[1]; d = json.load(open(p))
for h in d["hashes"]:
    if h["name"] == "amtprov-test-root":
        h["active"] = False
json.dump(d, open(p, "w"))
EOF
"$B" --state "$S" --no-fsync --keypool 0 --preauth-timeout 4000 -v >"$T/log" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "amtsim: ready" "$T/log" && break; sleep 0.1; done
grep -q "amtsim: ready" "$T/log" || fail "amtsim did not start"
for i in 1 2; do
	"$B" hostcmd "unix:$S/000$i.mei" set-otp Otp-Test-0123456 >/dev/null ||
		fail "set-otp $i"
	"$B" hostcmd "unix:$S/000$i.mei" start-configuration >/dev/null ||
		fail "start-configuration $i"
done
sleep 0.3

# split NAME: leaf into $T/NAME.leaf, the rest into $T/NAME.rest
split() {
	awk -v l="$T/$1.leaf" -v r="$T/$1.rest" 'BEGIN{c=0}
	    /BEGIN CERT/{c++} {print > (c==1 ? l : r)}' "$F/$1.pem"
}

# refused ADDR REASON [CHAIN]: s_client sees an alert, the log the reason
refused() {
	local addr=$1 reason=$2 chain=${3:-} out n
	n=$(grep -c "refused: $reason:" "$T/log")
	if [ -n "$chain" ]; then
		split "$chain"
		out=$(echo | timeout 10 openssl s_client -tls1_2 -connect \
		    "$addr:16993" -cert "$T/$chain.leaf" -key "$F/leaf.key" \
		    -cert_chain "$T/$chain.rest" 2>&1)
	else
		out=$(echo | timeout 10 openssl s_client -tls1_2 -connect \
		    "$addr:16993" 2>&1)
	fi
	echo "$out" | grep -q "alert" || fail "$reason: no TLS alert: $out"
	sleep 0.2
	[ "$(grep -c "refused: $reason:" "$T/log")" -gt "$n" ] ||
		fail "$reason: not in the log"
	# TLS 1.3 as well: the session must not get as far as HTTP.
	if [ -n "$chain" ]; then
		cat "$T/$chain.leaf" "$T/$chain.rest" > "$T/$chain.full"
		code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 \
		    --tlsv1.3 --cert "$T/$chain.full" --key "$F/leaf.key" \
		    --digest -u admin: "https://$addr:16993/wsman" -d x)
		[ "$code" = 000 ] || fail "$reason: TLS 1.3 got HTTP $code"
	fi
}

refused "$NET.1" NO_CERT
refused "$NET.1" ROOT_NOT_TRUSTED other-root
refused "$NET.2" ROOT_INACTIVE good
refused "$NET.1" NO_AMT_OID no-oid
refused "$NET.1" CN_OUTSIDE_SUFFIX bad-cn
refused "$NET.1" EXPIRED expired
refused "$NET.1" CHAIN_INCOMPLETE incomplete

# The audit state names the last refusal (written within a second).
sleep 1.2
"$B" --state "$S" --show 1 --json > "$T/show.json" 2>/dev/null ||
	fail "--show"
python3 - "$T/show.json" <<'EOF' || fail "audit state"
import json, sys
d = json.load(open(sys.argv[1]))
a = d["sections"]["net"]["audit"]
assert a["last_setup_session"]["reason"] == "CHAIN_INCOMPLETE", a
assert a["setup_sessions"]["EXPIRED"] >= 2, a
EOF

# A good chain (OID in EKU, then OU instead), TLS 1.2 and 1.3.
REQ=$F/requests/01_AMT_GeneralSettings_Get.xml
for chain in good good-ou; do
	split "$chain"
	cat "$T/$chain.leaf" "$T/$chain.rest" > "$T/$chain.full"
	for v in --tlsv1.2 --tlsv1.3; do
		code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 \
		    $v --tls-max ${v#--tlsv} --cert "$T/$chain.full" \
		    --key "$F/leaf.key" "https://$NET.1:16993/wsman" \
		    --data-binary @"$REQ")
		[ "$code" = 401 ] || fail "$chain $v: no credentials: $code"
		code=$(curl -sk -o "$T/body" -w '%{http_code}' --max-time 10 \
		    $v --tls-max ${v#--tlsv} --cert "$T/$chain.full" \
		    --key "$F/leaf.key" --digest -u admin: \
		    "https://$NET.1:16993/wsman" --data-binary @"$REQ")
		[ "$code" = 200 ] || fail "$chain $v: with credentials: $code"
		grep -q "<g:DigestRealm>Digest:" "$T/body" ||
			fail "$chain $v: body"
	done
done
grep -q "setup session from 127.0.0.1 accepted" "$T/log" || fail "accepted"

# TLS 1.2 with the RSA key-exchange AES suites older AMT clients offer.
for c in AES128-SHA AES256-SHA AES128-SHA256 AES256-SHA256 AES128-GCM-SHA256; do
	out=$(echo | timeout 10 openssl s_client -tls1_2 -cipher "$c" \
	    -connect "$NET.1:16993" -cert "$T/good.leaf" -key "$F/leaf.key" \
	    -cert_chain "$T/good.rest" 2>&1)
	echo "$out" | grep -q "Cipher is $c" || fail "cipher $c"
done

# A wrong password gets 401; the MEBx password ("admin") is accepted.
code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 \
    --cert "$T/good.full" --key "$F/leaf.key" --digest -u admin:wrong \
    "https://$NET.1:16993/wsman" --data-binary @"$REQ")
[ "$code" = 401 ] || fail "wrong password: $code"
code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 \
    --cert "$T/good.full" --key "$F/leaf.key" --digest -u admin:admin \
    "https://$NET.1:16993/wsman" --data-binary @"$REQ")
[ "$code" = 200 ] || fail "MEBx password: $code"

# 16992 is closed during the setup session; device 3 (PRE) not listening.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    "http://$NET.1:16992/wsman" -d x)
[ "$code" = 000 ] || fail "16992 answered in IN: $code"
code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 \
    "https://$NET.3:16993/wsman" -d x)
[ "$code" = 000 ] || fail "a PRE device answered: $code"

# Slow loris: a connection that completes TLS and then sends nothing is
# closed --preauth-timeout (here 4 s) later.
t0=$(date +%s)
timeout 25 openssl s_client -quiet -connect "$NET.1:16993" \
    -cert "$T/good.leaf" -key "$F/leaf.key" -cert_chain "$T/good.rest" \
    >/dev/null 2>&1 < <(sleep 30)
t1=$(date +%s)
[ $((t1 - t0)) -ge 3 ] && [ $((t1 - t0)) -le 7 ] ||
	fail "idle unauthenticated connection lived $((t1 - t0)) s"

# Faults: a malformed answer to GeneralSettings.Get, then a reset on the
# second authenticated request of a connection.
kill "$PID"; wait "$PID" 2>/dev/null
"$B" --state "$S" --no-fsync --faults \
    "fail=AMT_GeneralSettings.Get,malformed,count=1,reset-after=2,keygen=800,device=1" \
    >"$T/log" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "amtsim: ready" "$T/log" && break; sleep 0.1; done
# Two requests on one connection (--next keeps it); curl retries the
# reset one once on a new connection, as clients do.
curl -skv --max-time 10 --cert "$T/good.full" --key "$F/leaf.key" \
    --digest -u admin: "https://$NET.1:16993/wsman" --data-binary @"$REQ" \
    -o "$T/m1" --next -sk --cert "$T/good.full" --key "$F/leaf.key" \
    --digest -u admin: "https://$NET.1:16993/wsman" --data-binary @"$REQ" \
    -o "$T/m2" 2>"$T/curl.err"
grep -q "Connection died, retrying" "$T/curl.err" || fail "no reset seen"
grep -q "<g:DigestRealm>" "$T/m2" || fail "retried request"
[ -s "$T/m1" ] && ! grep -q "</a:Envelope>" "$T/m1" || fail "malformed knob"
python3 -c "import sys,xml.dom.minidom as m; m.parse(sys.argv[1])" \
    "$T/m1" 2>/dev/null && fail "malformed answer parses"
grep -q "fault: connection reset on request 2" "$T/log" || fail "reset log"
# Key generation takes the time the knob says.
t0=$(date +%s%N)
code=$(curl -sk -o "$T/k" -w '%{http_code}' --max-time 20 \
    --cert "$T/good.full" --key "$F/leaf.key" --digest -u admin: \
    "https://$NET.1:16993/wsman" --data-binary \
    @"$F/requests/15_AMT_PublicKeyManagementService_GenerateKeyPair.xml")
t1=$(date +%s%N)
[ "$code" = 200 ] && grep -q "<g:ReturnValue>0<" "$T/k" || fail "GenerateKeyPair"
[ $(( (t1 - t0) / 1000000 )) -ge 800 ] || fail "keygen knob"
echo "ok"
