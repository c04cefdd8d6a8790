#!/usr/bin/env bash
# Integration test of the admin CLI (amtprov) against a real site:
# `amtprov init` makes a site directory (lab chain, role site only), amtprovd
# serves it over HTTPS on 127.0.0.1, three agents register with curl (two
# post their OTP hash and state message, so two provisioning jobs are
# queued), and the CLI's views and actions are checked as a user would:
# the devices table, --json, --names, device show, jobs, audit, a password
# reveal with its audit record, cancel/requeue/unprovision, rotate (refused
# for a device amtprov did not provision), watch ending on its timeout, and the exit
# statuses for a bad token, an unreachable site and an unknown device.
set -u

B=${AMTP_BUILD:?AMTP_BUILD must name the build directory}
AMTPROV=$B/src/cli/amtprov
AMTPROVD=$B/src/amtprovd/amtprovd
for t in curl python3; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -x "$AMTPROV" ] || { echo "FAIL: $AMTPROV not built"; exit 1; }
[ -x "$AMTPROVD" ] || { echo "FAIL: $AMTPROVD not built"; exit 1; }

T=$(mktemp -d /tmp/amtp_cli_views.XXXXXX)
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
# json FILE EXPR: evaluates a Python expression over the parsed file (j)
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
S=$T/site

# --- init ---
"$AMTPROV" init --dir "$S" --domain fleet.example.test --lab \
	--listen 127.0.0.1:$PORT --roles site > "$T/init.out" 2>&1 ||
	{ cat "$T/init.out"; echo "FAIL: init"; exit 1; }
TOKEN=$(cat "$S/admin.token")
grep -qF -- "$TOKEN" "$T/init.out" && ok "init printed the admin token" || fail "token not printed"
grep -q "root SHA-256 $(cat "$S/lab-root.sha256" | cut -c1-64)" "$T/init.out" &&
	ok "init printed the lab root hash" || fail "lab root hash: $(cat "$T/init.out")"
for f in master.key enrol.secret site.key admin.token ca-inter.key.sealed prov-key.sealed; do
	m=$(stat -c %a "$S/$f")
	[ "$m" = 600 ] || fail "$f mode $m"
done
ok "secret files are 0600"
[ "$(stat -c %a "$S")" = 700 ] || fail "site dir mode"
"$AMTPROVD" -c "$S/amtprovd.conf" --check-config >/dev/null || fail "check-config"
python3 - "$S/site.db" "$TOKEN" <<'PY' || fail "admin token hash in the database"
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
h = hashlib.sha256(sys.argv[2].encode()).hexdigest()
rows = db.execute("select name, role from admin_tokens where token_hash=?", (h,)).fetchall()
assert rows == [("admin", "admin")], rows
raw = open(sys.argv[1], "rb").read()
assert sys.argv[2].encode() not in raw, "token in clear in the database"
PY
# a second init into the same directory is refused and changes nothing
cp "$S/master.key" "$T/mk.copy"
if "$AMTPROV" init --dir "$S" --domain fleet.example.test --lab 2>"$T/init2.err"; then
	fail "init over an existing site"
else
	grep -q "a site is there already" "$T/init2.err" && ok "init refuses an existing site" ||
		fail "init2: $(cat "$T/init2.err")"
fi
cmp -s "$S/master.key" "$T/mk.copy" || fail "master key changed by the refused init"
"$AMTPROV" init --dir "$T/x" --domain fleet.example.test >/dev/null 2>&1
[ $? = 2 ] && ok "init without --lab/--p12: usage" || fail "init usage exit"

# --- the site ---
"$AMTPROVD" -c "$S/amtprovd.conf" > "$T/daemon.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
	grep -q "serving https" "$T/daemon.log" && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
grep -q "serving https" "$T/daemon.log" || { cat "$T/daemon.log"; echo "FAIL: amtprovd did not start"; exit 1; }
U=https://127.0.0.1:$PORT
[ "$(curl -sS --cacert "$S/ca-chain.pem" $U/healthz | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" = ok ] &&
	ok "healthz over TLS with the site CA" || fail "healthz"

ES=$(cat "$S/enrol.secret")
agent() {	# agent N WITH_STATE
	local n=$1 uuid tok
	uuid=$(printf '4c4c4544-0000-1111-8888-%012d' "$n")
	curl -sS --cacert "$S/ca-chain.pem" -H "Authorization: Bearer $ES" \
		-H 'Content-Type: application/json' -o "$T/reg$n" \
		--data-binary "{\"hostname\":\"pc$n\",\"smbios_uuid\":\"$uuid\"}" $U/api/v1/agents/register
	tok=$(json "$T/reg$n" 'j["agent_token"]')
	[ "$2" = 1 ] || return 0
	curl -sS --cacert "$S/ca-chain.pem" -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' -o /dev/null \
		--data-binary "{\"otp_sha256\":\"$(printf 'otp%021d' $n | sha256sum | cut -c1-64)\",\"amt_address\":\"127.20.0.$n\"}" \
		$U/api/v1/agents/otp
	curl -sS --cacert "$S/ca-chain.pem" -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' -o /dev/null \
		--data-binary "{\"amt_version\":\"16.1.25\",\"uuid\":\"$uuid\",\"provisioning_state\":\"in\",\"wireless\":true,\"dns_suffix\":\"fleet.example.test\"}" \
		$U/api/v1/agents/state
}
agent 1 1; agent 2 1; agent 3 0

A=("$AMTPROV" --dir "$S")
"${A[@]}" devices --json > "$T/devices.json" || fail "devices --json exit"
# ids are the database's (not 1, 2, 3: registration upserts)
read -r D1 D2 D3 <<< "$(json "$T/devices.json" '" ".join(str(d["id"]) for d in j["devices"])')"
# --- devices: table, --json, --names, filters ---
"${A[@]}" devices > "$T/devices.txt" || fail "devices exit $?"
head -1 "$T/devices.txt" | grep -Eq '^ID +HOST +STATUS +AMT +JOB +STEP +LAST ERROR +AGE$' &&
	ok "devices table header" || fail "devices header: $(head -1 "$T/devices.txt")"
[ "$(wc -l < "$T/devices.txt")" = 4 ] || fail "devices rows: $(cat "$T/devices.txt")"
grep -Eq "^$D1 +pc1 +not provisioned +16\.1\.25 +provision queued +" "$T/devices.txt" &&
	ok "device 1 row: status, AMT version, queued job" || fail "device 1 row: $(cat "$T/devices.txt")"
grep -Eq "^$D3 +pc3 +unknown +- +- +- +- +" "$T/devices.txt" &&
	ok "device 3 row: no facts, no job" || fail "device 3 row: $(cat "$T/devices.txt")"
[ "$(json "$T/devices.json" 'j["total"], len(j["devices"]), j["devices"][0]["amt_version"], j["devices"][0]["job"]["state"], j["devices"][2]["job"], j["devices"][0]["hostname"]')" = "3 3 16.1.25 queued None pc1" ] &&
	ok "devices --json" || fail "devices --json: $(cat "$T/devices.json")"
[ "$("${A[@]}" devices --names --status 'not provisioned' | tr '\n' ' ')" = "pc1 pc2 " ] &&
	ok "devices --names --status" || fail "devices --names"
[ "$("${A[@]}" devices --names --search pc3)" = pc3 ] && ok "devices --search" || fail "devices --search"
"${A[@]}" devices --status bogus 2>/dev/null; [ $? = 2 ] && ok "bad --status: usage" || fail "bad --status exit"
[ "$("${A[@]}" devices --failed | wc -l)" = 1 ] && ok "devices --failed: none" || fail "devices --failed"

# --- device show ---
"${A[@]}" device show $D1 > "$T/show.txt" || fail "device show exit"
grep -q '^  AMT version   16.1.25$' "$T/show.txt" && grep -Eq '^  job [0-9]+: provision, queued' "$T/show.txt" &&
	grep -q '(no steps yet)' "$T/show.txt" && grep -Eq '^  directory +v1 +current' "$T/show.txt" &&
	ok "device show: facts, escrow, job" || fail "device show: $(cat "$T/show.txt")"
"${A[@]}" device show $D1 --json > "$T/show.json"
[ "$(json "$T/show.json" 'j["device"]["hostname"], j["facts"]["wireless"]')" = "pc1 True" ] &&
	ok "device show --json" || fail "device show --json"
"${A[@]}" device show 99 2>"$T/err"; [ $? = 5 ] && ok "unknown device: exit 5" || fail "unknown device exit"

# --- jobs ---
"${A[@]}" jobs > "$T/jobs.txt"
head -1 "$T/jobs.txt" | grep -Eq '^JOB +DEVICE +KIND +STATE +STEP +ATTEMPTS +LAST ERROR +TOOK$' &&
	[ "$(grep -c ' provision  *queued ' "$T/jobs.txt")" = 2 ] && ok "jobs table" || fail "jobs: $(cat "$T/jobs.txt")"
[ "$("${A[@]}" jobs --json --device $D2 | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["total"], j["jobs"][0]["device_id"], j["jobs"][0]["state"])')" = "1 $D2 queued" ] &&
	ok "jobs --json --device" || fail "jobs --device"

# --- password: escrow state, reveal, audit record ---
printf 'Sup3r-Secret-Pw!\n' | "$AMTPROVD" -c "$S/amtprovd.conf" --set-password $D1 admin 2>/dev/null || fail "set-password"
"${A[@]}" device password $D1 > "$T/pw.txt"
grep -q 'admin password versions: v1 current' "$T/pw.txt" && ! grep -q 'Sup3r' "$T/pw.txt" &&
	ok "password view shows versions, not the value" || fail "password view: $(cat "$T/pw.txt")"
PW=$("${A[@]}" device password $D1 --reveal --reason "ticket 42" 2>"$T/reveal.err")
[ "$PW" = 'Sup3r-Secret-Pw!' ] && ok "reveal prints the password alone" || fail "reveal: [$PW]"
grep -q 'this reveal is in the audit log' "$T/reveal.err" || fail "reveal note"
"${A[@]}" audit --json --device $D1 > "$T/audit.json"
[ "$(json "$T/audit.json" '[(r["actor"], r["action"]) for r in j["records"] if r["action"]=="device.password.reveal"]')" = "[('admin:admin', 'device.password.reveal')]" ] &&
	ok "audit --json has the reveal, by admin:admin" || fail "audit: $(cat "$T/audit.json")"
json "$T/audit.json" '[r["detail"] for r in j["records"] if r["action"]=="device.password.reveal"][0]' | grep -q 'ticket 42' &&
	ok "the reveal's audit record keeps the reason" || fail "reason not in audit"
grep -q 'Sup3r' "$T/audit.json" && fail "password in the audit log"
"${A[@]}" audit > "$T/audit.txt"
grep -Eq '^[0-9]+ +20[0-9-]+ [0-9:]+ +admin:admin +device.password.reveal +1 +' "$T/audit.txt" &&
	ok "audit table" || fail "audit table: $(cat "$T/audit.txt")"
"${A[@]}" device password $D1 --reveal --pending >/dev/null 2>&1; [ $? = 5 ] &&
	ok "no pending password: exit 5" || fail "pending reveal exit"

# --- actions ---
"${A[@]}" cancel $D1 --reason "wrong room" | grep -Eq "^device $D1: cancelled job [0-9]+$" && ok "cancel" || fail "cancel"
"${A[@]}" cancel $D1 >/dev/null 2>&1; [ $? = 4 ] && ok "cancel without an open job: refused (4)" || fail "cancel twice exit"
"${A[@]}" requeue $D1 | grep -Eq "^device $D1: provision job [0-9]+ queued" && ok "requeue" || fail "requeue"
"${A[@]}" requeue $D1 2>"$T/err" >/dev/null; [ $? = 4 ] && grep -q 'has a job queued or running already' "$T/err" &&
	ok "requeue of an open job: refused with the reason" || fail "requeue twice: $(cat "$T/err")"
"${A[@]}" device unprovision $D2 --json > "$T/unprov.json" && [ "$(json "$T/unprov.json" 'j["job"]["kind"]')" = unprovision ] &&
	ok "unprovision --json" || fail "unprovision"
"${A[@]}" rotate $D2 2>"$T/err"; rc=$?
# D2 was never provisioned by amtprov: rotation is refused with the reason
# (tests/integration/cli_rotate.sh rotates a provisioned device)
if [ $rc = 4 ] && grep -q 'only a device that amtprov' "$T/err"; then ok "rotate of an unprovisioned device: refused (4)"
else fail "rotate: exit $rc: $(cat "$T/err")"; fi
"${A[@]}" audit --json --device $D1 | python3 -c '
import json, sys
acts = [r["action"] for r in json.load(sys.stdin)["records"]]
assert "device.cancel" in acts and "device.requeue" in acts, acts' && ok "actions audited" || fail "actions not audited"

# --- watch and summary ---
"${A[@]}" watch --timeout 1 --interval 200 > "$T/watch.txt"; rc=$?
[ $rc = 6 ] && grep -q 'timed out after 1s' "$T/watch.txt" && grep -Eq '^\[[#.]+\] [0-9]+/[0-9]+ ' "$T/watch.txt" &&
	grep -q '^summary after' "$T/watch.txt" && ok "watch (not a terminal): plain lines, timeout, summary, exit 6" ||
	fail "watch: exit $rc: $(cat "$T/watch.txt")"
# on a terminal (a pty from script(1)): the line is redrawn in place
if command -v script >/dev/null; then
	script -qec "$(printf '%q ' "${A[@]}") watch --timeout 1 --interval 200" /dev/null > "$T/watch.tty" 2>&1
	grep -q $'\r\[' "$T/watch.tty" && grep -q $'\033\[K' "$T/watch.tty" &&
		ok "watch on a terminal: redrawn in place" || fail "watch tty: $(od -c "$T/watch.tty" | head -5)"
fi
"${A[@]}" summary --json > "$T/sum.json"
# device 2's provisioning job was cancelled by its unprovision request
[ "$(json "$T/sum.json" 'j["devices"], j["status"]["not provisioned"], j["jobs"]["queued"], j["jobs"]["cancelled"]')" = "3 2 1 1" ] &&
	ok "summary --json" || fail "summary: $(cat "$T/sum.json")"

# --- refusals ---
printf 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' > "$T/bad.token"; chmod 600 "$T/bad.token"
"${A[@]}" --token-file "$T/bad.token" devices 2>"$T/err"; [ $? = 4 ] && grep -q 'check the admin token' "$T/err" &&
	ok "bad token: refused (4)" || fail "bad token: $(cat "$T/err")"
chmod 644 "$T/bad.token"
"${A[@]}" --token-file "$T/bad.token" devices 2>"$T/err"; [ $? = 2 ] && ok "token file readable by others: refused" || fail "loose token file"
"$AMTPROV" --site https://127.0.0.1:1 --ca "$S/ca-chain.pem" --token-file "$S/admin.token" devices 2>/dev/null
[ $? = 3 ] && ok "unreachable site: exit 3" || fail "unreachable exit"
"$AMTPROV" --site https://127.0.0.1:$PORT --ca "$S/lab-root.pem" --token-file "$S/admin.token" devices 2>"$T/err"
[ $? = 3 ] && ok "site certificate not from the pinned CA: refused" || fail "wrong CA: $(cat "$T/err")"
"$AMTPROV" --dir "$T/nothing" devices 2>/dev/null; [ $? = 2 ] && ok "no settings: usage" || fail "no settings exit"

# --- a site restarting under a watch: the watch waits for it ---
"${A[@]}" watch --expect 99 --timeout 8 --interval 300 > "$T/w.out" 2> "$T/w.err" &
WP=$!
sleep 1.5
kill "$PID"; wait "$PID" 2>/dev/null
sleep 1.5
"$AMTPROVD" -c "$S/amtprovd.conf" >> "$T/daemon.log" 2>&1 &
PID=$!
wait "$WP"; rc=$?
[ $rc = 6 ] && grep -q "the site does not answer; trying again" "$T/w.err" &&
	grep -q "the site answers again" "$T/w.err" && grep -q "^summary after" "$T/w.out" &&
	ok "watch rides out a site restart" || fail "watch over a restart: exit $rc: $(cat "$T/w.err")"

grep -q 'Sup3r' "$T/daemon.log" && fail "password in the daemon log"
[ $fails = 0 ] && echo "PASS" || { echo "$fails failure(s)"; exit 1; }
