#!/usr/bin/env bash
# Integration test of `amtprov init` with an imported provisioning
# certificate (a PKCS#12 made here with openssl: root, intermediate, leaf
# with serverAuth and the AMT OID) and, when AMTP_TEST_PG is set, with the
# site database on PostgreSQL (a schema of its own): the root hash init
# records is the root's SHA-256, a certificate that breaks a rule is refused
# naming the rule and leaves the site incomplete, a wrong password is
# refused, and the CLI lists devices of a site on PostgreSQL through the API.
set -u

B=${AMTP_BUILD:?AMTP_BUILD must name the build directory}
AMTPROV=$B/src/cli/amtprov
AMTPROVD=$B/src/amtprovd/amtprovd
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
T=$(mktemp -d /tmp/amtp_cli_init.XXXXXX)
PID=
SCHEMA=
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill "$PID"
		wait "$PID" 2>/dev/null
	fi
	if [ -n "$SCHEMA" ] && command -v psql >/dev/null; then
		psql -q "$AMTP_TEST_PG" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1
	fi
	[ -n "${AMTP_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# --- a provisioning chain, as a vendor would sell it ---
cd "$T" || exit 1
cat > ext.cnf <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, 2.16.840.1.113741.1.2.3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_nooid]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
CNF
mk() {	# name subject signer-name|self ext
	openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null || return 1
	if [ "$3" = self ]; then
		openssl x509 -req -in "$1.csr" -signkey "$1.key" -days 30 -sha256 \
			-extfile ext.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
	else
		openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
			-days 30 -sha256 -extfile ext.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
	fi
}
mk root "/CN=Test Vendor Root" self ca && mk inter "/CN=Test Vendor CA" root inter &&
	mk leaf "/CN=prov.corp.example" inter leaf && mk bad "/CN=prov.corp.example" inter leaf_nooid ||
	{ echo "FAIL: openssl could not make the chain"; exit 1; }
printf 'Pkcs12-Pass\n' > p12.pw; chmod 600 p12.pw
cat inter.pem root.pem > chain.pem
openssl pkcs12 -export -inkey leaf.key -in leaf.pem -certfile chain.pem -passout pass:Pkcs12-Pass \
	-keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -out prov.p12 2>/dev/null || fail "pkcs12 good"
openssl pkcs12 -export -inkey bad.key -in bad.pem -certfile chain.pem -passout pass:Pkcs12-Pass \
	-keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -out bad.p12 2>/dev/null || fail "pkcs12 bad"
ROOT_SHA=$(openssl x509 -in root.pem -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)

# --- import: good ---
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18777)
DB=()
if [ -n "${AMTP_TEST_PG:-}" ]; then
	SCHEMA=t_cli_init_$$
	case $AMTP_TEST_PG in *\?*) URI="$AMTP_TEST_PG&schema=$SCHEMA" ;; *) URI="$AMTP_TEST_PG?schema=$SCHEMA" ;; esac
	DB=(--database "$URI")
fi
"$AMTPROV" init --dir "$T/site" --domain corp.example --p12 prov.p12 --p12-password-file p12.pw \
	--listen 127.0.0.1:$PORT --roles site "${DB[@]}" --json > init.json 2> init.err ||
	{ cat init.err; fail "init --p12"; }
[ "$(tr -d '\n' < "$T/site/prov-root.sha256")" = "$ROOT_SHA" ] &&
	ok "imported: prov-root.sha256 is the root's SHA-256" || fail "root hash: $(cat "$T/site/prov-root.sha256") vs $ROOT_SHA"
grep -q "\"provisioning_root_sha256\":\"$ROOT_SHA\"" init.json && grep -q '"lab":false' init.json &&
	ok "init --json" || fail "init --json: $(cat init.json)"
if [ -n "$SCHEMA" ]; then
	pw=$(printf '%s' "$AMTP_TEST_PG" | sed -n 's#^[a-z]*://[^:/@]*:\([^@]*\)@.*#\1#p')
	if [ -n "$pw" ]; then
		grep -q ':\*\*\*@' init.json && ! grep -qF ":$pw@" init.json &&
			ok "the database password is not printed" || fail "database password printed: $(cat init.json)"
		[ "$(stat -c %a "$T/site/amtprovd.conf")" = 600 ] &&
			ok "amtprovd.conf holding the database password is mode 0600" ||
			fail "amtprovd.conf with a database password: mode $(stat -c %a "$T/site/amtprovd.conf")"
	fi
fi
[ ! -e "$T/site/lab-root.pem" ] && ok "no lab root for an imported certificate" || fail "lab root made"
openssl verify -CAfile root.pem -untrusted "$T/site/prov-chain.pem" leaf.pem >/dev/null 2>&1 ||
	fail "prov-chain.pem does not hold the chain"
"$AMTPROVD" -c "$T/site/amtprovd.conf" --check-config >/dev/null || fail "check-config"

# --- import: refused ---
"$AMTPROV" init --dir "$T/bad" --domain corp.example --p12 bad.p12 --p12-password-file p12.pw > /dev/null 2> bad.err
rc=$?
[ $rc = 1 ] && grep -qi "OID" bad.err && grep -q "incomplete: remove" bad.err &&
	ok "a certificate without the AMT OID is refused, naming the rule" || fail "bad p12: exit $rc: $(cat bad.err)"
printf 'wrong\n' > wrong.pw; chmod 600 wrong.pw
"$AMTPROV" init --dir "$T/bad2" --domain corp.example --p12 prov.p12 --p12-password-file wrong.pw > /dev/null 2> bad2.err
[ $? = 1 ] && ok "wrong PKCS#12 password refused: $(head -1 bad2.err)" || fail "wrong password accepted"
"$AMTPROV" init --dir "$T/bad3" --domain other.example --p12 prov.p12 --p12-password-file p12.pw > /dev/null 2> bad3.err
[ $? = 1 ] && ok "CN outside the site's domain refused: $(head -1 bad3.err)" || fail "wrong domain accepted"

# --- the site on its database, through the API ---
"$AMTPROVD" -c "$T/site/amtprovd.conf" > daemon.log 2>&1 &
PID=$!
for _ in $(seq 1 100); do
	grep -q "serving https" daemon.log && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
grep -q "serving https" daemon.log || { cat daemon.log; echo "FAIL: amtprovd"; exit 1; }
"$AMTPROV" --dir "$T/site" audit > audit.txt && grep -q "amtprov:init  *site.init" audit.txt &&
	ok "CLI reads the site's audit log ($([ -n "$SCHEMA" ] && echo "PostgreSQL schema $SCHEMA" || echo SQLite))" ||
	fail "audit: $(cat audit.txt)"
"$AMTPROV" --dir "$T/site" devices --json | grep -q '"total":0' && ok "devices on an empty site" || fail "devices"
[ $fails = 0 ] && echo PASS || { echo "$fails failure(s)"; exit 1; }
