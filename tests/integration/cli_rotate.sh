#!/usr/bin/env bash
# Integration test of password rotation as an administrator does it:
# `amtprov init --lab`, amtprovd with roles site,oobsp,enroll, one simulated
# device provisioned by its agent, then `amtprov rotate ID`.  The site queues
# a rotate job (audited), the service point runs it (two-phase escrow), and
# afterwards the revealed admin password is a new one that the device takes
# over WS-Management (curl --digest, device certificate checked against the
# site CA), while the old one gets 401.  A device that amtprov did not
# provision cannot be rotated.
set -u

B=${AMTP_BUILD:?AMTP_BUILD must name the build directory}
AMTPROV=$B/src/cli/amtprov
AMTPROVD=$B/src/amtprovd/amtprovd
AMTSIM=$B/src/amtsim/amtsim
AGENT=$B/src/agent/amtprov-agent
for x in "$AMTPROV" "$AMTPROVD" "$AMTSIM" "$AGENT"; do
	[ -x "$x" ] || { echo "FAIL: $x not built"; exit 1; }
done
command -v python3 >/dev/null || { echo "FAIL: python3 not installed"; exit 1; }

T=$(mktemp -d /tmp/amtp_cli_rotate.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "${AMTP_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

DOMAIN=fleet.example.test
NET=127.24.$(( $$ % 250 ))
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SITE=$T/site
A=("$AMTPROV" --dir "$SITE")

"$AMTPROV" init --dir "$SITE" --domain $DOMAIN --lab --listen "127.0.0.1:$PORT" \
	--roles site,oobsp,enroll > "$T/init.log" 2>&1 || { cat "$T/init.log"; die "init"; }
"$AMTPROVD" -c "$SITE/amtprovd.conf" > "$T/amtprovd.log" 2>&1 &
PIDS+=($!)
"$AMTSIM" --state "$T/sim" --devices 2 --address "$NET.1" --dns-suffix $DOMAIN \
	--trust-root "$SITE/lab-root.sha256" --no-fsync --quiet > "$T/amtsim.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do
	grep -q "serving https" "$T/amtprovd.log" && grep -q "amtsim: ready" "$T/amtsim.log" && break
	sleep 0.1
done
grep -q "serving https" "$T/amtprovd.log" || { tail "$T/amtprovd.log"; die "amtprovd did not start"; }
grep -q "amtsim: ready" "$T/amtsim.log" || { tail "$T/amtsim.log"; die "amtsim did not start"; }

"$AGENT" --site "https://127.0.0.1:$PORT" --ca "$SITE/ca-chain.pem" \
	--enrol-secret-file "$SITE/enrol.secret" --mei "unix:$T/sim/0001.mei" \
	--state-dir "$T/agent1" --hostname pc1 --json > "$T/agent1.json" 2>"$T/agent1.log" ||
	{ cat "$T/agent1.log"; die "agent"; }

# wait for the provisioning job to end
status=
for _ in $(seq 1 600); do
	"${A[@]}" devices --json > "$T/devices.json" 2>/dev/null &&
		status=$(json "$T/devices.json" 'j["devices"][0]["status"]')
	[ "$status" = provisioned ] && break
	sleep 0.1
done
[ "$status" = provisioned ] || { tail -20 "$T/amtprovd.log"; die "device not provisioned (status '$status')"; }
ID=$(json "$T/devices.json" 'j["devices"][0]["id"]')
ok "device $ID provisioned"

envelope() {
	printf '%s' '<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:To>/wsman</a:To><w:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings</w:ResourceURI><a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout></Header><Body/></Envelope>'
}
wsget() {	# $1 password -> HTTP code
	curl -s -o /dev/null -w '%{http_code}' --digest -u "admin:$1" \
		--cacert "$SITE/ca-chain.pem" --resolve pc1.$DOMAIN:16993:$NET.1 \
		-H 'Content-Type: application/soap+xml;charset=UTF-8' \
		--data-binary "$(envelope)" https://pc1.$DOMAIN:16993/wsman
}

OLD=$("${A[@]}" device password "$ID" --reveal --reason "rotation test" 2>/dev/null)
[ -n "$OLD" ] || die "no admin password revealed"
[ "$(wsget "$OLD")" = 200 ] && ok "the escrowed password works before rotation" || fail "old password before rotation"

"${A[@]}" rotate "$ID" --reason "quarterly rotation" --json > "$T/rotate.json" 2>"$T/rotate.err" ||
	die "rotate: $(cat "$T/rotate.err")"
[ "$(json "$T/rotate.json" 'j["job"]["kind"]')" = rotate ] && ok "rotate queued a rotate job" || fail "rotate job kind"
JOB=$(json "$T/rotate.json" 'j["job"]["id"]')
state=
for _ in $(seq 1 600); do
	"${A[@]}" jobs --json > "$T/jobs.json" 2>/dev/null &&
		state=$(json "$T/jobs.json" "[x['state'] for x in j['jobs'] if x['id']==$JOB][0]")
	case "$state" in done|failed|cancelled) break ;; esac
	sleep 0.1
done
[ "$state" = done ] && ok "rotate job done" || { "${A[@]}" device show "$ID"; die "rotate job $state"; }

NEW=$("${A[@]}" device password "$ID" --reveal --reason "rotation test" 2>/dev/null)
[ -n "$NEW" ] && [ "$NEW" != "$OLD" ] && ok "a new admin password is escrowed" || fail "password not changed"
[ "$(wsget "$NEW")" = 200 ] && ok "the device takes the new password" || fail "new password refused"
[ "$(wsget "$OLD")" = 401 ] && ok "the old password is refused" || fail "old password still works"
"${A[@]}" device password "$ID" > "$T/versions.txt"
grep -q 'retired' "$T/versions.txt" && ok "the old version is kept as retired" || fail "versions: $(cat "$T/versions.txt")"

"${A[@]}" audit --json --device "$ID" > "$T/audit.json"
json "$T/audit.json" '[r["detail"] for r in j["records"] if r["action"]=="device.rotate"][0]' |
	grep -q 'quarterly rotation' && ok "the rotation is audited with its reason" || fail "no audit record"
grep -qF -- "$NEW" "$T/audit.json" "$T/amtprovd.log" && fail "a password reached the audit log or the daemon log"

# a device that amtprov did not provision cannot be rotated
curl -s --cacert "$SITE/ca-chain.pem" -H "Authorization: Bearer $(cat "$SITE/enrol.secret")" \
	-H 'Content-Type: application/json' \
	--data '{"hostname":"pc2","smbios_uuid":"5a0e0d1c-0000-4000-8000-000000000002"}' \
	"https://127.0.0.1:$PORT/api/v1/agents/register" > /dev/null || fail "register pc2"
"${A[@]}" devices --json > "$T/devices.json"
ID2=$(json "$T/devices.json" "[d['id'] for d in j['devices'] if d['id'] != $ID][0] if len(j['devices']) > 1 else ''")
if [ -n "$ID2" ]; then
	st2=$(json "$T/devices.json" "[d['status'] for d in j['devices'] if d['id'] == $ID2][0]")
	if [ "$st2" != provisioned ]; then
		"${A[@]}" rotate "$ID2" 2>"$T/err2" >/dev/null; rc=$?
		[ $rc != 0 ] && grep -q 'only a device that amtprov' "$T/err2" &&
			ok "rotating a device in status '$st2' is refused with the reason" ||
			fail "rotate of a $st2 device: exit $rc: $(cat "$T/err2")"
	fi
fi
"${A[@]}" rotate 99999 >/dev/null 2>&1 && fail "rotate of an unknown device succeeded"

[ $fails = 0 ] || exit 1
echo "cli_rotate: all checks passed"
