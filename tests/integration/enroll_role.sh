#!/usr/bin/env bash
# Integration test of the enrollment point (amtprovd role enroll): a site made
# by `amtprov init --lab`, amtprovd running roles site,enroll, an agent
# registered over HTTPS with curl, then requests through the enroll socket
# with tests/tools/enroll_client (the client API a service point uses):
# a device's CSR gives a certificate that `openssl verify` accepts against
# the site chain and that is recorded in the site database; another name is
# refused with the rule; a generated key comes back with its certificate;
# the chain equals ca-chain.pem; garbage and unpermitted requests drop that
# peer only; another user cannot reach the socket; no key in the log;
# SIGTERM stops the role and removes the socket.
set -u

B=${AMTP_BUILD:?AMTP_BUILD must name the build directory}
AMTPROV=$B/src/cli/amtprov
AMTPROVD=$B/src/amtprovd/amtprovd
EC=$B/tests/tools/enroll_client
for t in curl python3 openssl; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
for x in "$AMTPROV" "$AMTPROVD" "$EC"; do
	[ -x "$x" ] || { echo "FAIL: $x not built"; exit 1; }
done

T=$(mktemp -d /tmp/amtp_enroll_role.XXXXXX)
PID=
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill "$PID"
		wait "$PID" 2>/dev/null
	fi
	[ -n "${AMTP_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
verify() {	# verify CERT PURPOSE
	openssl verify -x509_strict -CAfile "$S/ca-root.pem" -untrusted "$S/ca-inter.pem" \
		-purpose "$2" "$1" >/dev/null 2>&1
}

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
S=$T/site
SOCK=$S/enroll.sock

"$AMTPROV" init --dir "$S" --domain fleet.example.test --lab \
	--listen 127.0.0.1:$PORT --roles site,enroll > "$T/init.out" 2>&1 ||
	{ cat "$T/init.out"; echo "FAIL: init"; exit 1; }
"$AMTPROVD" -c "$S/amtprovd.conf" --check-config >/dev/null || fail "check-config with roles site,enroll"
sed 's/^roles = .*/roles = site,oobsp,enroll/' "$S/amtprovd.conf" > "$T/all.conf"
"$AMTPROVD" -c "$T/all.conf" --check-config >/dev/null && ok "check-config accepts roles site,oobsp,enroll" ||
	fail "check-config with roles site,oobsp,enroll"

"$AMTPROVD" -c "$S/amtprovd.conf" > "$T/daemon.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
	grep -q "serving https" "$T/daemon.log" && grep -q "enrollment point: listening" "$T/daemon.log" && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
grep -q "enrollment point: listening on $SOCK" "$T/daemon.log" ||
	{ cat "$T/daemon.log"; echo "FAIL: the enrollment point did not start"; exit 1; }
ok "amtprovd runs roles site and enroll"
[ -S "$SOCK" ] && [ "$(stat -c %a "$SOCK")" = 600 ] && ok "socket mode 0600" ||
	fail "socket: $(ls -l "$SOCK" 2>&1)"

# --- a device, registered as an agent would ---
ES=$(cat "$S/enrol.secret")
U=https://127.0.0.1:$PORT
curl -sS --cacert "$S/ca-chain.pem" -H "Authorization: Bearer $ES" \
	-H 'Content-Type: application/json' -o "$T/reg" \
	--data-binary '{"hostname":"pc1","smbios_uuid":"4c4c4544-0000-1111-8888-000000000001"}' \
	$U/api/v1/agents/register || fail "register"
"$AMTPROV" --dir "$S" devices --json > "$T/devices.json" || fail "devices"
D1=$(json "$T/devices.json" 'j["devices"][0]["id"]')
[ "$(json "$T/devices.json" 'j["devices"][0]["fqdn"]')" = pc1.fleet.example.test ] ||
	fail "device fqdn: $(cat "$T/devices.json")"

# --- a CSR from the device ---
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/dev.key" -subj /CN=pc1.fleet.example.test \
	-outform DER -out "$T/dev.csr" 2>/dev/null || fail "openssl req"
"$EC" "$SOCK" amt-web-csr "$D1" "$T/dev.csr" "$T/web.pem" > "$T/ec.out" 2>&1
if [ $? = 0 ] && verify "$T/web.pem" sslserver; then
	ok "CSR: certificate verifies against the site chain (sslserver)"
else
	fail "CSR: $(cat "$T/ec.out")"
fi
openssl x509 -in "$T/web.pem" -noout -subject | grep -q 'CN *= *pc1.fleet.example.test' &&
	ok "certificate subject is the device's FQDN" || fail "subject: $(openssl x509 -in "$T/web.pem" -noout -subject)"
[ "$(openssl x509 -in "$T/web.pem" -noout -pubkey | openssl sha256)" = \
  "$(openssl pkey -in "$T/dev.key" -pubout | openssl sha256)" ] &&
	ok "certificate carries the CSR's key" || fail "public key differs"
SERIAL=$(openssl x509 -in "$T/web.pem" -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//')
python3 - "$S/site.db" "$D1" "$SERIAL" <<'PY' && ok "certificate recorded in the site database" || fail "not recorded"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select profile, serial from certificates where device_id=?", (int(sys.argv[2]),)).fetchall()
assert any(p == "amt-web" and s.lstrip("0") == sys.argv[3] for p, s in rows), rows
PY

# --- another device's name: refused with the rule ---
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/x.key" -subj /CN=pc2.fleet.example.test \
	-outform DER -out "$T/x.csr" 2>/dev/null
"$EC" "$SOCK" amt-web-csr "$D1" "$T/x.csr" "$T/x.pem" > "$T/ec.out" 2>&1
st=$?
[ $st = 3 ] && grep -q "refused: CSR_WRONG_SUBJECT" "$T/ec.out" &&
	ok "wrong subject refused: $(cat "$T/ec.out")" || fail "wrong subject: exit $st: $(cat "$T/ec.out")"
[ ! -e "$T/x.pem" ] || fail "a certificate was written for the wrong subject"
"$EC" "$SOCK" amt-web-csr 999999 "$T/dev.csr" "$T/x.pem" > "$T/ec.out" 2>&1
[ $? = 1 ] && grep -q "not found" "$T/ec.out" && ok "unknown device: not found" || fail "unknown device: $(cat "$T/ec.out")"

# --- generated key; 802.1X; chain ---
"$EC" "$SOCK" amt-web-keygen "$D1" "$T/kg.pem" "$T/kg.key" > "$T/ec.out" 2>&1 || fail "keygen: $(cat "$T/ec.out")"
verify "$T/kg.pem" sslserver && [ "$(stat -c %a "$T/kg.key")" = 600 ] &&
	[ "$(openssl x509 -in "$T/kg.pem" -noout -pubkey | openssl sha256)" = \
	  "$(openssl pkey -in "$T/kg.key" -pubout | openssl sha256)" ] &&
	ok "keygen: certificate and its key" || fail "keygen result"
"$EC" "$SOCK" 8021x-csr "$D1" "$T/dev.csr" "$T/x1.pem" > "$T/ec.out" 2>&1 && verify "$T/x1.pem" sslclient &&
	ok "802.1X certificate from the CSR (sslclient)" || fail "802.1X: $(cat "$T/ec.out")"
"$EC" "$SOCK" chain "$T/chain.pem" && cmp -s "$T/chain.pem" "$S/ca-chain.pem" &&
	ok "chain equals ca-chain.pem" || fail "chain differs"

# --- misbehaving peers are dropped; the role goes on ---
out=$("$EC" "$SOCK" bytes efbeadde0500000068656c6c6f)
[ "$out" = dropped ] && ok "garbage frame: dropped" || fail "garbage: $out"
out=$("$EC" "$SOCK" raw 6)
[ "$out" = dropped ] && ok "prov-key request (never permitted): dropped" || fail "prov-key: $out"
out=$("$EC" "$SOCK" raw 7 00)
[ "$out" = dropped ] && ok "an answer type as a request: dropped" || fail "type 7: $out"
out=$("$EC" "$SOCK" raw 5)
case "$out" in "answer 9,"*) ok "still serving after the drops";; *) fail "after drops: $out";; esac
kill -0 "$PID" 2>/dev/null || fail "amtprovd died"
grep -q "unpermitted request prov-key; dropped" "$T/daemon.log" &&
	grep -q "bad framing" "$T/daemon.log" && grep -q "request type 7 not in the table" "$T/daemon.log" &&
	ok "each drop logged with its reason" || fail "drops not logged"

# --- another user cannot reach the socket ---
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	setpriv --reuid 65534 --regid 65534 --clear-groups "$EC" "$SOCK" raw 5 > "$T/nobody.out" 2>&1
	st=$?
	[ $st = 1 ] && grep -q "permission denied" "$T/nobody.out" &&
		ok "uid 65534 is refused: $(cat "$T/nobody.out")" || fail "other user: exit $st: $(cat "$T/nobody.out")"
fi

# --- no key material in the log ---
grep -q "PRIVATE KEY" "$T/daemon.log" && fail "a private key in the log"
grep -qF -- "$(sed -n 2p "$T/kg.key")" "$T/daemon.log" && fail "generated key text in the log"

# --- SIGTERM ---
kill "$PID"
wait "$PID"
st=$?
PID=
[ $st = 0 ] && ok "SIGTERM: exit 0" || fail "exit status $st"
[ ! -e "$SOCK" ] && ok "socket removed" || fail "socket left behind"
grep -q "enrollment point: stopping" "$T/daemon.log" || fail "no stop line"

[ $fails -eq 0 ] && echo "enroll_role: ok"
exit $fails
