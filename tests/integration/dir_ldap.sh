#!/usr/bin/env bash
# Integration: the LDAP directory back end against a real slapd on loopback.
# Starts slapd (mdb, a temp folder, the AD-like test schema of
# tests/fixtures/ldap) on free ports with ldap://, ldaps:// and ldapi://,
# runs the directory unit suite against it with simple bind (plain,
# StartTLS, ldaps) and SASL EXTERNAL, then drives create / create again /
# disable / delete and checks each result with ldapsearch.
set -u
SRC=${AMTP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${AMTP_BUILD:-$SRC/build}
DRIVER=$BUILD/unit_amtprovd_dir
SLAPD=$(command -v slapd || echo /usr/sbin/slapd)
[ -x "$SLAPD" ] || { echo "SKIP: slapd not installed"; exit 77; }
command -v ldapsearch >/dev/null || { echo "SKIP: ldap-utils not installed"; exit 77; }
[ -x "$DRIVER" ] || { echo "FAIL: $DRIVER not built"; exit 1; }

T=$(mktemp -d /tmp/amtp-ldap-XXXXXX)
SLAPD_PID=
cleanup() {
	if [ -n "$SLAPD_PID" ]; then
		kill "$SLAPD_PID" 2>/dev/null
		wait "$SLAPD_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; [ -f "$T/slapd.log" ] && tail -20 "$T/slapd.log"; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
P=$(free_port); PS=$(free_port)
BASE="dc=fleet,dc=example,dc=test"
OU="ou=AMT,$BASE"
ROOTDN="cn=admin,$BASE"
ROOTPW="amtp-test-secret"
IPC="$T/ldapi"
IPC_URL="ldapi://$(printf '%s' "$IPC" | sed 's|/|%2F|g')"
PEERCRED="gidNumber=$(id -g)+uidNumber=$(id -u),cn=peercred,cn=external,cn=auth"

# TLS: a throw-away CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
	-days 2 -subj "/CN=amtp ldap test CA" >/dev/null 2>&1 || fail "CA"
openssl req -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.csr" \
	-subj "/CN=127.0.0.1" >/dev/null 2>&1 || fail "server CSR"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$T/ext.cnf"
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
	-CAcreateserial -days 2 -extfile "$T/ext.cnf" -out "$T/server.pem" \
	>/dev/null 2>&1 || fail "server cert"

mkdir "$T/db"
cat > "$T/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include $SRC/tests/fixtures/ldap/amtp-test.schema
pidfile $T/slapd.pid
argsfile $T/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile $T/ca.pem
TLSCertificateFile $T/server.pem
TLSCertificateKeyFile $T/server.key
database mdb
suffix "$BASE"
rootdn "$ROOTDN"
rootpw $ROOTPW
directory $T/db
maxsize 16777216
access to attrs=userPassword
	by dn.exact="$PEERCRED" write
	by self write
	by anonymous auth
	by * none
access to *
	by dn.exact="$PEERCRED" write
	by * read
CONF
"$SLAPD" -Tt -u -f "$T/slapd.conf" >"$T/slaptest.log" 2>&1 || { cat "$T/slaptest.log"; fail "slapd config"; }
"$SLAPD" -f "$T/slapd.conf" -h "ldap://127.0.0.1:$P/ ldaps://127.0.0.1:$PS/ $IPC_URL" \
	-d 0 >"$T/slapd.log" 2>&1 &
SLAPD_PID=$!
for _ in $(seq 1 100); do
	ldapsearch -x -H "ldap://127.0.0.1:$P" -b "" -s base >/dev/null 2>&1 && break
	kill -0 "$SLAPD_PID" 2>/dev/null || fail "slapd exited"
	sleep 0.1
done
ldapsearch -x -H "ldap://127.0.0.1:$P" -b "" -s base >/dev/null 2>&1 || fail "slapd not up"

LS() { ldapsearch -LLL -o ldif-wrap=no -x -H "ldap://127.0.0.1:$P" -D "$ROOTDN" -w "$ROOTPW" "$@"; }
ldapadd -x -H "ldap://127.0.0.1:$P" -D "$ROOTDN" -w "$ROOTPW" >/dev/null <<LDIF || fail "base entries"
dn: $BASE
objectClass: dcObject
objectClass: organization
dc: fleet
o: fleet

dn: $OU
objectClass: organizationalUnit
ou: AMT
LDIF

# The unit suite against LDAP, in each transport and bind.
run_suite() {
	local what=$1; shift
	local out
	out=$(env "$@" AMTP_TEST_LDAP_CONTAINER="$OU" "$DRIVER" 2>&1)
	local rc=$?
	if [ $rc -ne 0 ] || echo "$out" | grep -q SKIPPED; then
		echo "$out"
		fail "directory suite ($what)"
	fi
	echo "ok: directory suite ($what)"
}
SIMPLE=(AMTP_TEST_LDAP_BIND_DN="$ROOTDN" AMTP_TEST_LDAP_BIND_PW="$ROOTPW")
run_suite "simple bind, ldap://" AMTP_TEST_LDAP_URI="ldap://127.0.0.1:$P" "${SIMPLE[@]}"
run_suite "simple bind, StartTLS" AMTP_TEST_LDAP_URI="ldap://127.0.0.1:$P" \
	AMTP_TEST_LDAP_STARTTLS=1 AMTP_TEST_LDAP_CA="$T/ca.pem" "${SIMPLE[@]}"
run_suite "simple bind, ldaps://" AMTP_TEST_LDAP_URI="ldaps://127.0.0.1:$PS" \
	AMTP_TEST_LDAP_CA="$T/ca.pem" "${SIMPLE[@]}"
run_suite "SASL EXTERNAL, ldapi://" AMTP_TEST_LDAP_URI="$IPC_URL" \
	AMTP_TEST_LDAP_SASL=EXTERNAL

# StartTLS against a CA that did not issue the server certificate fails.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" -out "$T/other.pem" \
	-days 2 -subj "/CN=other CA" >/dev/null 2>&1
if env AMTP_TEST_LDAP_URI="ldap://127.0.0.1:$P" AMTP_TEST_LDAP_STARTTLS=1 \
	AMTP_TEST_LDAP_CA="$T/other.pem" "${SIMPLE[@]}" \
	"$DRIVER" drive create amt-dev9.fleet.example.test >/dev/null 2>&1; then
	fail "StartTLS accepted a server certificate from an unknown CA"
fi
echo "ok: StartTLS with the wrong CA is refused"

# Drive one account and look at it with ldapsearch.
DRV=(env AMTP_TEST_LDAP_URI="ldap://127.0.0.1:$P" AMTP_TEST_LDAP_CONTAINER="$OU" "${SIMPLE[@]}" "$DRIVER" drive)
DN="cn=amt-dev7,$OU"
[ "$("${DRV[@]}" create amt-dev7.fleet.example.test)" = created ] || fail "create"
check_spns() {
	local got
	got=$(LS -b "$DN" -s base servicePrincipalName | grep '^servicePrincipalName:' | sort)
	local want
	want=$(printf '%s\n' \
		"servicePrincipalName: HTTP/amt-dev7.fleet.example.test:16992" \
		"servicePrincipalName: HTTP/amt-dev7.fleet.example.test:16993" \
		"servicePrincipalName: HTTP/amt-dev7:16992" \
		"servicePrincipalName: HTTP/amt-dev7:16993" | sort)
	[ "$got" = "$want" ] || { echo "got: $got"; fail "SPNs ($1)"; }
}
check_spns "after create"
E=$(LS -b "$DN" -s base)
echo "$E" | grep -qx 'sAMAccountName: AMT-DEV7\$' || fail "sAMAccountName"
echo "$E" | grep -qx 'dNSHostName: amt-dev7.fleet.example.test' || fail "dNSHostName"
echo "$E" | grep -qx 'userAccountControl: 4096' || fail "userAccountControl enabled"
echo "$E" | grep -q '^userPassword::' || fail "userPassword"
echo "$E" | grep -qx 'objectClass: computer' || fail "objectClass"
echo "ok: create: entry, SPNs and attributes"

# Idempotent: lose an SPN, create again: one entry, four SPNs.
ldapmodify -x -H "ldap://127.0.0.1:$P" -D "$ROOTDN" -w "$ROOTPW" >/dev/null <<LDIF || fail "ldapmodify"
dn: $DN
changetype: modify
delete: servicePrincipalName
servicePrincipalName: HTTP/amt-dev7:16993
LDIF
[ "$("${DRV[@]}" create amt-dev7.fleet.example.test)" = updated ] || fail "second create"
check_spns "after second create"
[ "$(LS -b "$OU" '(cn=amt-dev7)' dn | grep -c '^dn:')" = 1 ] || fail "one entry"
echo "ok: second create is idempotent"

"${DRV[@]}" disable amt-dev7.fleet.example.test || fail "disable"
LS -b "$DN" -s base userAccountControl | grep -qx 'userAccountControl: 4098' || fail "disabled"
echo "ok: disable"
"${DRV[@]}" delete amt-dev7.fleet.example.test || fail "delete"
LS -b "$DN" -s base dn >/dev/null 2>&1
[ $? -eq 32 ] || fail "entry still there after delete"
if "${DRV[@]}" delete amt-dev7.fleet.example.test 2>/dev/null; then
	fail "second delete succeeded"
fi
echo "ok: delete"

# The server goes away under an open connection (a restart; AD also drops
# idle connections): the next operation connects again.
start_slapd() {
	"$SLAPD" -f "$T/slapd.conf" -h "ldap://127.0.0.1:$P/ ldaps://127.0.0.1:$PS/ $IPC_URL" \
		-d 0 >>"$T/slapd.log" 2>&1 &
	SLAPD_PID=$!
	for _ in $(seq 1 100); do
		ldapsearch -x -H "ldap://127.0.0.1:$P" -b "" -s base >/dev/null 2>&1 && return 0
		kill -0 "$SLAPD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
coproc DRVP { "${DRV[@]}" reconnect amt-dev8.fleet.example.test 2>&1; }
DRVP_PID_SAVED=$DRVP_PID
read -r -t 20 line <&"${DRVP[0]}" || fail "reconnect driver did not start"
[ "$line" = ready ] || fail "reconnect driver: $line"
kill "$SLAPD_PID"; wait "$SLAPD_PID" 2>/dev/null; SLAPD_PID=
# While it is down an operation fails (and nothing crashes) ...
echo down >&"${DRVP[1]}"
read -r -t 40 line <&"${DRVP[0]}" || line="(nothing)"
[ "$line" = refused ] || fail "operation while the server is down: $line"
# ... and once it is back the next one works.
start_slapd || fail "slapd restart"
echo go >&"${DRVP[1]}"
read -r -t 20 line <&"${DRVP[0]}" || line="(nothing)"
wait "$DRVP_PID_SAVED" || fail "reconnect driver failed: $line"
[ "$line" = disabled ] || fail "reconnect: $line"
LS -b "cn=amt-dev8,$OU" -s base userAccountControl | grep -qx 'userAccountControl: 4098' ||
	fail "disabled after reconnect"
echo "ok: operations survive a server restart (reconnect)"
echo "PASS"
