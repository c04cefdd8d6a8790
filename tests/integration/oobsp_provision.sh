#!/usr/bin/env bash
# The service point against amtsim (real TLS with the lab provisioning
# chain, real Digest, the simulator's WS-Management): devices put in IN state
# over MEI (set-otp, start-configuration-ex) and queued in a SQLite site
# database are provisioned through every step, then checked independently:
#  - amtsim's own state says POST, host name, TLS, SOL/IDER;
#  - curl --digest with the escrowed admin password, verifying the device's
#    TLS certificate against the site CA for the device's FQDN, reads the
#    stage-2 settings back over WS-Management; a wrong password gets 401;
#  - a device whose OTP differs fails at otp-check and stays IN, untouched.
set -u
B=${AMTP_BUILD:?}
SIM=$B/src/amtsim/amtsim
FLEET=$B/bench_oobsp_fleet
REQ=${AMTP_SRC:?}/tests/unit/amtprovd
T=$(mktemp -d /tmp/oobsp_it.XXXXXX)
SIMPID=
cleanup() {
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

DOMAIN=fleet.example.test
NET=127.22.$((RANDOM % 200 + 20))
N=3

mkdir -p "$T/site"
"$FLEET" init "$T/site" $DOMAIN > /dev/null || fail "site init"
"$SIM" --state "$T/sim" --devices $N --address $NET.1 --pki-dns-suffix $DOMAIN \
	--trust-root "$T/site/lab-root.sha256" --no-fsync --quiet \
	--wireless-every 2 > "$T/sim.log" 2>&1 &
SIMPID=$!
for i in $(seq 1 50); do
	grep -q "ready" "$T/sim.log" 2>/dev/null && break
	kill -0 $SIMPID 2>/dev/null || { cat "$T/sim.log"; fail "amtsim died"; }
	sleep 0.1
done
for i in $(seq 1 $N); do
	otp="OTP-oobsp-it-0000000-$i"
	[ $i -eq 3 ] && otp="OTP-not-the-right-one-3"
	m=unix:$T/sim/$(printf %04d $i).mei
	"$SIM" hostcmd "$m" set-otp "$otp" > /dev/null || fail "set-otp $i"
	"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || fail "start $i"
done
OOBSP_DIRACCT=1 "$FLEET" enqueue "$T/site" $DOMAIN $N $NET.1 OTP-oobsp-it-0000000- ||
	fail "enqueue"
OOBSP_WIFI_SSID=OfficeNet OOBSP_8021X_ROOT="$T/site/ca-root.pem" \
	OOBSP_KERBEROS=FLEET.EXAMPLE.TEST OOBSP_ACL_USER=operator timeout 60 "$FLEET" serve "$T/site" 8 > "$T/serve.out" 2> "$T/serve.err" ||
	{ cat "$T/serve.err"; fail "serve"; }
"$FLEET" status "$T/site" > "$T/status" 
grep -q "^1 1 done" "$T/status" || { cat "$T/status"; fail "device 1 not done"; }
grep -q "^2 2 done" "$T/status" || { cat "$T/status"; fail "device 2 not done"; }
grep -q "^3 3 failed .*otp-check: OTP mismatch" "$T/status" ||
	{ cat "$T/status"; fail "device 3 should fail at otp-check"; }

show() { "$SIM" --state "$T/sim" --show "$1" --json; }
for i in 1 2; do
	show $i > "$T/show$i.json" || fail "show $i"
	python3 - "$T/show$i.json" $i <<'EOF' || fail "amtsim state of device $i"
import json, sys
d = json.load(open(sys.argv[1])); i = sys.argv[2]
assert d["provisioning"]["state"] == "post", d["provisioning"]
assert d["features"]["sol"] and d["features"]["ider"], d["features"]
g = d["sections"]["net"]["inst"]["AMT_GeneralSettings"][0]
assert g["HostName"] == "pc" + i and g["DomainName"] == "fleet.example.test", g
k = d["sections"]["net"]["inst"]["AMT_KerberosSettingData"][0]
assert k["KrbEnabled"] == "true" and k["RealmName"] == "FLEET.EXAMPLE.TEST", k
assert "HTTP/pc%s.fleet.example.test:16993" % i in k["ServicePrincipalName"], k
t = [x for x in d["sections"]["net"]["inst"]["AMT_TLSSettingData"]
     if "802.3" in x.get("InstanceID", "")][0]
assert t["Enabled"] == "true" and t["AcceptNonSecureConnections"] == "false", t
EOF
done
# device 2 has wireless: the site's profile, and nothing else; device 1 none
python3 - "$T/show1.json" "$T/show2.json" <<'EOF' || fail "Wi-Fi profiles"
import json, sys
d1 = json.load(open(sys.argv[1])); d2 = json.load(open(sys.argv[2]))
assert not d1["sections"]["net"]["inst"].get("CIM_WiFiEndpointSettings"), d1
w = d2["sections"]["net"]["inst"]["CIM_WiFiEndpointSettings"]
assert len(w) == 2 and w[0]["SSID"] == "OfficeNet", w
assert w[0]["AuthenticationMethod"] == "6" and w[0]["EncryptionMethod"] == "4", w
assert w[1]["SSID"] == "CorpNet" and w[1]["AuthenticationMethod"] == "7", w
for d in (d1, d2):
    x = d["sections"]["net"]["inst"]["AMT_8021XProfile"][0]
    assert x["Enabled"] == "true" and x["AuthenticationProtocol"] == "0", x
    c = d["sections"]["net"]["certs"]
    assert len([e for e in c if e.get("root")]) == 1, c   # the RADIUS root
EOF
show 3 > "$T/show3.json"
python3 -c "
import json,sys
d=json.load(open('$T/show3.json'))
assert d['provisioning']['state']=='in', d['provisioning']
assert d['sections'].get('net',{}).get('inst',{}).get('AMT_GeneralSettings',[{}])[0].get('HostName','') != 'pc3'
" || fail "device 3 was written to"

# independent WS-Man Gets with curl --digest and the escrowed password
envelope() {	# $1 = class
	printf '%s' '<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:To>/wsman</a:To><w:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/'"$1"'</w:ResourceURI><a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout></Header><Body/></Envelope>'
}
wsget() {	# $1 device, $2 password, $3 class -> body on stdout, code in $T/code
	curl -s -o "$T/body" -w '%{http_code}' --digest -u "admin:$2" \
		--cacert "$T/site/ca-chain.pem" \
		--resolve pc$1.$DOMAIN:16993:$NET.$1 \
		-H 'Content-Type: application/soap+xml;charset=UTF-8' \
		--data-binary "$(envelope "$3")" \
		https://pc$1.$DOMAIN:16993/wsman > "$T/code"
	cat "$T/body"
}
for i in 1 2; do
	PW=$("$FLEET" password "$T/site" $i) || fail "no escrowed password for $i"
	[ ${#PW} -eq 16 ] || fail "admin password length ${#PW}"
	wsget $i "$PW" AMT_GeneralSettings > "$T/gs$i.xml"
	[ "$(cat "$T/code")" = 200 ] || fail "device $i: GET with the escrowed password: $(cat "$T/code")"
	grep -q "<g:HostName>pc$i</g:HostName>" "$T/gs$i.xml" || fail "device $i: host name"
	grep -q "<g:PingResponseEnabled>true</g:PingResponseEnabled>" "$T/gs$i.xml" ||
		fail "device $i: ping"
	wsget $i "$PW" AMT_RedirectionService > "$T/rd$i.xml"
	grep -q "<g:EnabledState>32771</g:EnabledState>" "$T/rd$i.xml" ||
		fail "device $i: redirection state"
	grep -q "<g:ListenerEnabled>true</g:ListenerEnabled>" "$T/rd$i.xml" ||
		fail "device $i: redirection listener"
	# the ACL user written in the second stage authenticates too
	curl -s -o /dev/null -w '%{http_code}' --digest -u "operator:Op3rator!pw" \
		--cacert "$T/site/ca-chain.pem" --resolve pc$i.$DOMAIN:16993:$NET.$i \
		-H 'Content-Type: application/soap+xml;charset=UTF-8' \
		--data-binary "$(envelope AMT_GeneralSettings)" \
		https://pc$i.$DOMAIN:16993/wsman > "$T/code"
	[ "$(cat "$T/code")" = 200 ] || fail "device $i: ACL user gets $(cat "$T/code")"
	wsget $i "Wrong-Passw0rd!" AMT_GeneralSettings > /dev/null
	[ "$(cat "$T/code")" = 401 ] || fail "device $i: a wrong password got $(cat "$T/code")"
	# the setup credential does not work any more
	wsget $i "" AMT_GeneralSettings > /dev/null
	[ "$(cat "$T/code")" = 401 ] || fail "device $i: the empty password got $(cat "$T/code")"
done
# a rotate job: a new admin password; the old one stops working
OLD=$("$FLEET" password "$T/site" 1)
JOB=$("$FLEET" rotate "$T/site" 1) || fail "rotate enqueue"
timeout 60 "$FLEET" serve "$T/site" 4 > /dev/null 2>> "$T/serve.err" || fail "serve rotate"
"$FLEET" status "$T/site" | grep -q "^$JOB 1 done" || fail "rotate job not done"
NEW=$("$FLEET" password "$T/site" 1)
[ "$NEW" != "$OLD" ] || fail "the password did not change"
wsget 1 "$NEW" AMT_GeneralSettings > /dev/null
[ "$(cat "$T/code")" = 200 ] || fail "rotated password gets $(cat "$T/code")"
wsget 1 "$OLD" AMT_GeneralSettings > /dev/null
[ "$(cat "$T/code")" = 401 ] || fail "the old password still gets $(cat "$T/code")"
echo "oobsp_provision: ok ($(tail -1 "$T/serve.out"))"
exit 0
