#!/usr/bin/env bash
# Integration test of the site API (amtprovd role site) over real HTTPS
# with curl: a temp site (self-signed TLS, master key, enrolment secret,
# SQLite file), amtprovd on 127.0.0.1 with a kernel-chosen port.
# Scenario: callers without or with bad credentials and malformed bodies are
# refused and nothing is written; an agent registers, posts its OTP hash and
# its state message, and a provisioning job is queued once; admins list
# devices and jobs (readonly may, but may not act), reveal a password with an
# audit record; the database and the log hold no secret in clear.
# With SITE_API_PG set to a PostgreSQL URI (site_api_pg.sh does that) the
# same scenario runs on PostgreSQL, in a schema of its own that is dropped
# at the end.
set -u

B=${AMTP_BUILD:?AMTP_BUILD must name the build directory}
AMTPROVD=$B/src/amtprovd/amtprovd
for t in curl openssl jq sqlite3; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -x "$AMTPROVD" ] || { echo "FAIL: $AMTPROVD not built"; exit 1; }

T=$(mktemp -d /tmp/amtp_site_api.XXXXXX)
PG=${SITE_API_PG:-}
SCHEMA=site_api_$$
if [ -n "$PG" ]; then
	command -v psql >/dev/null && command -v pg_dump >/dev/null || { echo "SKIP: psql"; exit 77; }
	case $PG in *\?*) DBURI="$PG&schema=$SCHEMA" ;; *) DBURI="$PG?schema=$SCHEMA" ;; esac
else
	DBURI=sqlite:$T/site.db
fi
PID=
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill "$PID"
		wait "$PID" 2>/dev/null
	fi
	[ -n "$PG" ] && psql "$PG" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1
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
ES=$(openssl rand -hex 24)
printf '%s\n' "$ES" > "$T/enrol.secret"
chmod 600 "$T/enrol.secret"
cat > "$T/amtprovd.conf" <<CONF
[site]
roles = site
listen = 127.0.0.1:0
tls_cert = $T/site.crt
tls_key = $T/site.key
database = $DBURI
master_key_file = $T/master.key
enrolment_secret_file = $T/enrol.secret
threads = 2

[oob]
dns_domain = fleet.example.test
CONF
"$AMTPROVD" -c "$T/amtprovd.conf" --check-config >/dev/null || { echo "FAIL: check-config"; exit 1; }
ADMIN=$("$AMTPROVD" -c "$T/amtprovd.conf" --add-admin-token alice admin) || { echo "FAIL: admin token"; exit 1; }
RO=$("$AMTPROVD" -c "$T/amtprovd.conf" --add-admin-token bob readonly) || { echo "FAIL: ro token"; exit 1; }

# an unknown role, or a role this build lacks, is an error, not silence
sed 's/^roles = site$/roles = site,web/' "$T/amtprovd.conf" > "$T/bad.conf"
if "$AMTPROVD" -c "$T/bad.conf" --check-config 2>"$T/bad.err"; then
	fail "unknown role web accepted"
elif grep -q 'unknown role "web"' "$T/bad.err"; then ok "unknown role refused"
else fail "unknown role: unclear error: $(cat "$T/bad.err")"; fi
for role in oobsp enroll; do
	sed "s/^roles = site\$/roles = site,$role/" "$T/amtprovd.conf" > "$T/bad.conf"
	if ! "$AMTPROVD" -c "$T/bad.conf" --check-config >/dev/null 2>"$T/bad.err"; then
		grep -q "role $role: .*not built" "$T/bad.err" && ok "unbuilt role $role refused" ||
			echo "note: role $role refused: $(cat "$T/bad.err")"
	fi
done

"$AMTPROVD" -c "$T/amtprovd.conf" > "$T/daemon.log" 2>&1 &
PID=$!
PORT=
for _ in $(seq 1 100); do
	PORT=$(sed -n 's/.*serving https on .* (port \([0-9]*\),.*/\1/p' "$T/daemon.log")
	[ -n "$PORT" ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$PORT" ] || { echo "FAIL: amtprovd did not start"; cat "$T/daemon.log"; exit 1; }
U=https://127.0.0.1:$PORT

# call METHOD PATH TOKEN [BODY]: prints the status; the body goes to $T/out
call() {
	local m=$1 p=$2 tok=$3 body=${4-}
	local args=(-sS --cacert "$T/site.crt" -o "$T/out" -w '%{http_code}' -X "$m")
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	[ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	curl "${args[@]}" "$U$p"
}
# expect CODE METHOD PATH TOKEN [BODY]
expect() {
	local want=$1 got
	shift
	got=$(call "$@")
	if [ "$got" = "$want" ]; then ok "$1 $2 -> $got"; else
		fail "$1 $2: want $want, got $got: $(head -c 300 "$T/out")"; fi
}
field() { jq -r "$1" "$T/out"; }
# sql QUERY: one query on the site database, rows as text
sql() {
	if [ -n "$PG" ]; then
		PGOPTIONS="-c search_path=$SCHEMA" psql "$PG" -tAqc "$1" 2>&1
	else
		sqlite3 -cmd ".timeout 5000" "$T/site.db" "$1" 2>&1
	fi
}
rows() { sql "SELECT count(*) FROM $1"; }
# dump: every byte the database holds, one file per path printed
dump() {
	if [ -n "$PG" ]; then
		pg_dump -d "$PG" -n "$SCHEMA" -f "$T/pg.dump" 2>/dev/null && echo "$T/pg.dump"
	else
		ls "$T"/site.db*
	fi
}

expect 200 GET /healthz ""
[ "$(field .status)" = ok ] || fail "healthz body"

UUID=4C4C4544-0000-1111-8888-00000000000A
REG='{"hostname":"pc10","domain":"fleet.example.test","smbios_uuid":"'$UUID'"}'

# --- refused callers write nothing ---
expect 401 POST /api/v1/agents/register "" "$REG"
[ "$(field .error)" = unauthorized ] || fail "401 body: $(cat "$T/out")"
expect 401 POST /api/v1/agents/register "wrong-secret-0123456789" "$REG"
expect 401 POST /api/v1/agents/register "$ES.x" "$REG"
expect 400 POST /api/v1/agents/register "$ES" '{"hostname":"pc10","smbios_uuid":"not-a-uuid"}'
[ "$(field .field)" = smbios_uuid ] || fail "400 names smbios_uuid: $(cat "$T/out")"
expect 400 POST /api/v1/agents/register "$ES" '{"hostname":"pc10","smbios_uuid":"'$UUID'"'
[ "$(field .error)" = malformed_json ] || fail "malformed json code"
expect 400 POST /api/v1/agents/register "$ES" '{"hostname":["pc10"],"smbios_uuid":"'$UUID'"}'
[ "$(field .field)/$(field .error)" = hostname/wrong_type ] || fail "wrong type: $(cat "$T/out")"
expect 400 POST /api/v1/agents/register "$ES" '{"hostname":"pc10","smbios_uuid":"'$UUID'","x":1}'
[ "$(field .field)" = x ] || fail "unknown field named"
expect 400 POST /api/v1/agents/register "$ES" '{"a":[[[[[1]]]]]}'
[ "$(field .error)" = too_deep ] || fail "depth"
BIG=$(head -c 5000 /dev/zero | tr '\0' ' ')
expect 413 POST /api/v1/agents/register "$ES" "{$BIG}"
# a chunked body (no Content-Length) is cut at the limit while it arrives
head -c 6000 /dev/zero | tr '\0' ' ' > "$T/big.json"
got=$(curl -sS --cacert "$T/site.crt" -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $ES" \
	-H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary @"$T/big.json" \
	"$U/api/v1/agents/register")
[ "$got" = 413 ] && ok "chunked body over the limit -> 413" || fail "chunked over limit: $got $(cat "$T/out")"
head -c 2000000 /dev/zero | tr '\0' ' ' > "$T/huge.json"
got=$(curl -sS --cacert "$T/site.crt" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ES" \
	-H 'Transfer-Encoding: chunked' --data-binary @"$T/huge.json" "$U/api/v1/agents/register" 2>/dev/null)
case $got in 000|100|413) ok "chunked body far over the limit: cut off ($got)" ;; *) false ;; esac || fail "huge chunked: $got"
# a GET with a body is refused
got=$(call GET /api/v1/devices "$RO" '{}')
[ "$got" = 413 ] && ok "GET with a body -> 413" || fail "GET with body: $got"
expect 401 GET /api/v1/agents/policy ""
expect 401 POST /api/v1/agents/otp "$UUID.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" '{}'
expect 401 GET /api/v1/devices ""
expect 401 GET /api/v1/devices "$ES"
expect 404 GET /api/v1/nothing ""
expect 405 GET /api/v1/agents/register "$ES"
for t in devices agents audit jobs otp_hashes device_facts; do
	[ "$(rows $t)" = 0 ] || fail "table $t written by refused callers"
done
ok "refused callers wrote nothing"

# --- an agent: register (twice), policy, OTP, state ---
expect 201 POST /api/v1/agents/register "$ES" "$REG"
DEV=$(field .device_id)
TOK1=$(field .agent_token)
[ "$(field .agent_id)" = "${UUID,,}" ] || fail "agent_id is the lower-case UUID"
expect 200 POST /api/v1/agents/register "$ES" "$REG"
[ "$(field .device_id)" = "$DEV" ] || fail "re-registration kept the device"
TOK=$(field .agent_token)
[ "$TOK" != "$TOK1" ] || fail "re-registration gives a new token"
[ "$(rows devices)" = 1 ] || fail "one device after two registrations: $(rows devices)"
expect 401 GET /api/v1/agents/policy "$TOK1"
expect 200 GET /api/v1/agents/policy "$TOK"
[ "$(field .provision)" = true ] || fail "policy says provision"

OTP_HASH=$(printf 'Abcdefghijklmnop12345678' | sha256sum | cut -c1-64)
expect 400 POST /api/v1/agents/otp "$TOK" '{"otp_sha256":"'${OTP_HASH^^}'","amt_address":"127.20.0.10"}'
[ "$(field .field)" = otp_sha256 ] || fail "otp field named"
expect 400 POST /api/v1/agents/otp "$TOK" '{"otp_sha256":"'$OTP_HASH'","amt_address":"999.1.1.1"}'
[ "$(field .field)" = amt_address ] || fail "amt_address named"
[ "$(rows otp_hashes)" = 0 ] || fail "bad OTP calls wrote"
expect 200 POST /api/v1/agents/otp "$TOK" '{"otp_sha256":"'$OTP_HASH'","amt_address":"127.20.0.10"}'
[ "$(field .job_id)" = null ] || fail "no job before the state message"
[ "$(rows jobs)" = 0 ] || fail "job queued too early"

STATE='{"amt_version":"16.1.25","build":"2049","sku":"16392","uuid":"'${UUID,,}'","dns_suffix":"fleet.example.test","control_mode":"none","provisioning_state":"in","wireless":true,"cert_hashes":[{"name":"Root A","hash":"'$OTP_HASH'","is_default":true,"is_active":true}]}'
expect 400 POST /api/v1/agents/state "$TOK" '{"amt_version":"16","uuid":"'$UUID'","provisioning_state":"in","cert_hashes":[{"hash":"zz"}]}'
[ "$(field .field)" = 'cert_hashes[0].hash' ] || fail "hash element named: $(cat "$T/out")"
expect 200 POST /api/v1/agents/state "$TOK" "$STATE"
JOB=$(field .job_id)
[ "$(field .status)" = "not provisioned" ] || fail "status after state"
[ "$JOB" != null ] || fail "job queued after OTP + state"
expect 200 POST /api/v1/agents/state "$TOK" "$STATE"
[ "$(field .job_id)" = "$JOB" ] || fail "repeated state: same job"
expect 200 POST /api/v1/agents/otp "$TOK" '{"otp_sha256":"'$OTP_HASH'","amt_address":"127.20.0.10"}'
[ "$(field .job_id)" = "$JOB" ] || fail "repeated OTP: same job"
[ "$(rows jobs)" = 1 ] || fail "exactly one job"
[ "$(sql "SELECT state FROM jobs")" = queued ] || fail "job state queued"
# step 4: the directory account (built-in) with its SPNs, its password escrowed
[ "$(rows dir_accounts)" = 1 ] || fail "one directory account"
sql "SELECT spn FROM dir_spns" > "$T/spns"
for spn in HTTP/pc10.fleet.example.test:16992 HTTP/pc10.fleet.example.test:16993 HTTP/pc10:16992 HTTP/pc10:16993; do
	grep -qixF "$spn" "$T/spns" || fail "SPN $spn missing: $(cat "$T/spns")"
done
[ "$(sql "SELECT state FROM credentials WHERE kind = 'directory'")" = current ] \
	|| fail "directory password escrowed and promoted"

# --- admins ---
expect 200 GET /api/v1/devices "$RO"
[ "$(field .total)" = 1 ] && [ "$(field '.devices[0].amt_address')" = 127.20.0.10 ] \
	&& [ "$(field '.devices[0].fqdn')" = pc10.fleet.example.test ] || fail "device list: $(cat "$T/out")"
expect 200 GET "/api/v1/devices?status=provisioned" "$RO"
[ "$(field .total)" = 0 ] || fail "status filter"
expect 200 GET "/api/v1/devices?status=not%20provisioned&q=pc10" "$RO"
[ "$(field .total)" = 1 ] || fail "status + text filter"
expect 400 GET "/api/v1/devices?status=bogus" "$RO"
[ "$(field .field)" = status ] || fail "bad filter named"
expect 400 GET "/api/v1/devices?limit=0" "$RO"
expect 200 GET "/api/v1/devices/$DEV" "$RO"
[ "$(field .facts.amt_version)" = 16.1.25 ] && [ "$(field '.jobs[0].id')" = "$JOB" ] \
	&& [ "$(field '.jobs[0].steps|length')" = 0 ] || fail "device detail: $(cat "$T/out")"
expect 404 GET "/api/v1/devices/999" "$RO"
expect 200 GET "/api/v1/jobs?state=queued" "$RO"
[ "$(field .total)" = 1 ] || fail "jobs list"
expect 403 POST "/api/v1/devices/$DEV/cancel" "$RO"
expect 403 POST "/api/v1/devices/$DEV/passwords/admin/reveal" "$RO"
[ "$(rows audit)" = 0 ] || fail "refused admin action audited/written"
expect 404 POST "/api/v1/devices/$DEV/passwords/admin/reveal" "$ADMIN"
expect 404 POST "/api/v1/devices/$DEV/passwords/wifi/reveal" "$ADMIN"

# a password escrowed (as a service point would), then revealed
PW='Xk7#mQ2!vR9$wL4p'
printf '%s\n' "$PW" | "$AMTPROVD" -c "$T/amtprovd.conf" --set-password "$DEV" admin 2>>"$T/tool.log" \
	|| fail "set-password"
expect 200 POST "/api/v1/devices/$DEV/passwords/admin/reveal" "$ADMIN" '{"reason":"ticket 42"}'
[ "$(field .password)" = "$PW" ] && [ "$(field .version)" = 1 ] || fail "revealed password"
expect 200 POST "/api/v1/devices/$DEV/passwords/directory/reveal" "$ADMIN"
DIRPW=$(field .password)
[ "${#DIRPW}" = 32 ] || fail "directory password (32 characters)"
expect 200 GET "/api/v1/devices/$DEV" "$RO"
[ "$(jq -r '[.credentials[]|select(.state=="current")|.kind]|sort|join(",")' "$T/out")" = admin,directory ] \
	|| fail "credential versions listed: $(jq -c .credentials "$T/out")"
jq -e '.credentials[]|has("password")' "$T/out" >/dev/null && fail "device detail shows a password"
expect 200 GET "/api/v1/audit?device_id=$DEV" "$RO"
[ "$(jq -r '[.records[]|select(.action=="device.password.reveal" and .actor=="admin:alice")]|length' "$T/out")" = 2 ] \
	|| fail "reveal audit record: $(cat "$T/out")"
jq -r '.records[]|select(.action=="device.password.reveal")|.detail' "$T/out" | grep -q "ticket 42" \
	|| fail "audit detail has the reason"

# --- job actions ---
expect 409 POST "/api/v1/devices/$DEV/requeue" "$ADMIN"
expect 200 POST "/api/v1/devices/$DEV/cancel" "$ADMIN" '{"reason":"test"}'
[ "$(field '.cancelled_jobs[0]')" = "$JOB" ] || fail "cancel"
expect 409 POST "/api/v1/devices/$DEV/cancel" "$ADMIN"
expect 200 POST "/api/v1/devices/$DEV/requeue" "$ADMIN"
[ "$(field .job.state)" = queued ] || fail "requeue"
expect 202 POST "/api/v1/devices/$DEV/unprovision" "$ADMIN"
[ "$(field .job.kind)" = unprovision ] || fail "unprovision job"
expect 200 POST "/api/v1/devices/$DEV/unprovision" "$ADMIN"
expect 400 POST "/api/v1/devices/$DEV/cancel" "$ADMIN" '{"reason":7}'

# --- metrics ---
expect 200 GET /metrics ""
grep -q '^amtprov_devices{status="not provisioned"} 1$' "$T/out" || fail "metrics devices"
grep -q '^amtprov_jobs{state="queued"} 1$' "$T/out" || fail "metrics jobs: $(grep amtprov_jobs "$T/out")"
grep -q '^amtprov_http_requests_total{route="agent_register",code="401"} 3$' "$T/out" || fail "metrics 401s"
# group commit: every agent write so far went through it, commits <= units
u=$(sed -n 's/^amtprov_site_write_units_total //p' "$T/out")
c=$(sed -n 's/^amtprov_site_write_commits_total //p' "$T/out")
[ -n "$u" ] && [ -n "$c" ] && [ "$u" -ge 6 ] && [ "$c" -ge 1 ] && [ "$c" -le "$u" ] \
	&& ok "group commit counters ($u units, $c commits)" || fail "group commit counters: units '$u' commits '$c'"

# --- what the agent reports when it stops (agent needs 1, 2, 3, 5) ---
# registered (as a second agent) after the metrics check, which counts devices
reg2() { # reg2 UUID HOST: registers, sets TOK2 and DEV2
	expect 201 POST /api/v1/agents/register "$ES" '{"hostname":"'$2'","smbios_uuid":"'$1'"}'
	TOK2=$(field .agent_token) DEV2=$(field .device_id)
}
reason_of() { sql "SELECT status || '|' || status_reason FROM devices WHERE id = $1"; }
reg2 4C4C4544-0000-1111-8888-00000000000B pc11
jobs0=$(rows jobs)
# an OTP hash from an earlier attempt, then the device is found IN by another tool
expect 200 POST /api/v1/agents/otp "$TOK2" '{"otp_sha256":"'$OTP_HASH'","amt_address":"127.20.0.11"}'
WHY='AMT is in IN state (provisioning started by another tool); not touched'
STOPPED=$(jq -c --arg w "$WHY" '.uuid = "4c4c4544-0000-1111-8888-00000000000b" | .reason = $w' <<<"$STATE")
expect 200 POST /api/v1/agents/state "$TOK2" "$STOPPED"
[ "$(field .job_id)" = null ] && [ "$(rows jobs)" = "$jobs0" ] && ok "IN with a reason queues nothing" \
	|| fail "stopped IN device got a job: $(cat "$T/out")"
[ "$(reason_of "$DEV2")" = "not provisioned|$WHY" ] && ok "the agent's reason is kept" \
	|| fail "status reason: $(reason_of "$DEV2")"
# the same agent later activates the device itself (IN, no reason): queued, reason cleared
expect 200 POST /api/v1/agents/state "$TOK2" "$(jq -c 'del(.reason)' <<<"$STOPPED")"
[ "$(field .job_id)" != null ] && [ "$(reason_of "$DEV2")" = "not provisioned|" ] && ok "IN without a reason queues" \
	|| fail "IN without reason: $(cat "$T/out") $(reason_of "$DEV2")"
# POST with the agent's reason keeps it too
reg2 4C4C4544-0000-1111-8888-00000000000C pc12
expect 200 POST /api/v1/agents/state "$TOK2" "$(jq -c '.uuid = "4c4c4544-0000-1111-8888-00000000000c" | .provisioning_state = "post" | .control_mode = "admin" | .reason = "provisioned by another server; not touched"' <<<"$STATE")"
[ "$(reason_of "$DEV2")" = "externally provisioned|provisioned by another server; not touched" ] \
	&& ok "POST keeps the agent's reason" || fail "POST reason: $(reason_of "$DEV2")"
expect 200 GET /api/v1/agents/policy "$TOK2"
[ "$(field .provision)" = false ] || fail "externally provisioned: policy must not provision"
# not supported, then asked again by the policy; detected
reg2 4C4C4544-0000-1111-8888-00000000000D pc13
expect 200 POST /api/v1/agents/state "$TOK2" '{"amt_supported":false,"reason":"no MEI device"}'
[ "$(field .status)" = "not supported" ] && [ "$(reason_of "$DEV2")" = "not supported|no MEI device" ] \
	|| fail "not supported: $(reason_of "$DEV2")"
expect 200 GET /api/v1/agents/policy "$TOK2"
[ "$(field .provision)/$(field .status)" = "true/not supported" ] && ok "not supported is checked again" \
	|| fail "policy for not supported: $(cat "$T/out")"
expect 200 POST /api/v1/agents/state "$TOK2" '{"amt_supported":false,"amt_detected":true,"reason":"AMT disabled (no AMTHI client)"}'
[ "$(field .status)" = detected ] && [ "$(reason_of "$DEV2")" = "detected|AMT disabled (no AMTHI client)" ] \
	&& ok "detected recorded" || fail "detected: $(cat "$T/out") $(reason_of "$DEV2")"
expect 400 POST /api/v1/agents/state "$TOK2" "$(jq -c '.amt_detected = false' <<<"$STATE")"
[ "$(field .field)" = amt_detected ] || fail "amt_detected false with AMT usable: $(cat "$T/out")"
[ "$(reason_of "$DEV2")" = "detected|AMT disabled (no AMTHI client)" ] || fail "refused message changed the device"
# a device amtprov provisioned (its admin password escrowed) that the site
# had lost track of (detected), reported POST again: provisioned, not foreign
printf '%s\n' 'Qw3#eR5!tY7$uI9p' | "$AMTPROVD" -c "$T/amtprovd.conf" --set-password "$DEV2" admin 2>>"$T/tool.log" \
	|| fail "set-password for $DEV2"
expect 200 POST /api/v1/agents/state "$TOK2" "$(jq -c '.uuid = "4c4c4544-0000-1111-8888-00000000000d" | .provisioning_state = "post" | .control_mode = "admin"' <<<"$STATE")"
[ "$(reason_of "$DEV2")" = "provisioned|" ] && ok "POST with our escrow: provisioned" \
	|| fail "POST of a device with escrow: $(reason_of "$DEV2")"

# --- no secret in clear anywhere ---
dumps=$(dump)
[ -n "$dumps" ] || fail "database dump"
for f in $dumps; do
	if grep -aqF -- "$PW" "$f"; then fail "password in clear in $(basename "$f")"; fi
	if grep -aqF -- "$DIRPW" "$f"; then fail "directory password in clear in $(basename "$f")"; fi
	if grep -aqF -- "$ES" "$f"; then fail "enrolment secret in $(basename "$f")"; fi
	if grep -aqF -- "${TOK#*.}" "$f"; then fail "agent token in $(basename "$f")"; fi
	if grep -aqF -- "$ADMIN" "$f"; then fail "admin token in $(basename "$f")"; fi
done
for s in "$PW" "$DIRPW" "$ES" "${TOK#*.}" "$ADMIN" "$OTP_HASH"; do
	if grep -qF -- "$s" "$T/daemon.log" "$T/tool.log"; then fail "a secret or payload in the logs"; fi
done
ok "no secret in the database or the logs"

# --- clean stop ---
kill "$PID"
wait "$PID"
st=$?
PID=
[ "$st" = 0 ] || fail "amtprovd exit status $st"
if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$T/daemon.log"; then fail "sanitizer report"; fi

if [ "$fails" -ne 0 ]; then
	echo "--- daemon log ---"
	tail -50 "$T/daemon.log"
	echo "$fails failure(s)"
	exit 1
fi
echo "site_api: all passed"
