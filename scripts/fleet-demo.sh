#!/usr/bin/env bash
# The fleet demo: a fresh site on the embedded defaults (SQLite, built-in CA
# and directory) provisions a simulated fleet end to end, and shows it.
#
#   scripts/fleet-demo.sh [--devices N] [--parallel P] [--timeout S]
#                         [--address A] [--build DIR] [--quiet]
#
# 1. `amtprov init --lab` makes a site in a new temporary folder;
# 2. `amtprovd` runs every role this build has (site, service point,
#    enrollment point) on 127.0.0.1;
# 3. `amtsim` runs the fleet: N devices (default 50), mixed AMT versions,
#    every third with wireless, trusting the site's lab root, except two
#    planted failures:
#      - device 12 (or the last) does not trust the lab root: the service
#        point's TLS session is refused;
#      - device 7 (or the one before the last) reports a wrong OTP: its
#        agent sets and reports the OTP as usual, but the simulated
#        firmware reports another one over the network (amtsim
#        --otp-mismatch, a fault knob), so the service point's identity
#        check must refuse it before writing anything to the device;
# 4. one `amtprov-agent` per device, P at a time (default 8);
# 5. `amtprov watch` shows the progress until every job has ended (or the
#    timeout), then the summary, with the two failures and their reasons;
# 6. every process it started is stopped at the end, also on Ctrl-C; the
#    site folder is kept so that it can be inspected afterwards.
#
# Exit status: 0 when every device but the two planted ones was provisioned
# and both planted ones failed for their planted reason; 1 otherwise; 3 when
# a program or role it needs is not built (the message says which).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${AMTP_DEMO_BUILD:-$top/build/release}
N=50
PAR=8
TIMEOUT=0
ADDR=127.20.0.1
DOMAIN=fleet.example.test
QUIET=0

while [ $# -gt 0 ]; do
	case $1 in
	--devices) N=${2:?}; shift 2 ;;
	--parallel) PAR=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--address) ADDR=${2:?}; shift 2 ;;
	--build) BUILD=${2:?}; shift 2 ;;
	--quiet) QUIET=1; shift ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//; /^set -u/d'; exit 0 ;;
	*) echo "fleet-demo: unknown option $1 (--help)" >&2; exit 2 ;;
	esac
done
case $N in ''|*[!0-9]*) echo "fleet-demo: --devices: a number" >&2; exit 2 ;; esac
case $PAR in ''|*[!0-9]*|0) echo "fleet-demo: --parallel: a number from 1" >&2; exit 2 ;; esac
if [ "$N" -lt 3 ] || [ "$N" -gt 10000 ]; then
	echo "fleet-demo: --devices: 3 to 10000 (two of them are planted failures)" >&2
	exit 2
fi
[ "$TIMEOUT" -gt 0 ] 2>/dev/null || TIMEOUT=$((180 + N))

AMTPROV=$BUILD/src/cli/amtprov
AMTPROVD=$BUILD/src/amtprovd/amtprovd
AMTSIM=$BUILD/src/amtsim/amtsim
AGENT=$BUILD/src/agent/amtprov-agent

say() { [ "$QUIET" = 1 ] || echo "$@"; }
missing() {
	echo "fleet-demo: not built yet: $*" >&2
	echo "fleet-demo: the demo needs every part of the provisioning flow; see docs/STATUS.md" >&2
	exit 3
}

# --- prerequisites: say exactly what is missing ---
[ -x "$AMTPROV" ] || missing "amtprov (the admin CLI) in $BUILD"
[ -x "$AMTPROVD" ] || missing "amtprovd (the site server) in $BUILD"
[ -x "$AMTSIM" ] || missing "amtsim (the AMT simulator) in $BUILD"
[ -x "$AGENT" ] || missing "amtprov-agent (the client agent) in $BUILD"
"$AMTSIM" --help 2>&1 | grep -q -- '--faults' ||
	missing "the simulator's network side (amtsim --faults; devices would not answer on 16992/16993)"
"$AMTSIM" --help 2>&1 | grep -q -- '--otp-mismatch' ||
	missing "the simulator's wrong-OTP fault knob (amtsim --otp-mismatch)"

# --- the temporary site ---
T=$(mktemp -d /tmp/amtprov-demo.XXXXXX) || exit 1
SITE=$T/site
SIM=$T/sim
mkdir -p "$T/agents"
PIDS=()
XPID=
WPID=
# With AMTP_DEMO_STATS=FILE (bench/demo_1000.sh), CPU seconds and peak RSS
# of every process the demo started go to FILE: the servers are sampled
# from /proc just before they are stopped, the agents and the watch through
# the rusage of their waiting parent.
STATS=${AMTP_DEMO_STATS:-}
RUSAGE_PY='import os, resource, signal, subprocess, sys
p = subprocess.Popen(sys.argv[2:])
for s in (signal.SIGINT, signal.SIGTERM):
    signal.signal(s, lambda n, f: p.send_signal(n))
rc = p.wait()
r = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "a") as f:
    f.write("%s %.2f %.2f %d\n" % (os.path.basename(sys.argv[1]), r.ru_utime, r.ru_stime, r.ru_maxrss))
sys.exit(rc)'
snapshot() {	# PID LABEL: "label pid user_s sys_s peak_rss_kb", children too
	local pid=$1 label=$2 tck st hwm c n=0
	tck=$(getconf CLK_TCK)
	[ -r "/proc/$pid/stat" ] || return 0
	st=$(sed 's/.*) //' "/proc/$pid/stat")
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
	echo "$label $pid $(awk -v t="$tck" '{printf "%.2f %.2f", $12 / t, $13 / t}' <<< "$st") ${hwm:-0}" >> "$STATS"
	for c in $(cat /proc/$pid/task/*/children 2>/dev/null); do
		n=$((n + 1))
		snapshot "$c" "$label/child$n"
	done
}
cleanup() {
	local p
	trap - EXIT INT TERM
	[ -n "$WPID" ] && kill -TERM "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
	if [ -n "$STATS" ]; then
		[ -n "${PIDS[0]:-}" ] && snapshot "${PIDS[0]}" amtprovd
		[ -n "${PIDS[1]:-}" ] && snapshot "${PIDS[1]}" amtsim
	fi
	if [ -n "$XPID" ]; then
		kill -TERM -- "-$XPID" 2>/dev/null || kill -TERM "$XPID" 2>/dev/null
	fi
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "$XPID" ] && wait "$XPID" 2>/dev/null
}
trap cleanup EXIT
trap 'echo; echo "fleet-demo: interrupted; stopping what it started (the site is kept in $T)"; exit 130' INT TERM

# a free TCP port on 127.0.0.1 for the site API
PORT=
for p in $(seq $((18443 + RANDOM % 2000)) $((18443 + 2000 + RANDOM % 2000))); do
	if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
		PORT=$p
		break
	fi
done
[ -n "$PORT" ] || { echo "fleet-demo: no free port for the site" >&2; exit 1; }

say "== 1. site: amtprov init --dir $SITE --domain $DOMAIN --lab"
"$AMTPROV" init --dir "$SITE" --domain "$DOMAIN" --lab \
	--listen "127.0.0.1:$PORT" --roles site,oobsp,enroll > "$T/init.log" 2>&1 ||
	{ cat "$T/init.log" >&2; echo "fleet-demo: amtprov init failed" >&2; exit 1; }
[ "$QUIET" = 1 ] || sed -e '/^admin token/,/^  [A-Za-z0-9_-]\{43\}$/d' "$T/init.log" | sed 's/^/   /'
ROLES=site,oobsp,enroll
if ! "$AMTPROVD" -c "$SITE/amtprovd.conf" --check-config > "$T/check.log" 2>&1; then
	if grep -q "role oobsp" "$T/check.log"; then
		missing "amtprovd role oobsp (the out-of-band service point)"
	elif grep -q "role site" "$T/check.log"; then
		missing "amtprovd role site (the site server)"
	elif grep -q "role enroll" "$T/check.log"; then
		# the service point signs the devices' certificates through its
		# own signer process; the enrollment role is for remote service
		# points, so the flow runs without it
		ROLES=site,oobsp
		sed -i 's/^roles = .*/roles = site,oobsp/' "$SITE/amtprovd.conf"
		say "   note: amtprovd role enroll is not built yet; running site,oobsp (the service point issues the"
		say "         devices' certificates from the site CA with its own signer process)"
		"$AMTPROVD" -c "$SITE/amtprovd.conf" --check-config > "$T/check.log" 2>&1 ||
			{ cat "$T/check.log" >&2; exit 1; }
	else
		cat "$T/check.log" >&2
		exit 1
	fi
fi

say "== 2. amtprovd -c $SITE/amtprovd.conf   (roles $ROLES, https://127.0.0.1:$PORT)"
"$AMTPROVD" -c "$SITE/amtprovd.conf" > "$T/amtprovd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do
	grep -q "serving https" "$T/amtprovd.log" && break
	kill -0 "${PIDS[0]}" 2>/dev/null || break
	sleep 0.1
done
grep -q "serving https" "$T/amtprovd.log" ||
	{ tail -20 "$T/amtprovd.log" >&2; echo "fleet-demo: amtprovd did not start" >&2; exit 1; }

# the planted failures
if [ "$N" -ge 12 ]; then UNTRUSTED=12; else UNTRUSTED=$N; fi
if [ "$N" -ge 8 ]; then WRONGOTP=7; else WRONGOTP=$((N - 1)); fi
name() { printf 'pc%04d' "$1"; }

say "== 3. amtsim: $N devices from $ADDR, AMT 11.8/12.0/15.0/16.1, wireless every 3rd;"
say "      $(name $UNTRUSTED) does not trust the lab root, $(name $WRONGOTP) will get a wrong OTP"
"$AMTSIM" --state "$SIM" --devices "$N" --address "$ADDR" \
	--amt-versions 11.8.50,12.0.45,15.0.23,16.1.25 --dns-suffix "$DOMAIN" \
	--trust-root "$SITE/lab-root.sha256" --wireless-every 3 \
	--untrusted "$UNTRUSTED" --otp-mismatch "$WRONGOTP" \
	--quiet > "$T/amtsim.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 1200); do
	grep -q "amtsim: ready" "$T/amtsim.log" && break
	kill -0 "${PIDS[1]}" 2>/dev/null || break
	sleep 0.1
done
grep -q "amtsim: ready" "$T/amtsim.log" ||
	{ tail -20 "$T/amtsim.log" >&2; echo "fleet-demo: amtsim did not start" >&2; exit 1; }
if grep -q "cannot listen" "$T/amtsim.log"; then
	grep "cannot listen" "$T/amtsim.log" | head -3 >&2
	echo "fleet-demo: another program holds these simulated AMT addresses; choose others with --address 127.2X.Y.1" >&2
	exit 1
fi

# One agent run, as on the managed computer; "index final-status first-status"
# goes to a file.  An agent that fails for a reason that may pass (site or
# MEI device not answering, firmware busy: exit 3, 5, 6, 7) runs once more
# after 2 s, as its systemd timer would; the result lists every such case.
run_agent() {
	local i=$1 n rc first attempt
	n=$(printf '%04d' "$i")
	for attempt in 1 2; do
		"$AGENT" --site "https://127.0.0.1:$PORT" --ca "$SITE/ca-chain.pem" \
			--enrol-secret-file "$SITE/enrol.secret" --mei "unix:$SIM/$n.mei" \
			--state-dir "$T/agents/$n" --hostname "pc$n" --json \
			> "$T/agents/$n.json" 2>> "$T/agents/$n.log"
		rc=$?
		[ "$attempt" = 1 ] && first=$rc
		case $rc in 3|5|6|7) [ "$attempt" = 1 ] && { cp "$T/agents/$n.json" "$T/agents/$n.first.json"; sleep 2; continue; } ;; esac
		break
	done
	echo "$i $rc $first" >> "$T/agents/exit"
}
export -f run_agent
export AGENT AMTSIM PORT SITE SIM T

say "== 4. amtprov-agent on each device ($PAR at a time), and the live view:"
if [ -n "$STATS" ]; then
	seq 1 "$N" | setsid python3 -c "$RUSAGE_PY" "$T/agents.rusage" \
		xargs -P "$PAR" -n 1 bash -c 'run_agent "$1"' _ &
else
	seq 1 "$N" | setsid xargs -P "$PAR" -n 1 bash -c 'run_agent "$1"' _ &
fi
XPID=$!
T0=$(date +%s.%N)
# the watch runs in the background and the script waits for it, so that a
# signal to the script (Ctrl-C, a CI's SIGTERM) is acted on at once
if [ -n "$STATS" ]; then
	python3 -c "$RUSAGE_PY" "$T/watch.rusage" "$AMTPROV" --dir "$SITE" watch \
		--expect "$N" --while-pid "$XPID" --timeout "$TIMEOUT" &
else
	"$AMTPROV" --dir "$SITE" watch --expect "$N" --while-pid "$XPID" --timeout "$TIMEOUT" &
fi
WPID=$!
wait "$WPID"
WATCH=$?
WPID=
T1=$(date +%s.%N)
wait "$XPID" 2>/dev/null
XPID=
[ "$WATCH" -ge 128 ] && exit 130	# the watch was interrupted

# --- did it work? ---
status=0
echo
echo "== 5. result"
agentmsg() { grep -o '"message": *"[^"]*"' "$1" 2>/dev/null | head -1 | cut -d'"' -f4; }
while read -r i rc first; do
	n=$(printf '%04d' "$i")
	if [ "$rc" != 0 ]; then
		echo "   agent of $(name "$i") failed (exit $rc): $(agentmsg "$T/agents/$n.json")"
	elif [ "$first" != 0 ]; then
		echo "   note: the agent of $(name "$i") failed once (exit $first: $(agentmsg "$T/agents/$n.first.json")) and worked when run again"
	fi
done < <(sort -n "$T/agents/exit" 2>/dev/null)
"$AMTPROV" --dir "$SITE" devices --brief --status provisioned --names | sort > "$T/provisioned.txt"
for i in $(seq 1 "$N"); do
	if [ "$i" != "$UNTRUSTED" ] && [ "$i" != "$WRONGOTP" ]; then
		name "$i"
		echo
	fi
done | sort > "$T/expected.txt"
notprov=$(comm -23 "$T/expected.txt" "$T/provisioned.txt")
nexp=$(wc -l < "$T/expected.txt")
ngot=$(comm -12 "$T/expected.txt" "$T/provisioned.txt" | wc -l)
if [ -z "$notprov" ]; then
	echo "   ok: all $nexp expected devices provisioned"
else
	echo "   FAILED: $((nexp - ngot)) of $nexp expected devices not provisioned: $(echo $notprov | cut -c1-300)"
	status=1
fi
# the planted failures must fail, for their reason
devid() { "$AMTPROV" --dir "$SITE" devices --brief --search "$1" | awk -v h="$1" '$2 == h {print $1}'; }
check_planted() {	# NAME STEP PATTERN WHY
	local id err
	id=$(devid "$1")
	err=$("$AMTPROV" --dir "$SITE" jobs --device "${id:-0}" --state failed --json 2>/dev/null |
		grep -o '"last_error":"[^"]*"' | head -1 | cut -d'"' -f4)
	if [ -n "$id" ] && [ "${err%%:*}" = "$2" ] && grep -q "$3" <<< "$err"; then
		echo "   ok: $1 (device $id) failed as planted ($4):"
		echo "       $err"
	else
		echo "   FAILED: $1 (device ${id:-?}) did not fail at step $2 for its planted reason ($4): ${err:-no failed job}"
		status=1
	fi
}
check_planted "$(name "$WRONGOTP")" otp-check "OTP mismatch" "wrong OTP"
check_planted "$(name "$UNTRUSTED")" connect "refused the provisioning TLS session" \
	"firmware does not trust the lab root"
# nothing was written to the wrong-OTP device: still in setup, no admin
# account, no certificate, no key pair
wshow=$("$AMTSIM" --state "$SIM" --show "$WRONGOTP" --json 2>&1)
if ! command -v python3 > /dev/null; then
	echo "   note: python3 missing: not checked that nothing was written to $(name "$WRONGOTP")"
elif python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
net = d.get("sections", {}).get("net", {})
written = [k for k in ("admin", "certs", "keys", "users", "tlsctx") if net.get(k)]
sys.exit(1 if d["provisioning"]["state"] != "in" or written else 0)
' <<< "$wshow" 2>/dev/null; then
	echo "   ok: nothing was written to $(name "$WRONGOTP") (still in setup, no account, certificate or key)"
else
	echo "   FAILED: $(name "$WRONGOTP") was changed by the service point:"
	echo "$wshow" | head -c 600
	status=1
fi
secs=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
if [ -n "$STATS" ]; then
	echo "wall $secs" >> "$STATS"
	echo "provisioned $ngot" >> "$STATS"
	cat "$T/agents.rusage" "$T/watch.rusage" >> "$STATS" 2>/dev/null
fi
echo "   wall time of steps 4-5: ${secs}s for $N devices"

OK_ID=$(devid "$(name 1)")
[ -n "$OK_ID" ] || OK_ID=1
cat <<EOF

== 6. inspect it yourself: the site is kept in $SITE
   (the demo stopped its processes; start the site again first)
   $AMTPROVD -c $SITE/amtprovd.conf &
   $AMTPROV --dir $SITE devices
   $AMTPROV --dir $SITE device show $OK_ID
   $AMTPROV --dir $SITE device password $OK_ID --reveal --reason "demo"
   $AMTPROV --dir $SITE device show $(devid "$(name "$WRONGOTP")")        # the wrong OTP
   $AMTPROV --dir $SITE devices --failed
   $AMTPROV --dir $SITE audit
   rm -rf $T                                    # when done
EOF
exit $status
