#!/usr/bin/env bash
# An unprovision job against amtsim: amtprovd (role oobsp) provisions two
# devices, then an unprovision job for device 1 (job kind unprovision, as
# POST /api/v1/devices/{id}/unprovision queues it) takes it back to PRE:
# amtsim reports PRE over MEI, 16993 no longer answers (the escrowed admin
# password cannot be used), the site database says "not provisioned", has
# no current admin or MEBx password any more (retired, still listed and
# still opening: kept for audit), with an audit record of the retirement;
# device 2 is untouched.
set -u
B=${AMTP_BUILD:?}
SIM=$B/src/amtsim/amtsim
FLEET=$B/bench_oobsp_fleet
AMTPROVD=$B/src/amtprovd/amtprovd
T=$(mktemp -d /tmp/oobsp_unprov.XXXXXX)
SIMPID= DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

DOMAIN=fleet.example.test
NET=127.28.$((RANDOM % 200 + 20))
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

[oobsp]
workers = 4
lease_seconds = 30
pki_dir = $T/site
CONF
"$SIM" --state "$T/sim" --devices $N --address $NET.1 --pki-dns-suffix $DOMAIN \
	--trust-root "$T/site/lab-root.sha256" --no-fsync --quiet > "$T/sim.log" 2>&1 &
SIMPID=$!
for i in $(seq 1 50); do grep -q ready "$T/sim.log" 2>/dev/null && break; sleep 0.1; done
for i in $(seq 1 $N); do
	m=unix:$T/sim/$(printf %04d $i).mei
	"$SIM" hostcmd "$m" set-otp "OTP-unprov-test-000000-$i" > /dev/null || fail "set-otp"
	"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || fail "start"
done
"$FLEET" enqueue "$T/site" $DOMAIN $N $NET.1 OTP-unprov-test-000000- || fail "enqueue"
"$AMTPROVD" -c "$T/amtprovd.conf" > "$T/amtprovd.log" 2>&1 &
DPID=$!
wait_jobs() {
	for i in $(seq 1 300); do
		"$FLEET" status "$T/site" > "$T/status" 2>/dev/null && return 0
		kill -0 $DPID 2>/dev/null || { cat "$T/amtprovd.log"; fail "amtprovd died"; }
		sleep 0.1
	done
	cat "$T/status"; tail -20 "$T/amtprovd.log"; fail "jobs not done"
}
state() {	# amtsim's provisioning state of device $1 over MEI
	"$SIM" hostcmd "unix:$T/sim/$(printf %04d $1).mei" get-provisioning-state --json |
		sed -n 's/.*"state_name":"\([a-z]*\)".*/\1/p'
}
digest() {	# HTTP code of an authenticated Get on device $1 (000: no answer)
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 --digest -u "admin:$2" \
		--cacert "$T/site/ca-chain.pem" --resolve pc$1.$DOMAIN:16993:$NET.$1 \
		-H 'Content-Type: application/soap+xml;charset=UTF-8' \
		--data-binary @"${AMTP_SRC:?}/tests/integration/oobsp_get_general.xml" \
		https://pc$1.$DOMAIN:16993/wsman
}
wait_jobs
[ "$(state 1)" = post ] || fail "device 1 not POST after provisioning: $(state 1)"
PW1=$("$FLEET" password "$T/site" 1) || fail "no escrowed password for 1"
PW2=$("$FLEET" password "$T/site" 2) || fail "no escrowed password for 2"
[ "$(digest 1 "$PW1")" = 200 ] || fail "device 1 does not take its escrowed password"

JOB=$("$FLEET" unprovision "$T/site" 1) || fail "enqueue unprovision"
wait_jobs
grep -q "^$JOB 1 done" "$T/status" || { cat "$T/status"; fail "unprovision job not done"; }
[ "$(state 1)" = pre ] || fail "device 1 is $(state 1), not PRE"
code=$(digest 1 "$PW1")
[ "$code" = 000 ] || fail "device 1 still answers on 16993 ($code)"
[ "$("$FLEET" devstatus "$T/site" 1)" = "not provisioned" ] || fail "device 1 status"
# the escrow is retired: no current admin password (oobsp_fleet password
# reads the current one), every version retired but listed, with its record
"$FLEET" password "$T/site" 1 > "$T/pw1" 2>/dev/null && fail "device 1 still has a current admin password"
[ -s "$T/pw1" ] && fail "a password printed for device 1"
creds=$(sqlite3 "$T/site/site.db" "SELECT kind || ' v' || version || ' ' || state FROM credentials WHERE device_id = 1 ORDER BY kind, version")
echo "$creds" | grep -q "^admin v1 retired$" || fail "admin v1 not listed retired: $creds"
echo "$creds" | grep -q "^mebx v1 retired$" || fail "mebx v1 not listed retired: $creds"
echo "$creds" | grep -Eq "current|pending" && fail "a version still current/pending: $creds"
[ "$(sqlite3 "$T/site/site.db" "SELECT COUNT(*) FROM credentials WHERE device_id = 2 AND state = 'current'")" = 2 ] ||
	fail "device 2 lost its current versions"
audit=$(sqlite3 "$T/site/site.db" "SELECT detail FROM audit WHERE device_id = 1 AND action = 'device.password.retired' ORDER BY id")
echo "$audit" | grep -q "^kind admin: v1 (current) retired: unprovisioned by job $JOB$" || fail "no admin retirement record: $audit"
echo "$audit" | grep -q "^kind mebx: v1 (current) retired: unprovisioned by job $JOB$" || fail "no MEBx retirement record: $audit"
# provisioned again: the connect step goes straight to the setup
# credentials (no retired escrow tried first), and the new admin password
# is version 2
# (Unprovision cleared the PKI DNS suffix: set again, as in MEBx)
m=unix:$T/sim/0001.mei
"$SIM" hostcmd "$m" set-dns-suffix $DOMAIN > /dev/null || fail "set-dns-suffix"
"$SIM" hostcmd "$m" set-otp "OTP-unprov-test-again0-1" > /dev/null || fail "set-otp again"
"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || fail "start again"
"$FLEET" enqueue "$T/site" $DOMAIN 1 $NET.1 OTP-unprov-test-again0- || fail "enqueue again"
wait_jobs
JOB2=$(sqlite3 "$T/site/site.db" "SELECT MAX(id) FROM jobs WHERE device_id = 1 AND kind = 'provision'")
grep -q "^$JOB2 1 done" "$T/status" || { cat "$T/status"; fail "second provisioning not done"; }
conn=$(sqlite3 "$T/site/site.db" "SELECT detail FROM job_steps WHERE job_id = $JOB2 AND step = 'connect' AND outcome = 'ok'")
case "$conn" in
"setup credential 1 of "*" works; device IN setup"*) ;;
*) fail "second provisioning's connect: $conn" ;;
esac
echo "$conn" | grep -q escrowed && fail "a retired password was tried: $conn"
[ "$(state 1)" = post ] || fail "device 1 not POST again: $(state 1)"
PW1B=$("$FLEET" password "$T/site" 1) || fail "no new escrowed password for 1"
[ "$PW1B" != "$PW1" ] || fail "the same admin password again"
[ "$(digest 1 "$PW1B")" = 200 ] || fail "device 1 does not take its new password"
[ "$(sqlite3 "$T/site/site.db" "SELECT version FROM credentials WHERE device_id = 1 AND kind = 'admin' AND state = 'current'")" = 2 ] ||
	fail "the new admin password is not v2"
# device 2 untouched
[ "$(state 2)" = post ] || fail "device 2 is $(state 2)"
[ "$(digest 2 "$PW2")" = 200 ] || fail "device 2 does not take its escrowed password"
[ "$("$FLEET" devstatus "$T/site" 2)" = provisioned ] || fail "device 2 status"
grep -qF -- "$PW1" "$T/amtprovd.log" && fail "a password is in the log"
kill -TERM $DPID
wait $DPID
st=$?
DPID=
[ $st -eq 0 ] || { cat "$T/amtprovd.log"; fail "amtprovd exit status $st"; }
grep -q "stopping: 4 jobs claimed, 4 done" "$T/amtprovd.log" || { cat "$T/amtprovd.log"; fail "no stop line"; }
echo "oobsp_unprovision: ok"
exit 0
