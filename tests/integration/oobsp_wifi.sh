#!/usr/bin/env bash
# Wi-Fi and wired 802.1X profiles replaced, against amtsim over real TLS and
# Digest.  A first provisioning gives the wireless device a PSK profile
# "office" and an EAP-TLS profile "corp" (root A, a client certificate made
# in the device) and links the wired 802.1X settings to root A and a second
# client certificate.  A second provisioning job with another policy (root
# B, another SSID) must leave:
#  - the old profiles gone, the new ones present (the new SSID, new links);
#  - the old Wi-Fi client certificate AND its key gone, root A gone (no
#    profile uses it any more), the old wired client certificate and key
#    gone; every remaining key belongs to a remaining certificate;
#  - the TLS certificate and its key untouched (same handle, same bytes,
#    still serving 16993);
#  - the wired link readable back from the device over WS-Management
#    (Enumerate/Pull CIM_CredentialContext with the escrowed password): an
#    IPS_8021xCredentialContext to root B and to the new client
#    certificate; IPS_IEEE8021xSettings.Enabled = 2.
# Also: deleting a linked certificate through WS-Management is refused.
set -u
B=${AMTP_BUILD:?}
SIM=$B/src/amtsim/amtsim
FLEET=$B/bench_oobsp_fleet
T=$(mktemp -d /tmp/oobsp_wifi.XXXXXX)
SIMPID=
cleanup() {
	[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

DOMAIN=fleet.example.test
NET=127.29.$((RANDOM % 200 + 20))
N=2

mkdir -p "$T/site"
"$FLEET" init "$T/site" $DOMAIN > /dev/null || fail "site init"
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=RADIUS Root B" -days 30 \
	-keyout "$T/rootB.key" -out "$T/rootB.pem" 2> /dev/null || fail "root B"
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
	m=unix:$T/sim/$(printf %04d $i).mei
	"$SIM" hostcmd "$m" set-otp "OTP-oobsp-wifi-000000-$i" > /dev/null || fail "set-otp $i"
	"$SIM" hostcmd "$m" start-configuration-ex 0 > /dev/null || fail "start $i"
done
run() {		# $1 = SSID of the PSK profile, $2 = the 802.1X root
	"$FLEET" enqueue "$T/site" $DOMAIN $N $NET.1 OTP-oobsp-wifi-000000- || fail "enqueue"
	OOBSP_WIFI_SSID=$1 OOBSP_8021X_ROOT=$2 timeout 50 "$FLEET" serve "$T/site" 4 \
		> "$T/serve.out" 2> "$T/serve.err" || { cat "$T/serve.err"; fail "serve"; }
	"$FLEET" status "$T/site" > "$T/status"
}
show() { "$SIM" --state "$T/sim" --show 2 --json > "$T/$1.json" || fail "show"; }

run OfficeNet "$T/site/ca-root.pem"
grep -q "^1 1 done" "$T/status" && grep -q "^2 2 done" "$T/status" ||
	{ cat "$T/status"; fail "first provisioning"; }
show first
run GuestNet "$T/rootB.pem"
grep -q "^3 1 done" "$T/status" && grep -q "^4 2 done" "$T/status" ||
	{ cat "$T/status"; fail "second provisioning"; }
show second

cat > "$T/check.py" <<'EOF'
# check.py BEFORE.json AFTER.json OLD_ROOT.pem NEW_ROOT.pem NEW_SSID: the
# device state after a provisioning that replaced the profiles of BEFORE
import base64, json, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization as ser

def net(p):
    return json.load(open(p))["sections"]["net"]
def der(pem):
    return base64.b64encode(x509.load_pem_x509_certificate(
        open(pem, "rb").read()).public_bytes(ser.Encoding.DER)).decode()
def pub(c):   # a certificate's key as amtsim stores a key ("pub": PKCS#1)
    k = x509.load_der_x509_certificate(base64.b64decode(c["der"])).public_key()
    return base64.b64encode(k.public_bytes(ser.Encoding.DER,
        ser.PublicFormat.PKCS1)).decode()
a, b = net(sys.argv[1]), net(sys.argv[2])
oldroot, newroot, ssid = der(sys.argv[3]), der(sys.argv[4]), sys.argv[5]
ca = {c["handle"]: c for c in a["certs"]}
cb = {c["handle"]: c for c in b["certs"]}
ka = {k["handle"]: k["pub"] for k in a["keys"]}
kb = {k["handle"]: k["pub"] for k in b["keys"]}

# before: corp (EAP-TLS) linked to the old root and a client certificate,
# the wired settings to the old root and another one
wa = {w["ElementName"]: w for w in a["inst"]["CIM_WiFiEndpointSettings"]}
assert sorted(wa) == ["corp", "office"], wa
assert wa["office"]["_client"] == -1 and wa["office"]["_ca"] == -1
c1, ra = wa["corp"]["_client"], wa["corp"]["_ca"]
assert ca[ra]["der"] == oldroot and ca[ra]["root"], ca[ra]
assert c1 in ca and not ca[c1]["root"], c1
xa = a["inst"]["IPS_IEEE8021xSettings"][0]
assert xa["Enabled"] == "2" and xa["_ca"] == ra, xa
w1 = xa["_client"]
assert w1 in ca and w1 != c1, (w1, c1)
tls = a["tlsctx"]["cert"]
assert tls not in (c1, w1, ra)
k_c1 = [h for h, p in ka.items() if p == pub(ca[c1])]
k_w1 = [h for h, p in ka.items() if p == pub(ca[w1])]
k_tls = [h for h, p in ka.items() if p == pub(ca[tls])]
assert len(k_c1) == 1 and len(k_w1) == 1 and len(k_tls) == 1, ka

# after: the profiles replaced
wb = {w["ElementName"]: w for w in b["inst"]["CIM_WiFiEndpointSettings"]}
assert sorted(wb) == ["corp", "office"], wb
assert wb["office"]["SSID"] == ssid, wb["office"]
c2, rb = wb["corp"]["_client"], wb["corp"]["_ca"]
assert cb[rb]["der"] == newroot and cb[rb]["root"], cb.get(rb)
assert c2 in cb and not cb[c2]["root"] and c2 != c1, (c2, c1)
# ... and the old certificates and keys gone
assert c1 not in cb, "old Wi-Fi client certificate still there"
assert k_c1[0] not in kb, "old Wi-Fi client key still there"
assert w1 not in cb, "old wired client certificate still there"
assert k_w1[0] not in kb, "old wired client key still there"
assert ra not in cb and oldroot not in [c["der"] for c in cb.values()], \
    "the old root still there"
# the wired settings on the new root and a new client certificate
xb = b["inst"]["IPS_IEEE8021xSettings"][0]
w2 = xb["_client"]
assert xb["Enabled"] == "2" and xb["_ca"] == rb, xb
assert w2 in cb and w2 not in (w1, c2) and not cb[w2]["root"], w2
# the TLS certificate and its key untouched
assert b["tlsctx"]["cert"] == tls and cb[tls]["der"] == ca[tls]["der"]
assert kb.get(k_tls[0]) == ka[k_tls[0]], "TLS key changed"
# nothing else left over: TLS, the root, two client certificates; each key
# belongs to one of them
assert sorted(cb) == sorted([tls, rb, c2, w2]), sorted(cb)
assert sorted(kb.values()) == sorted(pub(cb[h]) for h in (tls, c2, w2)), kb
EOF
python3 "$T/check.py" "$T/first.json" "$T/second.json" "$T/site/ca-root.pem" \
	"$T/rootB.pem" GuestNet || fail "device state after the second provisioning"
# the step log says what went: the corp client certificate and its key
# (root A was still linked to the wired settings), then root A and the
# wired client certificate and key
detail() { sqlite3 "$T/site/site.db" "SELECT detail FROM job_steps WHERE job_id = $1 AND step = '$2' AND outcome = 'ok'"; }
detail 4 wifi | grep -qF "2 Wi-Fi profiles deleted (their certificates and keys: 2 deleted, 1 kept in use), 2 added" ||
	fail "wifi step detail: $(detail 4 wifi)"
detail 4 wired-8021x | grep -qF "linked with IPS_IEEE8021xSettings.SetCertificates; the former link's certificates and keys: 3 deleted, 0 kept in use" ||
	fail "wired step detail: $(detail 4 wired-8021x)"
detail 3 wired-8021x | grep -qF "3 deleted, 0 kept in use" || fail "device 1 wired step: $(detail 3 wired-8021x)"

# the wired link read back from the device with the escrowed password
PW=$("$FLEET" password "$T/site" 2) || fail "no escrowed password"
ENUM=http://schemas.xmlsoap.org/ws/2004/09/enumeration
CIMURI=http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_CredentialContext
AMTURI=http://intel.com/wbem/wscim/1/amt-schema/1
ws() {		# $1 action, $2 resource URI, $3 header extra, $4 body
	printf '%s' '<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Header><a:Action>'"$1"'</a:Action><a:To>/wsman</a:To><w:ResourceURI>'"$2"'</w:ResourceURI><a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout>'"$3"'</Header><Body>'"$4"'</Body></Envelope>' > "$T/req.xml"
	curl -s -o "$T/resp.xml" -w '%{http_code}' --digest -u "admin:$PW" \
		--cacert "$T/site/ca-chain.pem" --resolve pc2.$DOMAIN:16993:$NET.2 \
		-H 'Content-Type: application/soap+xml;charset=UTF-8' \
		--data-binary @"$T/req.xml" https://pc2.$DOMAIN:16993/wsman
}
code=$(ws $ENUM/Enumerate $CIMURI "" "<Enumerate xmlns=\"$ENUM\"/>")
[ "$code" = 200 ] || fail "Enumerate CIM_CredentialContext: $code"
CTX=$(python3 -c "import sys, xml.etree.ElementTree as E; print(next(e.text for e in E.parse(sys.argv[1]).iter() if e.tag.endswith('}EnumerationContext')))" "$T/resp.xml")
[ -n "$CTX" ] || fail "no enumeration context"
code=$(ws $ENUM/Pull $CIMURI "" "<Pull xmlns=\"$ENUM\"><EnumerationContext>$CTX</EnumerationContext><MaxElements>999</MaxElements></Pull>")
[ "$code" = 200 ] || fail "Pull CIM_CredentialContext: $code"
python3 - "$T/resp.xml" "$T/second.json" <<'EOF' || fail "credential contexts read back"
import json, sys, xml.etree.ElementTree as ET
b = json.load(open(sys.argv[2]))["sections"]["net"]
xb = b["inst"]["IPS_IEEE8021xSettings"][0]
wb = {w["ElementName"]: w for w in b["inst"]["CIM_WiFiEndpointSettings"]}
def local(t): return t.rsplit("}", 1)[-1]
links = set()
for item in ET.parse(sys.argv[1]).getroot().iter():
    if not local(item.tag).endswith("CredentialContext"):
        continue
    ref = {}
    for role in item:
        uri = sel = None
        for e in role.iter():
            if local(e.tag) == "ResourceURI": uri = e.text
            if local(e.tag) == "Selector": sel = e.text
        ref[local(role.tag)] = (uri.rsplit("/", 1)[-1], sel)
    links.add((local(item.tag), ref["ElementInContext"][1],
               ref["ElementProvidingContext"][0],
               ref["ElementProvidingContext"][1]))
H = "Intel(r) AMT Certificate: Handle: %d"
want = {
    ("AMT_TLSCredentialContext", H % b["tlsctx"]["cert"],
     "AMT_TLSProtocolEndpointCollection", "TLSProtocolEndpointInstances Collection"),
    ("IPS_8021xCredentialContext", H % xb["_ca"], "IPS_IEEE8021xSettings",
     "Intel(r) AMT: 8021X Settings"),
    ("IPS_8021xCredentialContext", H % xb["_client"], "IPS_IEEE8021xSettings",
     "Intel(r) AMT: 8021X Settings"),
    ("CIM_CredentialContext", H % wb["corp"]["_ca"], "CIM_IEEE8021xSettings",
     "Intel(r) AMT:IEEE 802.1x Settings corp"),
    ("CIM_CredentialContext", H % wb["corp"]["_client"], "CIM_IEEE8021xSettings",
     "Intel(r) AMT:IEEE 802.1x Settings corp"),
}
assert links == want, (links ^ want)
EOF
# a linked certificate cannot be deleted (AMT: in use)
W2=$(python3 -c "import json,sys; print(json.load(open('$T/second.json'))['sections']['net']['inst']['IPS_IEEE8021xSettings'][0]['_client'])")
code=$(ws http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete $AMTURI/AMT_PublicKeyCertificate \
	"<w:SelectorSet><w:Selector Name=\"InstanceID\">Intel(r) AMT Certificate: Handle: $W2</w:Selector></w:SelectorSet>" "")
[ "$code" = 400 ] && grep -q "AccessDenied" "$T/resp.xml" ||
	{ cat "$T/resp.xml"; fail "deleting the linked wired certificate: $code"; }
show after
cmp -s <(python3 -c "import json; print(json.load(open('$T/second.json'))['sections']['net']['certs'])") \
	<(python3 -c "import json; print(json.load(open('$T/after.json'))['sections']['net']['certs'])") ||
	fail "a refused Delete changed the certificates"
# a Delete whose answer is lost (amtsim carries it out, then answers 503):
# the step tries again and the device ends in the same state (back to root A)
kill "$SIMPID" && wait "$SIMPID" 2>/dev/null
SIMPID=
"$SIM" --state "$T/sim" --devices $N --address $NET.1 --pki-dns-suffix $DOMAIN \
	--trust-root "$T/site/lab-root.sha256" --no-fsync --quiet --wireless-every 2 \
	--faults device=2,fail=AMT_PublicKeyCertificate.Delete,status=503,count=1 \
	> "$T/sim2.log" 2>&1 &
SIMPID=$!
for i in $(seq 1 50); do
	grep -q "ready" "$T/sim2.log" 2>/dev/null && break
	kill -0 $SIMPID 2>/dev/null || { cat "$T/sim2.log"; fail "amtsim died"; }
	sleep 0.1
done
run OfficeNet "$T/site/ca-root.pem"
grep -q "^6 2 done" "$T/status" || { cat "$T/status"; fail "third provisioning"; }
retried=$(sqlite3 "$T/site/site.db" "SELECT detail FROM job_steps WHERE job_id = 6 AND step = 'wifi' AND outcome = 'failed'")
echo "$retried" | grep -q "AMT_PublicKeyCertificate.*503.*transient" ||
	fail "the lost Delete answer was not retried: $retried"
show third
python3 "$T/check.py" "$T/after.json" "$T/third.json" "$T/rootB.pem" \
	"$T/site/ca-root.pem" OfficeNet || fail "device state after the retried Delete"
echo "oobsp_wifi: ok"

exit 0
