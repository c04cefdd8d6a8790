#!/usr/bin/env bash
# The service point against amtsim when things go wrong (real TLS, real
# Digest).  One site, four simulators:
#  A: device 1 does not trust the lab root (ROOT_NOT_TRUSTED), device 2 has
#     another PKI DNS suffix (CN_OUTSIDE_SUFFIX): both jobs fail at connect
#     with the TLS refusal, and nothing is written to either device;
#  B: the connection is reset on every 7th request (mid stage 1): done;
#  C: the device reboots after CommitChanges (gone for 1.5 s) before the
#     reconnect: done, the verify step retried;
#  D: SetHighAccuracyTimeSynch answers 503 twice: done after retries;
#  E: the setup credential list spent (job fails, device untouched), then a
#     list whose second entry is the device's MEBx password (done).
# Every finished device's escrowed admin password is then checked with an
# independent curl --digest Get over the issued certificate.
set -u
B=${AMTP_BUILD:?}
SIM=$B/src/amtsim/amtsim
FLEET=$B/bench_oobsp_fleet
T=$(mktemp -d /tmp/oobsp_ft.XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

DOMAIN=fleet.example.test
BASE=$((RANDOM % 150 + 20))
mkdir -p "$T/site"
"$FLEET" init "$T/site" $DOMAIN > /dev/null || fail "site init"

# start_sim NAME NET NDEV [amtsim options...]
start_sim() {
	local name=$1 net=$2 n=$3
	shift 3
	"$SIM" --state "$T/$name" --devices $n --address $net.1 \
		--pki-dns-suffix $DOMAIN --trust-root "$T/site/lab-root.sha256" \
		--no-fsync --quiet "$@" > "$T/$name.log" 2>&1 &
	PIDS="$PIDS $!"
	for i in $(seq 1 50); do
		grep -q ready "$T/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$T/$name.log"
	fail "amtsim $name did not start"
}
# activate NAME DEV OTP [DNS-SUFFIX]
activate() {
	local m=unix:$T/$1/$(printf %04d $2).mei
	if [ $# -ge 4 ]; then
		"$SIM" hostcmd "$m" set-dns-suffix "$4" > /dev/null || fail "suffix"
	fi
	"$SIM" hostcmd "$m" set-otp "$3" > /dev/null || fail "set-otp"
	"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || fail "start"
}

NA=127.23.$BASE NB=127.23.$((BASE + 1)) NC=127.23.$((BASE + 2)) ND=127.23.$((BASE + 3))
start_sim A $NA 2 --untrusted 1
start_sim B $NB 1 --faults reset-after=7
start_sim C $NC 1 --faults reboot=AMT_SetupAndConfigurationService.CommitChanges,reboot-ms=1500
start_sim D $ND 1 --faults fail=AMT_TimeSynchronizationService.SetHighAccuracyTimeSynch,status=503,count=2
P=OTP-faults-test-000000-
activate A 1 ${P}1
activate A 2 ${P}2 other-domain.example.org
activate B 1 ${P}3
activate C 1 ${P}4
activate D 1 ${P}5
"$FLEET" enqueue "$T/site" $DOMAIN 2 $NA.1 $P 1 &&
"$FLEET" enqueue "$T/site" $DOMAIN 1 $NB.1 $P 3 &&
"$FLEET" enqueue "$T/site" $DOMAIN 1 $NC.1 $P 4 &&
"$FLEET" enqueue "$T/site" $DOMAIN 1 $ND.1 $P 5 || fail "enqueue"
timeout 90 "$FLEET" serve "$T/site" 8 > "$T/serve.out" 2> "$T/serve.err" ||
	{ tail -20 "$T/serve.err"; fail "serve"; }
"$FLEET" status "$T/site" > "$T/status"
want() {	# job regex
	grep -Eq "$1" "$T/status" || { cat "$T/status"; fail "no job line matching: $1"; }
}
want "^1 1 failed 1 connect: the device refused the provisioning TLS session"
want "^2 2 failed 1 connect: the device refused the provisioning TLS session"
want "^3 3 done "
want "^4 4 done "
want "^5 5 done "
grep -q "ROOT_NOT_TRUSTED" "$T/A.log" || fail "amtsim A did not refuse the root"
grep -q "CN_OUTSIDE_SUFFIX" "$T/A.log" || fail "amtsim A did not refuse the CN"
for d in 1 2; do
	"$SIM" --state "$T/A" --show $d --json | python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d["provisioning"]["state"]=="in", d["provisioning"]
' || fail "device A$d changed"
done
grep -q "retries [1-9]" "$T/serve.out" || { cat "$T/serve.out"; fail "no step was retried"; }

envelope='<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:To>/wsman</a:To><w:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings</w:ResourceURI><a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout></Header><Body/></Envelope>'
for pair in "3 $NB.1" "4 $NC.1" "5 $ND.1"; do
	set -- $pair
	PW=$("$FLEET" password "$T/site" $1) || fail "no escrowed password for $1"
	# C's reboot may begin after the job's own checks on the session
	# it opened first (amtsim drops connections "after answering"): a
	# device that does not answer yet is asked again for up to 3 s
	for try in $(seq 1 30); do
		code=$(curl -s -o "$T/body" -w '%{http_code}' --digest -u "admin:$PW" \
			--cacert "$T/site/ca-chain.pem" --resolve pc$1.$DOMAIN:16993:$2 \
			-H 'Content-Type: application/soap+xml;charset=UTF-8' \
			--data-binary "$envelope" https://pc$1.$DOMAIN:16993/wsman)
		[ "$code" != 000 ] && break
		sleep 0.1
	done
	[ "$code" = 200 ] || fail "device $1: GET with the escrowed password: $code"
	grep -q "<g:HostName>pc$1</g:HostName>" "$T/body" || fail "device $1: host name"
done
# the setup credential list: spent, then the MEBx password (second entry)
NE=127.23.$((BASE + 4))
start_sim E $NE 2 --mebx-password 'Oem!Mebx-2026'
activate E 1 ${P}6
activate E 2 ${P}7
"$FLEET" enqueue "$T/site" $DOMAIN 1 $NE.1 $P 6 || fail "enqueue 6"
OOBSP_SETUP_PASSWORDS='Wrong-1!pass,Wrong-2!pass' timeout 60 "$FLEET" serve "$T/site" 4 \
	>> "$T/serve.out" 2>> "$T/serve.err" || fail "serve 6"
"$FLEET" enqueue "$T/site" $DOMAIN 1 $NE.2 $P 7 || fail "enqueue 7"
OOBSP_SETUP_PASSWORDS='Wrong-1!pass,Oem!Mebx-2026' timeout 60 "$FLEET" serve "$T/site" 4 \
	>> "$T/serve.out" 2>> "$T/serve.err" || fail "serve 7"
"$FLEET" status "$T/site" > "$T/status"
want "^6 6 failed 1 connect: setup credential 1 of 2 \(c1\): 401; setup credential 2 of 2 \(c2\): 401; credentials spent"
want "^7 7 done "
"$SIM" --state "$T/E" --show 1 --json | python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d["provisioning"]["state"]=="in", d["provisioning"]
' || fail "device E1 changed"
echo "oobsp_faults: ok"
exit 0
