#!/usr/bin/env bash
# The site API against the real agent: amtprovd (role site) on a temp site,
# amtsim with three simulated devices (MEI sockets only), and
# amtprov-agent run once per device.  Each agent must register, set and
# report its OTP, send its state message and see its provisioning job
# queued; a second run of the same agent changes nothing (same device, same
# job).  Checks the site's view through the admin API.
set -u
B=${AMTP_BUILD:?}
AMTPROVD=$B/src/amtprovd/amtprovd
AMTSIM=$B/src/amtsim/amtsim
AGENT=$B/src/agent/amtprov-agent
for f in "$AMTPROVD" "$AMTSIM" "$AGENT"; do
	[ -x "$f" ] || { echo "SKIP: $f not built"; exit 77; }
done
for t in curl openssl jq; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done

T=$(mktemp -d /tmp/amtp_site_agent.XXXXXX)
PID= SIM=
cleanup() {
	for p in $PID $SIM; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/site.key" -out "$T/site.crt" -days 2 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1" 2>/dev/null || exit 1
chmod 600 "$T/site.key"
"$AMTPROVD" --make-master-key "$T/master.key" || exit 1
openssl rand -hex 24 > "$T/enrol.secret"
chmod 600 "$T/enrol.secret"
cat > "$T/amtprovd.conf" <<CONF
[site]
listen = 127.0.0.1:0
tls_cert = $T/site.crt
tls_key = $T/site.key
database = sqlite:$T/site.db
master_key_file = $T/master.key
enrolment_secret_file = $T/enrol.secret
threads = 2
[oob]
dns_domain = fleet.example.test
CONF
ADMIN=$("$AMTPROVD" -c "$T/amtprovd.conf" --add-admin-token ci readonly) || exit 1
"$AMTPROVD" -c "$T/amtprovd.conf" > "$T/daemon.log" 2>&1 &
PID=$!
"$AMTSIM" --state "$T/sim" --devices 3 --no-network --quiet > "$T/sim.log" 2>&1 &
SIM=$!
PORT=
for _ in $(seq 1 100); do
	PORT=$(sed -n 's/.*serving https on .* (port \([0-9]*\),.*/\1/p' "$T/daemon.log")
	[ -n "$PORT" ] && [ -S "$T/sim/0003.mei" ] && break
	sleep 0.1
done
[ -n "$PORT" ] && [ -S "$T/sim/0003.mei" ] || { echo "FAIL: start"; cat "$T/daemon.log" "$T/sim.log"; exit 1; }
U=https://127.0.0.1:$PORT

agent() { # agent N RUN: one agent run for device N, JSON to $T/agentN.RUN.json
	"$AGENT" --site "$U" --ca "$T/site.crt" --enrol-secret-file "$T/enrol.secret" \
		--mei "unix:$T/sim/000$1.mei" --state-dir "$T/agent$1" --hostname "dev$1" \
		--json > "$T/agent$1.$2.json" 2>> "$T/agent.log"
}
for i in 1 2 3; do
	agent $i 1
	st=$?
	res=$(jq -r .result "$T/agent$i.1.json" 2>/dev/null)
	job=$(jq -r .site.job_id "$T/agent$i.1.json" 2>/dev/null)
	if [ $st = 0 ] && [ "$res" = job_queued ] && [ "$job" != null ]; then ok "agent $i: job $job queued"
	else fail "agent $i: exit $st, result $res: $(tail -3 "$T/agent.log")"; fi
done
# run again: same device, same job, nothing new
agent 1 2
[ "$(jq -r .site.device_id "$T/agent1.2.json")" = "$(jq -r .site.device_id "$T/agent1.1.json")" ] \
	|| fail "second run: same device"

curl -sS --cacert "$T/site.crt" -H "Authorization: Bearer $ADMIN" "$U/api/v1/devices?status=not%20provisioned" > "$T/devs"
[ "$(jq -r .total "$T/devs")" = 3 ] || fail "three devices not provisioned: $(cat "$T/devs")"
[ "$(jq -r '[.devices[].fqdn]|sort|join(",")' "$T/devs")" = dev1.fleet.example.test,dev2.fleet.example.test,dev3.fleet.example.test ] \
	|| fail "FQDNs: $(jq -c '[.devices[].fqdn]' "$T/devs")"
[ "$(jq -r '[.devices[]|select(.has_otp)]|length' "$T/devs")" = 3 ] || fail "OTP hashes recorded"
curl -sS --cacert "$T/site.crt" -H "Authorization: Bearer $ADMIN" "$U/api/v1/jobs?state=queued&kind=provision" > "$T/jobs"
[ "$(jq -r .total "$T/jobs")" = 3 ] && ok "three provisioning jobs queued" || fail "jobs: $(cat "$T/jobs")"
D1=$(jq -r .site.device_id "$T/agent1.1.json")
curl -sS --cacert "$T/site.crt" -H "Authorization: Bearer $ADMIN" "$U/api/v1/devices/$D1" > "$T/dev1"
[ "$(jq -r .facts.uuid "$T/dev1")" = "$(jq -r .amt.uuid "$T/agent1.1.json")" ] \
	&& [ "$(jq -r '.facts.cert_hashes|length' "$T/dev1")" = "$(jq -r '.amt.cert_hashes|length' "$T/agent1.1.json")" ] \
	&& ok "facts as the agent read them" || fail "facts: $(jq -c .facts "$T/dev1")"

kill "$PID"; wait "$PID"; st=$?; PID=
[ "$st" = 0 ] || fail "amtprovd exit status $st"
if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$T/daemon.log"; then fail "sanitizer report"; fi
if [ $fails -ne 0 ]; then tail -30 "$T/daemon.log"; echo "$fails failure(s)"; exit 1; fi
echo "site_agent: all passed"
