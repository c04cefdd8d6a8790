#!/bin/bash
# amtsim network side, a whole provisioning over real HTTP/TLS with curl and
# openssl: every request of Intel's RPS (tests/fixtures/simnet/requests)
# sent chunked on the setup session and answered 200; then the admin
# password, the web-server certificate and TLS, CommitChanges; after it the
# device serves the stored certificate, takes the new admin password only,
# answers 16992 as the TLS settings say, and Unprovision stops it.  Device
# 2 checks the fault knobs: latency, a 503 once, and a reboot that keeps
# the flash.
set -u
B=${AMTP_BUILD:?}/src/amtsim/amtsim
F=${AMTP_SRC:?}/tests/fixtures/simnet
R=$F/requests
T=$(mktemp -d /tmp/amtsim_prov.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- log"; tail -30 "$T/log"; exit 1; }

NET=127.20.$(( ($$ % 200) + 30 )).$(( ($$ / 200) % 200 + 20 ))
N1=$NET
N2=${NET%.*}.$(( ${NET##*.} + 1 ))
S=$T/state
"$B" --state "$S" --devices 2 --address "$N1" --dns-suffix corp.example \
    --trust-root "$F/roots.sha256" --wireless-every 1 --create-only \
    --otp-mismatch 2 --no-fsync >/dev/null 2>&1 ||
	fail "create"
"$B" --state "$S" --no-fsync --keypool 1 -v --faults \
    "latency=300,fail=AMT_SetupAndConfigurationService.Get,status=503,count=1,reboot=AMT_TimeSynchronizationService.GetLowAccuracyTimeSynch,reboot-ms=1500,device=2" \
    >"$T/log" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "amtsim: ready" "$T/log" && break; sleep 0.1; done
grep -q "amtsim: ready" "$T/log" || fail "amtsim did not start"
# device 2 has the wrong-OTP fault knob: it reports "...678x" on the network
"$B" hostcmd "unix:$S/0002.mei" set-otp Sim-Otp-0123456789 >/dev/null ||
	fail "set-otp 2"
for i in 1 2; do
	"$B" hostcmd "unix:$S/000$i.mei" start-configuration >/dev/null ||
		fail "start-configuration $i"
done
sleep 0.3

awk -v l="$T/leaf.pem" -v r="$T/rest.pem" 'BEGIN{c=0} /BEGIN CERT/{c++}
    {print > (c==1 ? l : r)}' "$F/good.pem"
cat "$T/leaf.pem" "$T/rest.pem" > "$T/chain.pem"
CERT=(--cert "$T/chain.pem" --key "$F/leaf.key")

# post ADDR FILE [USER:PW] -> HTTP code, body in $T/out (chunked, TLS)
post() {
	curl -sk -o "$T/out" -w '%{http_code}' --max-time 10 "${CERT[@]}" \
	    --digest -u "${3:-admin:}" -H 'Content-Type: application/soap+xml;charset=UTF-8' \
	    -H 'Transfer-Encoding: chunked' --data-binary @"$2" \
	    "https://$1:16993/wsman"
}
# invoke ADDR CLASS METHOD PARAMS -> code
invoke() {
	local uri=http://intel.com/wbem/wscim/1/amt-schema/1/$2
	cat > "$T/req.xml" <<EOF
<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Header><a:Action>$uri/$3</a:Action><a:To>/wsman</a:To><w:ResourceURI>$uri</w:ResourceURI><a:MessageID>77</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo></Header><Body><h:$3_INPUT xmlns:h="$uri">$4</h:$3_INPUT></Body></Envelope>
EOF
	post "$1" "$T/req.xml" "${5:-admin:}"
}
rv() { grep -o '<g:ReturnValue>[0-9]*<' "$T/out" | tr -dc 0-9; }
der64() { openssl x509 -in "$1" -outform DER | base64 -w0; }

# The certificates the RPS requests refer to (root 0, key 0, leaf 1).
awk 'BEGIN{c=0} /BEGIN CERT/{c++} c==2' "$T/rest.pem" > "$T/root.pem"
[ "$(invoke "$N1" AMT_PublicKeyManagementService AddTrustedRootCertificate \
    "<h:CertificateBlob>$(der64 "$T/root.pem")</h:CertificateBlob>")" = 200 ] &&
    [ "$(rv)" = 0 ] || fail "AddTrustedRootCertificate: $(cat "$T/out")"
KEY64=$(openssl pkcs8 -topk8 -nocrypt -in "$F/leaf.key" -outform DER | base64 -w0)
[ "$(invoke "$N1" AMT_PublicKeyManagementService AddKey \
    "<h:KeyBlob>$KEY64</h:KeyBlob>")" = 200 ] && [ "$(rv)" = 0 ] ||
	fail "AddKey"
[ "$(invoke "$N1" AMT_PublicKeyManagementService AddCertificate \
    "<h:CertificateBlob>$(der64 "$T/leaf.pem")</h:CertificateBlob>")" = 200 ] &&
    [ "$(rv)" = 0 ] || fail "AddCertificate"

# Every RPS request, chunked (Unprovision, 08, comes last).
CTX=
for f in "$R"/[0-9]*.xml; do
	case $f in *_Unprovision.xml) continue;; esac
	if [[ $f == *_Pull.xml ]]; then
		uri=$(grep -o '<w:ResourceURI>[^<]*' "$f" | cut -d'>' -f2)
		sed -e 's#enumeration/Pull<#enumeration/Enumerate<#' \
		    -e 's#<Body>.*</Body>#<Body><Enumerate xmlns="http://schemas.xmlsoap.org/ws/2004/09/enumeration" /></Body>#' \
		    "$f" > "$T/enum.xml"
		[ "$(post "$N1" "$T/enum.xml")" = 200 ] || fail "enumerate $uri"
		CTX=$(grep -o '<g:EnumerationContext>[^<]*' "$T/out" | cut -d'>' -f2)
		sed "s#<EnumerationContext>[^<]*<#<EnumerationContext>$CTX<#" \
		    "$f" > "$T/pull.xml"
		f2=$T/pull.xml
	else
		f2=$f
	fi
	code=$(post "$N1" "$f2")
	[ "$code" = 200 ] || fail "$(basename "$f"): HTTP $code: $(head -c 600 "$T/out")"
	grep -q "<b:RelatesTo>" "$T/out" || fail "$(basename "$f"): no RelatesTo"
done

# Provision: admin password (hex HA1, MeshCentral's form), TLS, commit.
REALM=$(post "$N1" "$R/01_AMT_GeneralSettings_Get.xml" >/dev/null;
    grep -o '<g:DigestRealm>[^<]*' "$T/out" | cut -d'>' -f2)
[ -n "$REALM" ] || fail "no realm"
PW='N3w@dminPass'
HA1=$(printf '%s' "admin:$REALM:$PW" | md5sum | cut -d' ' -f1)
[ "$(invoke "$N1" AMT_AuthorizationService SetAdminAclEntryEx \
    "<h:Username>admin</h:Username><h:DigestPassword>$HA1</h:DigestPassword>")" = 200 ] &&
    [ "$(rv)" = 0 ] || fail "SetAdminAclEntryEx"
sed 's#<h:AcceptNonSecureConnections>false#<h:AcceptNonSecureConnections>true#' \
    "$R/21_AMT_TLSSettingData_Put.xml" > "$T/tls.xml"
[ "$(post "$N1" "$T/tls.xml")" = 200 ] || fail "TLS Put"
[ "$(post "$N1" "$R/06_AMT_SetupAndConfigurationService_CommitChanges.xml")" = 200 ] &&
    [ "$(rv)" = 0 ] || fail "CommitChanges: $(cat "$T/out")"
"$B" --state "$S" --show 1 --json | grep -q '"state": *"post"' ||
	fail "not post after commit"
# --show: HA1s and private keys in the net section only with --secrets
"$B" --state "$S" --show 1 --json --secrets > "$T/show" || fail "--show --secrets"
grep -q "\"ha1\": \"$HA1\"" "$T/show" || fail "--show --secrets: no admin HA1"
grep -q 'PRIVATE KEY' "$T/show" || fail "--show --secrets: no private key"
"$B" --state "$S" --show 1 --json > "$T/show" || fail "--show"
grep -qF -- "$HA1" "$T/show" && fail "--show prints the admin HA1"
grep -q 'PRIVATE KEY' "$T/show" && fail "--show prints a private key"
grep -q '"ha1": "(redacted)"' "$T/show" || fail "--show: HA1 not marked redacted"

# After: the stored certificate, the new password only, 16992 open.
subj=$(echo | timeout 10 openssl s_client -connect "$N1:16993" 2>/dev/null |
    openssl x509 -noout -subject 2>/dev/null)
[[ $subj == *prov.corp.example* ]] || fail "server certificate: $subj"
code=$(curl -sk -o "$T/out" -w '%{http_code}' --max-time 10 --digest \
    -u "admin:$PW" "https://$N1:16993/wsman" --data-binary @"$R/01_AMT_GeneralSettings_Get.xml")
[ "$code" = 200 ] || fail "new admin password over TLS: $code"
code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 --digest \
    -u "admin:" "https://$N1:16993/wsman" --data-binary @"$R/01_AMT_GeneralSettings_Get.xml")
[ "$code" = 401 ] || fail "setup password after commit: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --digest \
    -u "admin:$PW" "http://$N1:16992/wsman" --data-binary @"$R/01_AMT_GeneralSettings_Get.xml")
[ "$code" = 200 ] || fail "16992 with non-secure accepted: $code"
code=$(curl -sk -o "$T/out" -w '%{http_code}' --max-time 10 --digest \
    -u "admin:$PW" "https://$N1:16993/wsman" \
    --data-binary @"$R/08_AMT_SetupAndConfigurationService_Unprovision.xml")
[ "$code" = 200 ] && [ "$(rv)" = 0 ] || fail "Unprovision: $code"
sleep 0.6
code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 \
    "https://$N1:16993/wsman" -d x)
[ "$code" = 000 ] || fail "still listening after Unprovision: $code"

# Device 2: latency, one 503, reboot keeping the flash.
t0=$(date +%s%N)
[ "$(post "$N2" "$R/01_AMT_GeneralSettings_Get.xml")" = 200 ] || fail "dev 2 get"
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -ge 300 ] || fail "latency knob: $(( (t1 - t0) / 1000000 )) ms"
[ "$(post "$N2" "$R/05_AMT_SetupAndConfigurationService_Get.xml")" = 503 ] ||
	fail "503 knob"
[ "$(post "$N2" "$R/05_AMT_SetupAndConfigurationService_Get.xml")" = 200 ] ||
	fail "503 only once"
grep -q "<g:ProvisioningServerOTP>U2ltLU90cC0wMTIzNDU2Nzh4</g:ProvisioningServerOTP>" "$T/out" ||
	fail "otp-mismatch knob: $(grep -o '<g:ProvisioningServerOTP>[^<]*' "$T/out")"
"$B" --state "$S" --show 2 --json --secrets | grep -q '"otp": "Sim-Otp-0123456789"' ||
	fail "otp-mismatch knob changed the stored OTP"
[ "$(post "$N2" "$R/04_AMT_GeneralSettings_Put.xml")" = 200 ] || fail "put"
[ "$(post "$N2" "$R/10_AMT_TimeSynchronizationService_GetLowAccuracyTimeSynch.xml")" = 200 ] ||
	fail "call before reboot"
sleep 0.5
[ "$(post "$N2" "$R/01_AMT_GeneralSettings_Get.xml")" = 000 ] ||
	fail "answered while rebooting"
sleep 1.5
[ "$(post "$N2" "$R/01_AMT_GeneralSettings_Get.xml")" = 200 ] ||
	fail "not back after reboot"
grep -q "<g:HostName>simhost</g:HostName>" "$T/out" || fail "flash lost"
grep -q "rebooting" "$T/log" || fail "no reboot in the log"
echo ok
