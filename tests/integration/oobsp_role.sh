#!/usr/bin/env bash
# amtprovd running role oobsp (oobsp_main: master key, policy from
# amtprovd.conf, provisioning key opened in memory, its own signer process,
# the engine loop; enroll.socket set but dead: own signer) provisions amtsim devices queued in the site database,
# then stops cleanly on SIGTERM.  The escrowed password is checked with an
# independent curl --digest over the issued certificate.
set -u
B=${AMTP_BUILD:?}
SIM=$B/src/amtsim/amtsim
FLEET=$B/bench_oobsp_fleet
AMTPROVD=$B/src/amtprovd/amtprovd
T=$(mktemp -d /tmp/oobsp_role.XXXXXX)
SIMPID= DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

DOMAIN=fleet.example.test
NET=127.26.$((RANDOM % 200 + 20))
N=2
mkdir -p "$T/site"
"$FLEET" init "$T/site" $DOMAIN > /dev/null || fail "site init"
cat > "$T/amtprovd.conf" <<CONF
[site]
roles = oobsp
database = sqlite:$T/site/site.db
master_key_file = $T/site/master.key
log_level = info

[oob]
dns_domain = $DOMAIN
web_ui = true

[mebx]
policy = random

[oobsp]
workers = 4
lease_seconds = 30
pki_dir = $T/site

[enroll]
# set, but nothing listens there: the service point uses its own signer
socket = $T/none.sock
CONF
"$AMTPROVD" -c "$T/amtprovd.conf" --check-config > /dev/null || fail "check-config"
"$SIM" --state "$T/sim" --devices $N --address $NET.1 --pki-dns-suffix $DOMAIN \
	--trust-root "$T/site/lab-root.sha256" --no-fsync --quiet > "$T/sim.log" 2>&1 &
SIMPID=$!
for i in $(seq 1 50); do grep -q ready "$T/sim.log" 2>/dev/null && break; sleep 0.1; done
for i in $(seq 1 $N); do
	m=unix:$T/sim/$(printf %04d $i).mei
	"$SIM" hostcmd "$m" set-otp "OTP-role-test-0000000-$i" > /dev/null || fail "set-otp"
	"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || fail "start"
done
"$FLEET" enqueue "$T/site" $DOMAIN $N $NET.1 OTP-role-test-0000000- || fail "enqueue"
"$AMTPROVD" -c "$T/amtprovd.conf" > "$T/amtprovd.log" 2>&1 &
DPID=$!
for i in $(seq 1 300); do
	"$FLEET" status "$T/site" > "$T/status" 2>/dev/null && break
	kill -0 $DPID 2>/dev/null || { cat "$T/amtprovd.log"; fail "amtprovd died"; }
	sleep 0.1
done
"$FLEET" status "$T/site" > "$T/status" || { cat "$T/status"; tail -20 "$T/amtprovd.log"; fail "jobs not done"; }
kill -TERM $DPID
for i in $(seq 1 50); do kill -0 $DPID 2>/dev/null || break; sleep 0.1; done
kill -0 $DPID 2>/dev/null && fail "amtprovd did not stop on SIGTERM"
wait $DPID
st=$?
DPID=
[ $st -eq 0 ] || { cat "$T/amtprovd.log"; fail "amtprovd exit status $st"; }
grep -q "service point oobsp:.*: running" "$T/amtprovd.log" || fail "no start line"
grep -q "none.sock: enrollment point not reachable; certificates from a signer of our own" \
	"$T/amtprovd.log" || { cat "$T/amtprovd.log"; fail "no fallback to its own signer"; }
grep -q "stopping: 2 jobs claimed, 2 done" "$T/amtprovd.log" || { cat "$T/amtprovd.log"; fail "no stop line"; }
# no secret in the log
for i in $(seq 1 $N); do
	PW=$("$FLEET" password "$T/site" $i) || fail "no escrowed password for $i"
	grep -qF -- "$PW" "$T/amtprovd.log" && fail "the admin password is in the log"
	code=$(curl -s -o "$T/body" -w '%{http_code}' --digest -u "admin:$PW" \
		--cacert "$T/site/ca-chain.pem" --resolve pc$i.$DOMAIN:16993:$NET.$i \
		-H 'Content-Type: application/soap+xml;charset=UTF-8' \
		--data-binary @"${AMTP_SRC:?}/tests/integration/oobsp_get_general.xml" \
		https://pc$i.$DOMAIN:16993/wsman)
	[ "$code" = 200 ] || fail "device $i: $code"
done
grep -q "OTP-role-test" "$T/amtprovd.log" && fail "an OTP is in the log"
echo "oobsp_role: ok"
exit 0
