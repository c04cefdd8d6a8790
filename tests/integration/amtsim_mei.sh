#!/usr/bin/env bash
# amtsim over its MEI sockets with the real transport (src/lib/mei.c via
# `amtsim hostcmd`): several devices go PRE -> IN -> PRE -> IN; amtsim is
# killed with SIGKILL half-way, restarted, and every device must come back
# in the state it last acknowledged.
set -u
B=${AMTP_BUILD:?}/src/amtsim/amtsim
T=$(mktemp -d /tmp/amtsim-mei.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/log" ] && tail -20 "$T/log"; exit 1; }

N=6
start_sim() {
	rm -f "$T/log"	# never read the previous run's "ready"
	"$B" --state "$T/s" "$@" >"$T/log.new" 2>&1 &
	PID=$!
	for _ in $(seq 1 100); do
		if grep -q '^amtsim: ready' "$T/log.new" 2>/dev/null; then
			mv "$T/log.new" "$T/log"
			return 0
		fi
		kill -0 "$PID" 2>/dev/null || fail "amtsim exited"
		sleep 0.1
	done
	fail "amtsim not ready"
}
cmd() {	# device command [arg]: prints the JSON answer
	local dev=$1; shift
	"$B" hostcmd "unix:$T/s/$(printf %04d "$dev").mei" "$@" --json
}
state_of() {
	cmd "$1" get-provisioning-state | sed -n 's/.*"state":\([0-9]\).*/\1/p'
}
expect_ok() {	# device command [arg]
	local out
	out=$(cmd "$@") || fail "device $1: $2: exit $? ($out)"
	echo "$out" | grep -q '"status":0,' || fail "device $1: $2: $out"
}

# An address range of its own, so that tests of others running at the same
# time keep 127.20.0.x:16992/16993.
start_sim --devices $N --amt-versions 8.1.40,11.8.50,16.1.25 --address 127.20.231.252 \
	--dns-suffix fleet.example.test --wireless-every 2 --mebx-password 'Mebx!Pass1'
grep -q "device 0006 mei unix:$T/s/0006.mei address 127.20.232.1 amt 16.1.25 state pre" "$T/log" ||
	fail "device list"
listening() {	# address: 0 when something accepts on port 16992
	timeout 2 bash -c "exec 3<>/dev/tcp/$1/16992" 2>/dev/null
}

# Facts over MEI.
cmd 2 get-code-versions | grep -q '"AMT":"11.8.50"' || fail "code versions"
cmd 2 get-lan-interface-settings 1 | grep -q '"status":0,' || fail "wireless present"
out=$(cmd 1 get-lan-interface-settings 1); [ $? -eq 2 ] || fail "exit status for an AMT error"
echo "$out" | grep -q '"status":2501' || fail "wireless absent: $out"
cmd 1 get-lan-interface-settings 0 | grep -q '"ipv4":"127.20.231.252"' || fail "wired address"
cmd 3 get-pki-fqdn-suffix | grep -q '"suffix":"fleet.example.test"' || fail "suffix"

# expected[i]: the state device i last acknowledged
declare -a expected
for i in $(seq 1 $N); do
	[ "$(state_of "$i")" = 0 ] || fail "device $i not PRE at start"
	expected[$i]=0
done
# Steps per device: otp, start, stop, start.  Kill after 3 devices and a half.
step() {	# device step
	case $2 in
	1) expect_ok "$1" set-otp "OtpForDevice$(printf %04d "$1")xyz" --otp-nul ;;
	2) expect_ok "$1" start-configuration-ex 0; expected[$1]=1 ;;
	3) expect_ok "$1" stop-configuration; expected[$1]=0 ;;
	4) expect_ok "$1" start-configuration-ex; expected[$1]=1 ;;
	esac
}
# The network interface is off in PRE and on once configuration starts.
listening 127.20.231.252 && fail "device 1 listens in PRE"
for i in 1 2 3; do for s in 1 2 3 4; do step "$i" "$s"; done; done
for _ in 1 2 3 4 5 6 7 8 9 10; do listening 127.20.231.252 && break; sleep 0.2; done
listening 127.20.231.252 || fail "device 1 IN but not listening on 16992"
step 4 1; step 4 2; step 4 3
step 5 1; step 5 2

kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=
start_sim --provisioning-period 86400
grep -q "device 0004 .* state pre" "$T/log" || fail "device 4 after restart"
for i in $(seq 1 $N); do
	got=$(state_of "$i")
	[ "$got" = "${expected[$i]}" ] || fail "device $i: state $got after SIGKILL, want ${expected[$i]}"
done
# The OTP survived too, and the flash says so.
"$B" --state "$T/s" --show 5 --json --secrets | grep -q '"otp": "OtpForDevice0005xyz"' || fail "OTP of device 5"
"$B" --state "$T/s" --show 4 --json | grep -q '"otp": null' || fail "device 4 OTP cleared by stop"
# Finish the sequence and check everyone is IN.
step 4 4; step 5 3; step 5 4
for s in 1 2 3 4; do step 6 "$s"; done
for i in $(seq 1 $N); do
	[ "$(state_of "$i")" = 1 ] || fail "device $i not IN at the end"
done
# Illegal now: start again, unprovision of PRE elsewhere is covered by units.
out=$(cmd 1 start-configuration-ex 0)
echo "$out" | grep -q '"status":3,' || fail "start in IN: $out"
# A clean stop removes the sockets.
kill "$PID"; wait "$PID"; rc=$?; PID=
[ $rc -eq 0 ] || fail "SIGTERM exit status $rc"
[ ! -e "$T/s/0001.mei" ] || fail "socket left after SIGTERM"
echo "PASS"
