#!/usr/bin/env bash
# Integration test of the client agent (amtprov-agent, steps 1-3 of
# DESIGN.md) with the real site server (amtprovd, role site, over HTTPS with
# a pinned CA and a SQLite file) and real simulated firmware (amtsim).
#
# The MEI back end is chosen by AGENT_MEI:
#   unix      (default) the agent talks to amtsim's socket, --mei unix:PATH;
#   umockdev  the agent opens /dev/mei0, which umockdev emulates with
#             handlers relaying to the same amtsim device
#             (tests/tools/umockdev_mei_relay), so the driver back end's own
#             open/ioctl/write/read run; mei_umockdev.sh runs this way.
#
# Scenarios: a PRE device reaches "job queued" with the right facts and OTP
# hash (and a second run changes nothing); a device with wireless reports
# its wired address; a device already in POST is reported "externally
# provisioned" and not touched; status mode reads without changing; a
# missing MEI device, AMT disabled (no AMTHI client), a simulator that
# closes mid-exchange and a site that is down each give their own error
# and exit code.
set -u

B=${AMTP_BUILD:?AMTP_BUILD must name the build directory}
MODE=${AGENT_MEI:-unix}
AGENT=$B/src/agent/amtprov-agent
AMTSIM=$B/src/amtsim/amtsim
AMTPROVD=$B/src/amtprovd/amtprovd
RELAY=$B/tests/tools/umockdev_mei_relay
for t in curl openssl jq sqlite3 sha256sum; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
for p in "$AGENT" "$AMTSIM" "$AMTPROVD"; do
	[ -x "$p" ] || { echo "FAIL: $p not built"; exit 1; }
done
# the relay also serves the unix: run, as a socket proxy that refuses or
# cuts (amtsim has no fault switch for these)
if [ "$MODE" = unix ] && [ ! -x "$RELAY" ]; then
	echo "FAIL: $RELAY not built (scripts/deps.sh installs libumockdev-dev)"
	exit 1
fi
if [ "$MODE" = umockdev ]; then
	[ -x "$RELAY" ] || { echo "SKIP: umockdev_mei_relay not built (libumockdev-dev missing)"; exit 77; }
	command -v umockdev-wrapper >/dev/null || { echo "SKIP: umockdev not installed"; exit 77; }
	# the 0.17 preload does not wrap __read_chk: a fortified read would
	# bypass the emulation and hang (see docs/agent.md)
	if nm -D "$AGENT" 2>/dev/null | grep -q '__read_chk'; then
		echo "FAIL: $AGENT calls __read_chk (_FORTIFY_SOURCE on a read); umockdev cannot emulate it"
		exit 1
	fi
fi

T=$(mktemp -d /tmp/amtp_agent_flow.XXXXXX)
SITE_PID= SIM_PID= PROXY_PIDS=
cleanup() {
	for p in $PROXY_PIDS $SIM_PID $SITE_PID; do
		if kill -0 "$p" 2>/dev/null; then
			kill "$p"
			wait "$p" 2>/dev/null
		fi
	done
	[ -n "${AMTP_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# --- the site ---
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/site.key" \
	-out "$T/site.crt" -days 2 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1" 2>/dev/null || { echo "FAIL: openssl"; exit 1; }
chmod 600 "$T/site.key"
"$AMTPROVD" --make-master-key "$T/master.key" || { echo "FAIL: master key"; exit 1; }
openssl rand -hex 24 > "$T/enrol.secret"
chmod 600 "$T/enrol.secret"
cat > "$T/amtprovd.conf" <<CONF
[site]
roles = site
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
ADMIN=$("$AMTPROVD" -c "$T/amtprovd.conf" --add-admin-token alice admin) || { echo "FAIL: admin token"; exit 1; }
"$AMTPROVD" -c "$T/amtprovd.conf" > "$T/site.log" 2>&1 &
SITE_PID=$!
PORT=
for _ in $(seq 1 100); do
	PORT=$(sed -n 's/.*serving https on .* (port \([0-9]*\),.*/\1/p' "$T/site.log")
	[ -n "$PORT" ] && break
	kill -0 "$SITE_PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$PORT" ] || { echo "FAIL: amtprovd did not start"; cat "$T/site.log"; exit 1; }
U=https://127.0.0.1:$PORT

# --- the fleet: 1 and 4 PRE wired, 2 PRE with wireless, 3 already POST ---
# (own loopback addresses per run: a device's network side listens on
# ADDR:16992/16993 once active, and other fleets may run meanwhile)
[ "$MODE" = umockdev ] && NET=127.22 || NET=127.21
NET=$NET.$((RANDOM % 250 + 1))
"$AMTSIM" --state "$T/sim" --devices 4 --address $NET.1 \
	--dns-suffix fleet.example.test --wireless-every 2 --create-only \
	> "$T/sim.log" 2>&1 || { echo "FAIL: amtsim create"; cat "$T/sim.log"; exit 1; }
# device 3 was provisioned (admin control mode) by another server: its
# flash says so (docs/amtsim.md, the provisioning object)
jq '.provisioning.state = "post" | .provisioning.control_mode = 2' \
	"$T/sim/0003.json" > "$T/0003.tmp" && mv "$T/0003.tmp" "$T/sim/0003.json" \
	&& chmod 600 "$T/sim/0003.json" || { echo "FAIL: flash edit"; exit 1; }
"$AMTSIM" --state "$T/sim" >> "$T/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 100); do
	grep -q 'amtsim: ready' "$T/sim.log" && break
	kill -0 "$SIM_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q 'amtsim: ready' "$T/sim.log" || { echo "FAIL: amtsim did not start"; cat "$T/sim.log"; exit 1; }
grep -q 'device 0003 .* state post' "$T/sim.log" || fail "device 3 not in POST"

# The host's DMI: with unix: the agent must not use it (it is the same for
# every simulated computer); under umockdev /sys is the testbed's, which has
# none (a missing file here stands for it).
printf '%s\n' 4C4C4544-0000-1111-8888-0000000000FF > "$T/host-dmi"
[ "$MODE" = umockdev ] && DMI=$T/no-dmi || DMI=$T/host-dmi

# agent N [ARGS...]: runs the agent for simulated computer N (its own state
# folder and host name; its identity is AMT's UUID) over the chosen back
# end; output in $T/out.N, stderr in $T/err.N; prints the exit code
agent() {
	local n=$1
	shift
	local common=(--site "$U" --ca "$T/site.crt" --enrol-secret-file "$T/enrol.secret"
		--state-dir "$T/agent$n" --hostname "pc$n" --dmi-uuid-file "$DMI"
		--retries 1 --retry-delay 100)
	local dev
	dev=$(printf '%s/sim/%04d.mei' "$T" "$n")
	if [ "$MODE" = umockdev ]; then
		"$RELAY" --sim "$dev" ${RELAY_ARGS:-} -- "$AGENT" "${common[@]}" \
			--mei /dev/mei0 --mei-timeout 0 "$@" > "$T/out.$n" 2> "$T/err.$n"
	else
		"$AGENT" "${common[@]}" --mei "unix:$dev" "$@" > "$T/out.$n" 2> "$T/err.$n"
	fi
	echo $?
}
j() { jq -r "$2" "$T/out.$1"; }
# proxy NAME ARGS...: the relay as a socket in front of device 4 at $T/NAME.mei
proxy() {
	local name=$1
	shift
	"$RELAY" --sim "$T/sim/0004.mei" --proxy "$T/$name.mei" "$@" > "$T/proxy.$name.log" 2>&1 &
	PROXY_PIDS="$PROXY_PIDS $!"
	for _ in $(seq 1 50); do [ -S "$T/$name.mei" ] && break; sleep 0.1; done
}
api() { curl -sS --cacert "$T/site.crt" -H "Authorization: Bearer $ADMIN" "$U$1"; }
hostcmd() { "$AMTSIM" hostcmd "$(printf 'unix:%s/sim/%04d.mei' "$T" "$1")" "$2" --json; }
flash() { jq -r "$2" "$(printf '%s/sim/%04d.json' "$T" "$1")"; }

# --- 1. a PRE device reaches "job queued" ---
rc=$(agent 1 --json)
if [ "$rc" = 0 ] && [ "$(j 1 .result)" = job_queued ]; then ok "device 1: job queued"
else fail "device 1: rc $rc: $(cat "$T/out.1" "$T/err.1")"; fi
UUID1=$(j 1 .amt.uuid)
DEV1=$(j 1 .site.device_id)
JOB1=$(j 1 .site.job_id)
[ "$(j 1 .identity.uuid_source)" = amt ] && [ "$(j 1 .identity.smbios_uuid)" = "$UUID1" ] \
	|| fail "identity from AMT's UUID, not the host's DMI"
[ "$(j 1 .site.registered)" = true ] || fail "device 1 registered"
[ "$(j 1 '.did|length')" -ge 4 ] || fail "did list: $(j 1 .did)"
[ "$(hostcmd 1 get-provisioning-state | jq -r .state_name)" = in ] || fail "device 1 not in IN after activation"
[ "$(stat -c %a "$T/agent1/agent.token")" = 600 ] || fail "token file mode"
# the firmware holds the OTP, the site its SHA-256, nobody else either
OTP1=$(flash 1 .provisioning.otp)
[ ${#OTP1} -ge 8 ] && [ ${#OTP1} -le 32 ] || fail "OTP length ${#OTP1}"
HASH1=$(printf '%s' "$OTP1" | sha256sum | cut -c1-64)
DBHASH=$(sqlite3 -cmd ".timeout 5000" "$T/site.db" "SELECT sha256 FROM otp_hashes WHERE device_id = $DEV1")
[ "$DBHASH" = "$HASH1" ] && ok "site holds SHA-256 of the firmware's OTP" || fail "OTP hash: site $DBHASH, firmware's $HASH1"
if grep -qF -- "$OTP1" "$T/out.1" "$T/err.1" "$T/site.log" "$T/site.db"; then fail "OTP in clear outside the firmware"; fi
if grep -qF -- "$HASH1" "$T/out.1" "$T/err.1"; then fail "OTP hash printed by the agent"; fi
api "/api/v1/devices/$DEV1" > "$T/dev1.json"
jq -e --arg u "$UUID1" --arg a "$NET.1" --argjson n "$(j 1 '.amt.cert_hashes|length')" \
	'.facts.amt_version == "11.8.50" and .facts.uuid == $u and .facts.sku != ""
	and .facts.build != "" and .facts.dns_suffix == "fleet.example.test"
	and .facts.wireless == false and (.facts.cert_hashes|length) == $n and $n > 0
	and .device.amt_address == $a and .device.smbios_uuid == $u
	and .device.hostname == "pc1" and .device.has_otp == true
	and .device.status == "not provisioned"' "$T/dev1.json" >/dev/null \
	&& ok "device 1 facts at the site" || fail "device 1 facts at the site: $(cat "$T/dev1.json")"
[ "$(jq -r '.jobs[0].state' "$T/dev1.json")/$(jq -r '.jobs[0].id' "$T/dev1.json")" = "queued/$JOB1" ] \
	|| fail "device 1 job: $(jq -c .jobs "$T/dev1.json")"

# --- 2. run again: nothing breaks, one device, same job, OTP kept ---
rc=$(agent 1 --json)
[ "$rc" = 0 ] && [ "$(j 1 .result)" = job_queued ] && [ "$(j 1 .site.job_id)" = "$JOB1" ] \
	&& ok "device 1 second run: same job" || fail "device 1 rerun: rc $rc: $(cat "$T/out.1")"
[ "$(j 1 .site.registered)" = false ] || fail "second run registered again"
[ "$(flash 1 .provisioning.otp)" = "$OTP1" ] || fail "second run changed the OTP"
[ "$(sqlite3 "$T/site.db" "SELECT count(*) FROM devices")" = 1 ] || fail "one device at the site"
[ "$(sqlite3 "$T/site.db" "SELECT count(*) FROM jobs")" = 1 ] || fail "one job at the site"

# --- 3. wireless: the wired address is the one sent ---
rc=$(agent 2)
[ "$rc" = 0 ] && grep -q '^result: .*provisioning job' "$T/out.2" && ok "device 2 (wireless): human output, job queued" \
	|| fail "device 2: rc $rc: $(cat "$T/out.2" "$T/err.2")"
grep -q 'wireless: *yes' "$T/out.2" || fail "device 2 report shows wireless"
[ "$(sqlite3 "$T/site.db" "SELECT amt_addr FROM devices WHERE hostname = 'pc2'")" = $NET.2 ] \
	|| fail "device 2 wired address at the site"

# --- 4. POST without our record: externally provisioned, not touched ---
W3=$(flash 3 .flash_writes)
rc=$(agent 3 --json)
[ "$rc" = 6 ] && [ "$(j 3 .result)" = externally_provisioned ] && [ "$(j 3 .error.code)" = amt_post ] \
	&& ok "device 3: POST reported, exit 6" || fail "device 3: rc $rc: $(cat "$T/out.3" "$T/err.3")"
[ "$(sqlite3 "$T/site.db" "SELECT status FROM devices WHERE hostname = 'pc3'")" = "externally provisioned" ] \
	|| fail "device 3 status at the site"
[ "$(flash 3 .provisioning.otp)" = null ] && [ "$(flash 3 .flash_writes)" = "$W3" ] \
	|| fail "device 3 was touched"
[ "$(sqlite3 "$T/site.db" "SELECT count(*) FROM jobs j JOIN devices d ON d.id = j.device_id WHERE d.hostname = 'pc3'")" = 0 ] \
	|| fail "a job for the externally provisioned device"

# --- 5. status changes nothing ---
W1=$(flash 1 .flash_writes)
rc=$(agent 1 status --json)
[ "$rc" = 0 ] && [ "$(j 1 .amt.provisioning_state)" = in ] && [ "$(j 1 .amt.uuid)" = "$UUID1" ] \
	&& [ "$(flash 1 .flash_writes)" = "$W1" ] && ok "status reads without writing" \
	|| fail "status: rc $rc: $(cat "$T/out.1")"

# --- 6. a missing MEI device ---
if [ "$MODE" = umockdev ]; then
	rc=$(agent 4 --json --mei /dev/mei1)	# not in the testbed
else
	rc=$(agent 4 --json --mei "unix:$T/sim/0099.mei")
fi
[ "$rc" = 5 ] && [ "$(j 4 .error.code)" = mei_missing ] && ok "missing MEI device: exit 5, mei_missing" \
	|| fail "missing MEI: rc $rc: $(cat "$T/out.4" "$T/err.4")"
# with an identity that does not need AMT (DMI or a flag) it is reported
Y=4c4c4544-0000-1111-8888-0000000000d1
if [ "$MODE" = umockdev ]; then
	rc=$(agent 6 --json --mei /dev/mei1 --smbios-uuid $Y)
else
	rc=$(agent 6 --json --mei "unix:$T/sim/0099.mei" --smbios-uuid $Y)
fi
[ "$rc" = 5 ] && [ "$(sqlite3 "$T/site.db" "SELECT status FROM devices WHERE uuid = '$Y'")" = "not supported" ] \
	&& sqlite3 "$T/site.db" "SELECT status_reason FROM devices WHERE uuid = '$Y'" | grep -q 'no MEI device' \
	&& ok "missing MEI device reported as not supported, with the reason" \
	|| fail "missing MEI not reported: rc $rc: $(cat "$T/out.6")"

# --- 6b. AMT disabled: the MEI device refuses the AMTHI client ---
X=4c4c4544-0000-1111-8888-0000000000d0
if [ "$MODE" = umockdev ]; then
	rc=$(RELAY_ARGS=--refuse agent 5 --json --smbios-uuid $X)
else
	proxy refuse --refuse
	rc=$(agent 5 --json --smbios-uuid $X --mei "unix:$T/refuse.mei")
fi
[ "$rc" = 6 ] && [ "$(j 5 .error.code)" = amt_disabled ] && ok "AMT disabled: exit 6, amt_disabled" \
	|| fail "AMT disabled: rc $rc: $(cat "$T/out.5" "$T/err.5")"
[ "$(sqlite3 "$T/site.db" "SELECT status FROM devices WHERE uuid = '$X'")" = "not supported" ] \
	&& ok "AMT disabled: reported as not supported" || fail "AMT disabled not reported to the site"

# --- 7. a simulator that closes mid-exchange (after 3 answers) ---
if [ "$MODE" = umockdev ]; then
	rc=$(RELAY_ARGS="--close-after 3" agent 4 --json)
else
	proxy cut --close-after 3
	rc=$(agent 4 --json --mei "unix:$T/cut.mei")
fi
[ "$rc" = 5 ] && [ "$(j 4 .error.code)" = mei_closed ] && j 4 .error.message | grep -q 'during GetUUID' \
	&& ok "MEI closed mid-exchange: exit 5, mei_closed" || fail "mid-exchange close: rc $rc: $(cat "$T/out.4" "$T/err.4")"
[ "$(hostcmd 4 get-provisioning-state | jq -r .state_name)" = pre ] || fail "device 4 changed by a cut run"

# --- 8. a site that is down ---
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo 1)
rc=$(agent 4 --json --site "https://127.0.0.1:$DEAD")
[ "$rc" = 3 ] && [ "$(j 4 .error.code)" = site_down ] && j 4 .error.message | grep -q 'unreachable after 2 attempts' \
	&& ok "site down: exit 3 after retries" || fail "site down: rc $rc: $(cat "$T/out.4" "$T/err.4")"

# --- no sanitizer reports anywhere ---
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error' "$T"/err.* "$T/site.log" "$T/sim.log" 2>/dev/null; then
	fail "sanitizer report"
fi

if [ "$fails" -ne 0 ]; then
	echo "--- site log ---"; tail -20 "$T/site.log"
	echo "--- sim log ---"; tail -20 "$T/sim.log"
	echo "$fails failure(s) ($MODE)"
	exit 1
fi
echo "agent_flow ($MODE): all passed"
